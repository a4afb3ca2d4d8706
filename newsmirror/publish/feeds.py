"""Atom feeds of the archive: `feeds/<slug>.xml` per source and `feeds/all.xml`.

A reader who cannot open the news sites can subscribe to these on the git host. Each
entry links to the archive's copy of the article and names the original as a related
link. These files are committed every hour, so by default they carry no bodies (a body
rewritten into a feed each hour costs more packed history than the article itself:
bench/growth.py); with `[archive] feed_content = true` each entry carries the archived
article (sanitised). The reading site's feeds (publish/site.py, on the history-less
branch `site`) always carry the bodies.

Like the lists, a feed is a pure function of what is archived: no "generated at" time,
the feed's <updated> is its newest entry's, so an hour with no news changes no byte.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from newsmirror.archive.article import ArticleFormatError, parse_article
from newsmirror.archive.paths import README, SHARDS_INDEX, feed_path, source_list_path
from newsmirror.archive.store import Store
from newsmirror.config import Config
from newsmirror.content.clean import sanitize_html
from newsmirror.dates import utc_stamp
from newsmirror.models import ArchivedEntry
from newsmirror.publish.links import original_link, quote_path
from newsmirror.publish.mirrors import remote_address, shard_file_address

FEED_SIZE = 50
ALL = "all"
ATOM_NS = "http://www.w3.org/2005/Atom"
ID_NAMESPACE = uuid.UUID("6f1c2b0e-4a7d-5c39-9e57-1b0d8a3c2f61")
"""Fixed, so an entry's id depends on nothing but its slug and file key."""

# Characters XML 1.0 cannot carry at all; lxml refuses them, so they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class FeedEntry:
    """One article as a feed shows it."""

    slug: str
    key: str
    path: str
    """Archive-relative path of the article file."""
    title: str
    link: str
    """The original article's address."""
    published_ms: int
    source_name: str
    content_html: str | None
    """The sanitised body; None when the file could not be read."""
    href: str | None = None
    """Where the archive's copy is when another repository holds it (a shard's web page
    of the file); None: `path` in this one."""


@dataclass(frozen=True)
class FeedInfo:
    name: str
    """The feed's file stem: a source slug or "all"."""
    title: str


def entry_id(slug: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'entry/{slug}/{key}')}"


def feed_id(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'feed/{name}')}"


def atom_time(epoch_ms: int) -> str:
    """RFC 3339 in UTC, whole seconds."""
    return utc_stamp(epoch_ms)


def archive_href(path: str, base_url: str | None) -> str:
    """Where the archive's copy of `path` is: under `base_url` when the archive's web
    address is known, else relative to the feed file (feeds/ is one folder down)."""
    quoted = quote_path(path)
    return f"{base_url.rstrip('/')}/{quoted}" if base_url else f"../{quoted}"


_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;"))
"""How lxml escapes an element's text: & < >, and CR as a reference so that a parser does
not fold it away ("&" first, as the others bring one in)."""
_ATTR_ESCAPES = (*_TEXT_ESCAPES, ('"', "&quot;"), ("\n", "&#10;"), ("\t", "&#9;"))
"""And an attribute's: also the quote, and as references the white space a parser would
normalise (LF, tab)."""


def _escaped(text: str, escapes: tuple[tuple[str, str], ...] = _TEXT_ESCAPES) -> str:
    """`text` without what XML cannot carry, escaped as lxml escapes it (`escapes`)."""
    text = _NOT_XML.sub("", text)
    for char, reference in escapes:
        if char in text:
            text = text.replace(char, reference)
    return text


def _text(text: str) -> str:
    return _escaped(text)


def _attr(value: str) -> str:
    return _escaped(value, _ATTR_ESCAPES)


def render_atom(info: FeedInfo, entries: Sequence[FeedEntry], base_url: str | None,
                where: Callable[[str], str] | None = None) -> bytes:
    """The exact bytes of one Atom 1.0 feed; `entries` newest first. `where`: the address
    readers of the feed open for a file of the archive (an article, a list, the README,
    a feed); by default the archive's own copy (`archive_href`). The feed names its own
    address only when `base_url` is known.

    Written as text, byte for byte what lxml's `tostring(pretty_print=True)` of the same
    elements gives (tests/publish/test_feeds_text.py compares the two on the feed corpus
    and on hostile text): a cold run renders 200 feeds of 50 entries, and building
    130,000 elements one by one cost it more than all its lists. The ids and times are
    our own ASCII (no character to escape)."""
    href = where or (lambda path: archive_href(path, base_url))
    page = README if info.name == ALL else source_list_path(info.name)
    out = ["<?xml version='1.0' encoding='utf-8'?>\n", f'<feed xmlns="{ATOM_NS}">\n',
           f"  <id>{feed_id(info.name)}</id>\n", f"  <title>{_text(info.title)}</title>\n",
           f"  <updated>{atom_time(max((e.published_ms for e in entries), default=0))}</updated>\n"]
    if base_url:
        out.append(f'  <link rel="self" type="application/atom+xml" href="{_attr(href(feed_path(info.name)))}"/>\n')
    out.append(f'  <link rel="alternate" href="{_attr(href(page))}"/>\n  <generator>newsmirror</generator>\n')
    for entry in entries:
        when = atom_time(entry.published_ms)
        name = _text(entry.source_name)
        out.append(f"  <entry>\n    <id>{entry_id(entry.slug, entry.key)}</id>\n"
                   f"    <title>{_text(entry.title)}</title>\n"
                   f"    <updated>{when}</updated>\n    <published>{when}</published>\n"
                   f'    <link rel="alternate" href="{_attr(entry.href or href(entry.path))}"/>\n')
        related = original_link(entry.link)
        if related:
            out.append(f'    <link rel="related" type="text/html" href="{_attr(related)}"/>\n')
        out.append(f"    <author>\n      <name>{name}</name>\n    </author>\n"
                   f'    <category term="{_attr(entry.slug)}" label="{_attr(entry.source_name)}"/>\n')
        if entry.content_html is not None:
            out.append(f'    <content type="html">{_text(entry.content_html)}</content>\n')
        out.append("  </entry>\n")
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")


