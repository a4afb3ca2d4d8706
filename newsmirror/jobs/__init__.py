"""The jobs that change an archive, side by side: `mirror` (the hourly run over every
source), `watch` (re-checking recent articles at their address) and `requests` (pages
archived on request), with `pages` (an article's own page, fetched, cached and extracted
for the mirror run) and `push`. Each opens the archive's store, takes its lock, commits through
`Store.commit` and pushes through `push.push_archive`. The stages they drive (sources,
fetch, parse, content, archive, publish) never import this package."""
