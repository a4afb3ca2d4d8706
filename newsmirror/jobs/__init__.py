"""The jobs that change an archive, side by side: `mirror` (the hourly run over every
source), `watch` (re-checking recent articles at their address), `requests` (pages
archived on request) and `rebuild` (everything derived, made again from the article
files), with `pages` (an article's own page, fetched, cached and extracted for the mirror
run). Each works in one `session.Session`: the archive's store opened with its lock held,
one commit through it, and its pushes to the primary remote and every mirror. The stages
they drive (sources, fetch, parse, content, archive, publish) never import this package."""