def _entry(entry: ArchivedEntry, source_name: str, content: str | None,
           href: str | None = None) -> FeedEntry:
    return FeedEntry(slug=entry.slug, key=entry.key, path=entry.path, title=entry.title,
                     link=entry.link, published_ms=entry.published_ms,
                     source_name=source_name, content_html=content, href=href)


def sanitised_body(entry: ArchivedEntry, data: bytes | None) -> str | None:

    if data is None:
        return None
    try:
        article = parse_article(data, name=entry.path)
    except ArticleFormatError:
        return None
    return sanitize_html(article.body, base_url=entry.link)


class _Bodies:
    """Sanitised bodies, kept in the catalog database by file digest, so a run reads and
    sanitises only the articles it has not shown in a feed before."""

    def __init__(self, store):
        self.store = store
        self.catalog = store.catalog

    def prune(self, size: int, sources: int) -> None:
        """Forget bodies no feed shows any more (each feed shows a source's `size` newest;
        the combined feed's are among them), once they outnumber those by far."""
        if self.catalog.feed_bodies() > 2 * size * max(sources, 1) + 100:
            self.catalog.prune_feed_bodies(size)

    def get(self, entry: ArchivedEntry) -> str | None:
        found, html = self.catalog.feed_body(entry.path, entry.digest)
        if found:
            return html
        data = _read(self.store.file(entry))
        if data is None:  # not here (a closed shard without its clone): asked again next time
            return None
        html = sanitised_body(entry, data)
        self.catalog.put_feed_body(entry.path, entry.digest, html)
        return html


def write_feeds(config: Config, store: Store, *, changed: set[str] | None = None, size: int = FEED_SIZE) -> list[str]:
    """Write the feeds of the sources in `changed` (all when None, and any whose file is
    missing) and the combined one; returns the paths that changed. Entries carry their
    bodies only when `config.feed_content` is set."""
    bodies = _Bodies(store)

    def wanted(name: str) -> bool:
        return changed is None or name in changed or not (store.root / feed_path(name)).exists()

    away = None
    if (store.root / SHARDS_INDEX).exists():  # an archive with shards (archive/shards.py)

        away = shard_file_address(config, remote_address(store.repo, config.remote_name))
    written = []
    for relpath, data in render_feeds(config, store, bodies.get if config.feed_content else _no_body,
                                      config.web_url,
                                      wanted=wanted, combined=changed is None or bool(changed),
                                      size=size, away=away):
        if store.write(relpath, data):
            written.append(relpath)
    bodies.prune(size, len(config.sources))  # also what an archive with bodies left behind
    return written


def _no_body(entry: ArchivedEntry) -> None:
    return None


def render_feeds(config: Config, store: Store, body: Callable[[ArchivedEntry], str | None],
                 base_url: str | None, *, where: Callable[[str], str] | None = None,
                 wanted: Callable[[str], bool] = lambda name: True, combined: bool = True,
                 size: int = FEED_SIZE, away: Callable[[ArchivedEntry], str | None] | None = None
                 ) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of each feed `wanted` (by name) and of the combined one (when
    `combined`, or wanted), from the catalog of `store`; `body`: an entry's sanitised
    body (None: not readable). `base_url` and `where` as for `render_atom`; `away`: the
    address of an entry another repository holds (publish.mirrors.shard_file_address)."""
    names = {source.slug: source.name for source in config.sources}
    # A source slugged "all" would overwrite the combined feed; the combined feed wins.
    feeds = [FeedInfo(s.slug, s.name) for s in config.sources if s.slug != ALL and wanted(s.slug)]
    if combined or wanted(ALL):
        feeds.append(FeedInfo(ALL, config.title))
    for info in feeds:
        found = store.catalog.latest(None if info.name == ALL else info.name, size)
        entries = [_entry(e, names.get(e.slug, e.slug), body(e), away(e) if away else None)
                   for e in found]
        yield feed_path(info.name), render_atom(info, entries, base_url or None, where)


def _read(path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
