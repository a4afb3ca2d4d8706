"""A static reading site rendered from the archive: home page, paginated source pages, a
page per article and an offline search index.

Every link is relative, so the site works on GitHub Pages, any static host, or opened
from disk. The only requests a page makes beyond its own files are the article images.

Layout of the output folder::

    index.html                       latest articles of every source, the source list
    search.html, search.js           search (the only script; reading never needs it)
    style.css
    sources/<slug>/index.html        a source's latest articles and its page list
    sources/<slug>/<n>.html          page n, counted from the oldest article, so a new
                                     article only changes the newest page
    articles/<slug>/<YYYY>/<MM>/<key>.html
    search/…                         the index (see newsmirror.publish.sitesearch)
    .newsmirror-site.db              what the site was built from (publish/sitestate.py)

A rebuild costs what changed, not the archive: the catalog names the articles new,
changed or gone since the last build (against the state's `seen`), and only their
pages, the pages of their sources from the first one they fall in (pages count from the
oldest article, so new articles touch the last pages), the home page, their sources'
feeds and the search segments they fall in are planned and rendered. A page is rendered
only when its inputs changed; a file is rewritten only when its bytes differ; a file of
an earlier build that no longer belongs is removed (never any file the state does not
list). When what every page shares changes (templates, title, copies, names, page
size), every page is rendered again; the search index is kept unless its own version
changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from newsmirror.archive.article import ArticleFormatError, parse_article
from newsmirror.archive.files import write_atomic
from newsmirror.archive.paths import ALL_FEED, ASSETS_DIR, README, source_list_path
from newsmirror.archive.store import Store
from newsmirror.config import Config
from newsmirror.dates import china_time
from newsmirror.models import ArchivedEntry
from newsmirror.publish import sitesearch as ix
from newsmirror.publish.links import original_link
from newsmirror.archive.shards import read_index
from newsmirror.publish.mirrors import reader_copies, remote_address, shard_site_url, site_url
from newsmirror.publish.sitestate import LEGACY_MANIFEST, STATE, SiteState
from newsmirror.content.clean import sanitize_html
from newsmirror.content.markup import Edit, Tag, apply_edits, escape_attr, set_attr, tokenize
from newsmirror.publish.derived import feed_list
from newsmirror.publish.feeds import archive_href, render_feeds, sanitised_body

SITE_FORMAT = 2
"""Bump when this module changes what it renders (template edits are noticed by hash)."""
MANIFEST = STATE
"""The file of the output folder that is not part of the site (never published)."""
PAGE_SIZE = 50
HOME_SIZE = 50
ASSETS = ("style.css", "search.js")


@dataclass
class SiteReport:
    out_dir: Path
    written: list[str] = field(default_factory=list)
    """Output-relative paths of the files (re)written by this build, the first
    WRITTEN_LISTED of them (a full build of a large archive writes hundreds of thousands:
    the counts below hold them all, and memory stays flat)."""
    files_written: int = 0
    pages_count: int = 0
    index_files_count: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    articles: int = 0
    sources: int = 0
    notes: list[str] = field(default_factory=list)
    full_index: bool = False
    """Whether the search index was rebuilt from every article (first build, new format)."""
    bytes: int = 0
    """What the site publishes (every file but the build's state), in bytes."""
    failed: dict[str, str] = field(default_factory=dict)
    """Archive path of each article that could not be built, and why: its page is left
    as the last build wrote it (or missing) and the next build tries it again; the rest
    of the site is built all the same."""

    @property
    def index_path(self) -> Path:
        return self.out_dir / "index.html"

    @property
    def pages_written(self) -> list[str]:
        return [p for p in self.written if p.endswith(".html")]

    @property
    def index_files_written(self) -> list[str]:
        return [p for p in self.written if p.startswith("search/")]

    def wrote(self, relpath: str) -> None:
        self.files_written += 1
        self.pages_count += relpath.endswith(".html")
        self.index_files_count += relpath.startswith("search/")
        if len(self.written) < WRITTEN_LISTED:
            self.written.append(relpath)


WRITTEN_LISTED = 10_000
"""The written files a SiteReport names (all of them are counted)."""


@dataclass(frozen=True)
class Listing:
    """One source as its pages show it."""

    slug: str
    name: str
    times: list[int]
    """The time of each of its articles, oldest first."""
    latest: list[ArchivedEntry]
    """Its newest articles (a page's worth), newest first."""
    first: int
    """The first numbered page to plan (1: all of them)."""
    tail: list[ArchivedEntry]
    """Its articles from page `first` on, oldest first."""


@dataclass(frozen=True)
class Page:
    """One HTML page to produce, with the data it shows."""

    path: str
    template: str
    context: dict
    entry: ArchivedEntry | None = None
    """For an article page: the entry whose file supplies the body."""


# -- pure helpers ------------------------------------------------------------------------
def article_href(entry: ArchivedEntry) -> str:
    """Site path of an article's page, from its archive path (stable once archived)."""
    parts = entry.path.split("/")
    if len(parts) != 5:  # an older mirror's articles/<folder>/<id>.md: by its stamp's month
        when = china_time(entry.published_ms)
        return f"articles/{entry.slug}/{when:%Y}/{when:%m}/{entry.key}.html"
    return f"articles/{entry.slug}/{parts[2]}/{parts[3]}/{entry.key}.html"


def relative(from_page: str, target: str) -> str:
    """`target` (site path) as a link relative to the page at site path `from_page`."""
    folder = from_page.split("/")[:-1]
    parts = target.split("/")
    same = 0
    while same < len(folder) and same < len(parts) - 1 and folder[same] == parts[same]:
        same += 1
    return "../" * (len(folder) - same) + "/".join(parts[same:])


def root_of(page: str) -> str:
    """The relative prefix that leads from `page` back to the site root ('' or '../…')."""
    return "../" * page.count("/")


def format_time(epoch_ms: int) -> str:
    return f"{china_time(epoch_ms):%Y-%m-%d %H:%M}"


def iso_time(epoch_ms: int) -> str:
    return china_time(epoch_ms).isoformat(timespec="seconds")


def page_count(articles: int, size: int) -> int:
    """Pages counted from the oldest article: page 1 holds the `size` oldest; only the
    last page grows, so earlier pages stay the same as articles arrive."""
    return max(1, -(-articles // size))


Away = Callable[[ArchivedEntry], str | None]
"""Where another site (a shard's) shows an article, absolute; None: on this site."""


def _item(entry: ArchivedEntry, page: str, names: dict[str, str], away: Away | None = None) -> dict:
    return {
        "href": (away and away(entry)) or relative(page, article_href(entry)),
        "title": entry.title,
        "time": format_time(entry.published_ms),
        "iso": iso_time(entry.published_ms),
        "source": names.get(entry.slug, entry.slug),
    }


def source_page_path(slug: str, number: int | None) -> str:
    return f"sources/{slug}/{'index' if number is None else number}.html"


def home_page(site_title: str, listed: list[tuple[str, str, int, int]],
              latest: list[ArchivedEntry], names: dict[str, str], away: Away | None = None) -> Page:
    """The home page: `latest` (newest first) and every source (slug, name, articles,
    newest time) `listed`."""
    home = "index.html"
    return Page(home, "home.html.j2", {
        "title": site_title,
        "all_feeds": True,
        "items": [_item(e, home, names, away) for e in latest],
        "sources": [{"name": name, "href": source_page_path(slug, None), "count": count,
                     "latest": format_time(newest)} for slug, name, count, newest in listed],
        "total": sum(count for _, _, count, _ in listed),
    })


def shard_home(site_title: str, year: str, latest: list[ArchivedEntry], names: dict[str, str]) -> Page:
    """The home page of a shard's site: its newest articles, and the way to the main
    site (every source, every list, search), which the base template links to."""
    home = "index.html"
    return Page(home, "shard.html.j2", {"title": f"{site_title} · {year}", "year": year,
                                        "items": [_item(e, home, names) for e in latest]})


def source_pages(source: Listing, names: dict[str, str], page_size: int,
                 away: Away | None = None) -> list[Page]:
    """A source's landing page and its numbered pages from `source.first` on (no I/O)."""
    times = source.times
    total = page_count(len(times), page_size)
    numbered = []
    for n in range(1, total + 1):
        chunk = times[(n - 1) * page_size : n * page_size]
        numbered.append({"number": n, "href": source_page_path(source.slug, n), "count": len(chunk),
                         "first": format_time(chunk[0])[:10] if chunk else "",
                         "last": format_time(chunk[-1])[:10] if chunk else ""})
    landing = source_page_path(source.slug, None)
    pages = [Page(landing, "source.html.j2", {
        "title": source.name,
        "source": source.name,
        "feed_slug": source.slug,
        "count": len(times),
        "items": [_item(e, landing, names, away) for e in source.latest],
        "pages": [{**p, "href": relative(landing, str(p["href"]))} for p in reversed(numbered)],
        "number": None,
    })]
    for n in range(source.first, total + 1):
        start = (n - source.first) * page_size
        shown = source.tail[start : start + page_size]
        path = source_page_path(source.slug, n)
        newer = source_page_path(source.slug, n + 1) if n < total else None
        older = source_page_path(source.slug, n - 1) if n > 1 else None
        pages.append(Page(path, "source.html.j2", {
            "title": f"{source.name} · 第 {n} 页",
            "source": source.name,
            "feed_slug": source.slug,
            "items": [_item(e, path, names, away) for e in reversed(shown)],
            "number": n,
            "landing": relative(path, landing),
            "newer": relative(path, newer) if newer else None,
            "older": relative(path, older) if older else None,
            "range": numbered[n - 1],
        }))
    return pages


def article_page(name: str, entry: ArchivedEntry, home: str | None = None) -> Page:
    """The page of one article of the source called `name` (`home`: the main site's
    address, for a shard's site, which has no source pages of its own)."""
    path = article_href(entry)
    source = source_page_path(entry.slug, None)
    return Page(path, "article.html.j2", {
        "title": entry.title,
        "source": name,
        "feed_slug": entry.slug,
        "source_href": f"{home}{source}" if home else relative(path, source),
        "time": format_time(entry.published_ms),
        "iso": iso_time(entry.published_ms),
        "digest": entry.digest,
    }, entry=entry)


def article_key(common: str, name: str, entry: ArchivedEntry) -> str:
    """What an article page is rendered from, without planning it: `common` (see
    `shared_key`) and the entry fields its context is made of (path, title, source name,
    time, digest). Cheap, so an unchanged article costs no formatting."""
    blob = "\0".join((common, entry.path, entry.title, name, str(entry.published_ms), entry.digest))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def page_key(page: Page, common: str) -> str:
    """What a page is rendered from: `common` and the data it shows."""
    blob = json.dumps([common, page.template, page.context], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def shared_key(config: Config, templates: str, shared: dict, page_size: int, home_size: int) -> str:
    """What every page depends on: this module's format, the templates, the site's title,
    `shared` (what every page shows, such as the copies), the sources' names and order
    and the page sizes. When it changes, every page is rendered again."""
    blob = json.dumps([SITE_FORMAT, templates, config.title, shared,
                       [[s.slug, s.name] for s in config.sources], page_size, home_size],
                      ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# -- article bodies ----------------------------------------------------------------------
LOCAL_ORIGIN = "https://newsmirror.invalid/"
_LOCAL_ASSET = re.compile(r"(?<=[\"'\s,=])(?:\.\./){4}assets/")
def reader_body(html: str, link: str) -> str:
    """The article HTML made safe to show: sanitised (scripts, handlers and foreign URL
    schemes removed, addresses made absolute), images lazy and sent without a Referer,
    audio/video not preloaded, embedded players replaced by a link to the player."""
    # Links to the archive's own images (download_images) are relative to the article;
    # keep them so instead of resolving them against the original site. An article's
    # images are in the repository that holds it, and each site copies its repository's.
    protected = _LOCAL_ASSET.sub(LOCAL_ORIGIN + f"{ASSETS_DIR}/", html)
    clean = sanitize_html(protected, base_url=link).replace(LOCAL_ORIGIN, "../../../../")
    edits: list[Edit] = []
    in_iframe = False
    for token in tokenize(clean):
        if not isinstance(token, Tag):
            if in_iframe:
                edits.append(Edit(token.start, token.end, ""))
            continue
        if token.name == "img" and not token.closing:
            edits.append(set_attr(token, "loading", "lazy"))
            edits.append(set_attr(token, "referrerpolicy", "no-referrer"))
        elif token.name in ("video", "audio") and not token.closing:
            edits.append(set_attr(token, "preload", "none"))
        elif token.name == "iframe":
            in_iframe = not token.closing
            src = token.attr("src")
            text = ""
            href = original_link(src.value) if src is not None else None
            if not token.closing and href:
                text = (f'<a class="embed" href={escape_attr(href)} rel="noopener noreferrer">'
                        "▶ 打开嵌入的媒体（外部网站）</a>")
            edits.append(Edit(token.start, token.end, text))
    return apply_edits(clean, edits)


# -- the build ---------------------------------------------------------------------------
def templates_hash() -> str:
    """Fingerprint of the templates, the CSS and the script: any edit re-renders."""
    digest = hashlib.sha256()
    folder = resources.files("newsmirror.publish") / "templates"
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.is_file():
            digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("newsmirror.publish", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env



class _Build:
    """One build: what it reads, where it writes, what it has written."""

    def __init__(self, config: Config, store: Store, out_dir: Path, report: SiteReport,
                 state: SiteState, page_size: int, home_size: int, shard: str | None = None):
        self.config, self.store, self.out, self.report = config, store, out_dir, report
        self.state, self.page_size, self.home_size = state, page_size, home_size
        self.shard = shard
        """None: the main site; else the year of the shard whose site this is."""
        self.take_shard: Callable[[str], object] | None = None
        """See build_site."""
        self.env = _environment()
        self.names = {s.slug: s.name for s in config.sources}
        self.primary = remote_address(store.repo, config.remote_name)
        self.shared = elsewhere(config, self.primary)
        self.home = site_url(config, self.primary) if shard is not None else None
        """The main site's address on a shard's site (its pages lead there); None on the main one."""
        self.placement = ((shard_site_url(config, "{year}", self.primary) or "")
                          if read_index(store.root) is not None else None)
        """The rule of the shards' sites' addresses when the archive has shards (None: it
        has none, and every article is on the main site)."""
        self.sites = shard_sites(config, store.root, self.primary) if shard is None else {}
        keyed = {**self.shared, **({"home": self.home} if self.home else {}),
                 **({"shards": self.placement} if self.placement is not None else {})}
        self.common = shared_key(config, templates_hash(), keyed, page_size, home_size)

    def search_key(self, key: str) -> str:
        """The key an index file of this site hands search.js: a shard's site's are
        `<YEAR>:<key>`, so that the main site's search page, which loads them beside its
        own, tells them apart."""
        return f"{self.shard}:{key}" if self.shard is not None else key

    def away(self, entry: ArchivedEntry) -> str | None:
        """Where a shard's own site shows `entry` (absolute), when the main site builds
        and the shard holding it has a site (`shard_site_url`); None: on this site."""
        url = self.sites.get(entry.shard) if entry.shard else None
        return f"{url}{quote(article_href(entry), safe='/-_.~')}" if url else None

    # -- files ----------------------------------------------------------------------------
    def emit(self, relpath: str, data: bytes, key: str | None = None) -> None:
        """Write one file of the site (when its bytes differ) and record it under `key`
        (default: the bytes' hash)."""
        if write_atomic(self.out / relpath, data):
            self.report.wrote(relpath)
        self.state.put_file(relpath, key if key is not None else hashlib.sha256(data).hexdigest())

    def current(self, relpath: str, key: str) -> bool:
        """Whether the file at `relpath` is there, made from `key`."""
        return self.state.file_key(relpath) == key and (self.out / relpath).is_file()

    def remove(self, relpath: str) -> None:
        """Remove a file an earlier build wrote (nothing when the state does not list it)."""
        if self.state.file_key(relpath) is None:
            return
        self.state.forget_file(relpath)
        target = self.out / relpath
        if target.is_file():
            target.unlink()
            self.report.removed.append(relpath)
            _prune_dirs(target.parent, self.out)

    def render(self, page: Page, **extra) -> bytes:
        root = root_of(page.path)
        context = dict(page.context, site_title=self.config.title, root=root,
                       home=self.home or root, **self.shared, **extra)
        return self.env.get_template(page.template).render(context).encode("utf-8")

    def page(self, page: Page) -> None:
        key = page_key(page, self.common)
        if not self.current(page.path, key):
            self.emit(page.path, self.render(page), key)

    # -- articles ---------------------------------------------------------------------------
    def data(self, entry: ArchivedEntry) -> bytes:
        """The bytes of an article's file, its shard's clone made first when it is not here."""
        path = self.store.file(entry)
        if entry.shard and self.take_shard is not None and not path.exists():
            self.take_shard(entry.shard)
        return path.read_bytes()

    def read(self, entry: ArchivedEntry):
        return parse_article(self.data(entry), name=entry.path)

    def text(self, entry: ArchivedEntry) -> str | None:
        """The plain text of an article's body, for the index (nothing kept in memory);
        None when the article could not be read (recorded as failed)."""
        try:
            return ix.search_text(self.read(entry).body)
        except Exception as err:  # noqa: BLE001 - one bad article costs its entry, never the build
            self.failed(entry, err)
            return None

    def failed(self, entry: ArchivedEntry, err: Exception) -> None:
        self.report.failed.setdefault(entry.path, failure_reason(err))

    def showable(self, entry: ArchivedEntry) -> bool:
        """Whether the site can list the entry: one whose time or path the pages cannot
        show is recorded as failed and left out, instead of failing every page that
        would list it."""
        try:
            format_time(entry.published_ms)
            iso_time(entry.published_ms)
            article_href(entry)
        except Exception as err:  # noqa: BLE001 - one bad article costs its page, never the build
            self.failed(entry, err)
            return False
        return True

    def article(self, entry: ArchivedEntry) -> None:
        if self.away(entry):  # on its shard's site (a page an earlier build wrote goes)
            self.remove(article_href(entry))
            return
        name = self.names.get(entry.slug, entry.slug)
        key = article_key(self.common, name, entry)
        page = article_page(name, entry, self.home)
        if self.current(page.path, key):
            return
        try:
            article = self.read(entry)
            data = self.render(page, body=Markup(reader_body(article.body, article.link)),
                               link=original_link(article.link))
        except Exception as err:  # noqa: BLE001 - one bad article costs its page, never the build
            self.failed(entry, err)
            # A page an earlier build wrote stays, under a key that never matches, so
            # the next build renders it again.
            if (self.out / page.path).is_file():
                self.state.put_file(page.path, "failed")
            else:
                self.state.forget_file(page.path)
            return
        self.emit(page.path, data, key)


def shard_sites(config: Config, root: Path, primary: str | None = None) -> dict[str, str]:
    """The shards whose articles are published on a site of their own, oldest first:
    year -> that site's address (`shard_site_url`). Every shard the index of the archive
    at `root` names, when its site's address can be derived; the main site shows the
    others' articles itself."""
    index = read_index(root)
    found = {year: shard_site_url(config, year, primary) for year in (index.years if index else ())}
    return {year: url for year, url in found.items() if url}


def shard_site_dir(out_dir: Path, year: str) -> Path:
    """Where the site of a shard is built: beside the main site's folder, `<folder>-<YEAR>`
    (never inside it: each is published on its own)."""
    return out_dir.with_name(f"{out_dir.name}-{year}")


def failure_reason(err: Exception) -> str:
    """Why one article could not be built: the problem with its file, or a bug."""
    if isinstance(err, (ArticleFormatError, OSError)):
        return str(err)
    return f"internal error (a bug in newsmirror; please report it): {type(err).__name__}: {err}"


@dataclass
class _Changes:
    """What the catalog changed since the last build, as the state now has it."""

    touched: list[str] | None = field(default_factory=list)
    """Paths of the articles new or changed (None: everything is new)."""
    first: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Each source changed, and the first (time, path) at which its pages changed."""
    removed_docs: set[int] = field(default_factory=set)
    """The search ids of the articles the site no longer shows."""

    def affect(self, entry: ArchivedEntry) -> None:
        at = (entry.published_ms, entry.path)
        if entry.slug not in self.first or at < self.first[entry.slug]:
            self.first[entry.slug] = at


def build_site(config: Config, store: Store, out_dir: Path, *, page_size: int = PAGE_SIZE,
               home_size: int = HOME_SIZE, shard: str | None = None,
               take_shard: Callable[[str], object] | None = None) -> SiteReport:
    """Render the archive of `store` into `out_dir`, rewriting only what changed: the
    main site, or (`shard`) the site of the articles that shard holds (`shard_sites`).
    `take_shard(year)`: make the clone of a shard whose files are not here (Shards.take),
    called when the build first reads one of its articles (an hour on a new runner
    reads no closed shard's, so their clones are made only for a build that needs them)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = SiteReport(out_dir=out_dir)
    state = SiteState(out_dir / STATE)
    try:
        legacy = _legacy_files(out_dir) if state.fresh else []
        # The catalog compares itself with the state before this build writes to it.
        diff = None if state.fresh else store.catalog.changed_since(state.path, shard)
        build = _Build(config, store, out_dir, report, state, page_size, home_size, shard)
        build.take_shard = take_shard
        everything = state.get_meta("pages") != build.common
        state.begin()
        changes = _take_changes(build, diff)
        touched = None if everything else changes.touched
        for entry in state.every_seen() if touched is None else _seen(state, touched):
            build.article(entry)
        _statics(build)  # after the articles: reading them made the clones of the shards they need

        counts = state.sources()
        report.articles = sum(count for count, _ in counts.values())
        order = [s.slug for s in config.sources if s.slug in counts]
        order += sorted(set(counts) - set(order))
        names = {slug: build.names.get(slug, slug) for slug in order}
        report.sources = len(order)
        if shard is not None:
            build.page(shard_home(config.title, shard, state.latest(None, home_size), names))
            _update_search(build, changes.removed_docs, changes.touched, names)
        else:
            for slug in order if everything else sorted(changes.first):
                _source(build, slug, names, None if everything else changes.first[slug])
            build.page(home_page(config.title, [(s, names[s], *counts[s]) for s in order],
                                 state.latest(None, home_size), names, build.away))
            build.page(Page("search.html", "search.html.j2", {"title": "搜索",
                                                               "script_origins": _origins(build)}))
            _site_feeds(build, names, everything, set(changes.first))
            _update_search(build, changes.removed_docs, changes.touched, names)

        for relpath in legacy:
            if state.file_key(relpath) is None and (out_dir / relpath).is_file():
                (out_dir / relpath).unlink()
                report.removed.append(relpath)
                _prune_dirs((out_dir / relpath).parent, out_dir)
        (out_dir / LEGACY_MANIFEST).unlink(missing_ok=True)
        state.retry(report.failed)
        state.set_meta("pages", build.common)
        report.unchanged = state.file_count() - report.files_written
        state.commit()
    finally:
        state.close()
    report.bytes = published_bytes(out_dir)
    return report


def published_bytes(folder: Path) -> int:
    """The bytes a site folder publishes: its files but the build's state (and any .git)."""
    total = 0
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != ".git":
                        pending.append(Path(entry.path))
                elif not entry.name.startswith((STATE, LEGACY_MANIFEST)):
                    total += entry.stat(follow_symlinks=False).st_size
    return total


def _seen(state: SiteState, paths: list[str]):
    for path in paths:
        known = state.seen(path)
        if known is not None:
            yield known[0]


def _legacy_files(out_dir: Path) -> list[str]:
    """The files an older build listed in its JSON manifest (removed unless this build
    writes them again)."""
    try:
        data = json.loads((out_dir / LEGACY_MANIFEST).read_text(encoding="utf-8"))
        return sorted(str(p) for p in data["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _statics(build: _Build) -> None:
    """The style sheet, the script (not on a shard's site: its search is the main site's),
    and the images a source downloaded into the site's repository."""
    folder = resources.files("newsmirror.publish") / "templates"
    for name in ASSETS if build.shard is None else ASSETS[:1]:
        build.emit(name, (folder / name).read_bytes())
    build.emit(".nojekyll", b"", "")
    # Images a source downloaded into the archive (download_images) go to the same place
    # in the site: article pages sit as deep as article files, so their links still hold.
    # The names are content hashes, so a name that is already there is the same file.
    found = set()
    roots = _asset_roots(build)
    for root in roots:
        for path in sorted((root / ASSETS_DIR).rglob("*")):
            if path.is_file():
                relpath = path.relative_to(root).as_posix()
                if relpath in found:
                    continue  # stored again in a shard: the same bytes
                found.add(relpath)
                if not build.current(relpath, path.name):
                    build.emit(relpath, path.read_bytes(), path.name)
    if not all(root.is_dir() for root in roots):
        # A closed shard whose clone is not here (the workflow's cache keeps the open
        # one's alone) and whose articles this build did not read: its images, copied
        # by an earlier build, are not known to be gone, and stay.
        return
    for relpath in build.state.files_under(f"{ASSETS_DIR}/"):
        if relpath not in found:
            build.remove(relpath)


def _asset_roots(build: _Build) -> list[Path]:
    """The repositories whose images the site shows: an article's are in the repository
    that holds it, so a shard's site shows its shard's, and the main site the main
    repository's and those of every shard whose articles have no site of their own."""
    if build.shard is not None:
        return [build.store.shard_root(build.shard)]
    index = read_index(build.store.root)
    return [build.store.root, *(build.store.shard_root(year) for year in (index.years if index else ())
                                if year not in build.sites)]


def _take_changes(build: _Build, diff: tuple[list[ArchivedEntry], list[str]] | None) -> _Changes:
    """Bring the state's `seen` in line with the catalog (`diff`: what changed since the
    last build; None: a first build, every entry is new), removing the pages of the
    articles gone."""
    state = build.state
    changes = _Changes(touched=None if diff is None else [])

    def drop(path: str) -> None:
        known = state.seen(path)
        if known is None:
            return
        old, doc = known
        changes.affect(old)
        if doc is not None:
            changes.removed_docs.add(doc)
        build.remove(article_href(old))
        state.forget_seen(path)

    entries, gone = (build.store.catalog.entries(shard=build.shard), []) if diff is None else diff
    for path in gone:
        drop(path)
    for entry in entries:
        if not build.showable(entry):
            drop(entry.path)
            continue
        if changes.touched is not None:
            known = state.seen(entry.path)
            if known is not None:
                old = known[0]
                changes.affect(old)
                if article_href(old) != article_href(entry):
                    build.remove(article_href(old))
            changes.touched.append(entry.path)
        state.put_seen(entry)
        changes.affect(entry)
    return changes


def _source(build: _Build, slug: str, names: dict[str, str], since: tuple[int, str] | None) -> None:
    """Plan a source's pages from the first one holding `since` (None: all of them), or
    remove them all when it has no article left."""
    state, size = build.state, build.page_size
    folder = f"sources/{slug}/"
    had = [p for p in state.files_under(folder) if p != source_page_path(slug, None)]
    times = state.times(slug)
    if not times:
        for relpath in state.files_under(folder):
            build.remove(relpath)
        return
    total = page_count(len(times), size)
    first = 1 if since is None else state.position(slug, *since) // size + 1
    if len(had) != total:  # the last page gained or lost its link to a newer one
        first = min(first, max(1, min(len(had), total)))
    first = min(first, total)
    listing = Listing(slug, names[slug], times, state.latest(slug, size), first,
                      state.oldest_first(slug, (first - 1) * size))
    for page in source_pages(listing, names, size, build.away):
        build.page(page)
    numbered = {source_page_path(slug, n) for n in range(1, total + 1)}
    for relpath in had:
        if relpath not in numbered:
            build.remove(relpath)


def elsewhere(config: Config, primary: str | None = None) -> dict:
    """What every page tells readers about the other copies of the archive (each with its
    address and combined feed) and the site's own feeds: at the site's address when it
    is known (`site_url`), else relative to the page (`local`)."""
    copies = reader_copies(config, primary)
    url = site_url(config, primary)
    feeds = [{"name": name, "href": f"{url}{path}" if url else path, "local": not url,
              "slug": None if path == ALL_FEED else PurePosixPath(path).stem}
             for name, path in feed_list(config)]
    return {"copies": [{"name": c.name, "web": c.web, "feed": c.feed} for c in copies],
            "feeds": feeds}


def _site_feeds(build: _Build, names: dict[str, str], everything: bool, changed: set[str]) -> None:
    """The site's own feeds (feeds/<slug>.xml, feeds/all.xml): the archive's feeds, with
    every link leading to the site's pages, absolute when the site's address is known.
    Only the feeds of the sources changed are rendered (all of them when `everything`)."""
    if not (everything or changed):
        return
    url = site_url(build.config, build.primary)
    lists = {source_list_path(slug): source_page_path(slug, None) for slug in names}

    def where(path: str) -> str:
        if path in lists:
            shown = lists[path]
        elif path == README:
            shown = "index.html"
        elif path.startswith("feeds/"):
            shown = path
        else:
            known = build.state.seen(path)
            if known is not None and (elsewhere := build.away(known[0])):
                return elsewhere
            shown = article_href(known[0]) if known is not None else "index.html"
        return archive_href(shown, url)  # relative: from feeds/, one folder down

    bodies: dict[str, str | None] = {}  # the combined feed shows the sources' articles again

    def body(entry: ArchivedEntry) -> str | None:
        if entry.path not in bodies:
            try:
                data: bytes | None = build.data(entry)
            except OSError:
                data = None
            try:
                bodies[entry.path] = sanitised_body(entry, data)
            except Exception as err:  # noqa: BLE001 - one bad article costs its feed body
                build.failed(entry, err)
                bodies[entry.path] = None
        return bodies[entry.path]

    written = set()
    for relpath, data in render_feeds(build.config, build.store, body, url, where=where,
                                      wanted=lambda name: everything or name in changed):
        build.emit(relpath, data)
        written.add(relpath)
    if everything:
        for relpath in build.state.files_under("feeds/"):
            if relpath not in written:
                build.remove(relpath)


def _prune_dirs(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# -- the search index --------------------------------------------------------------------
def _index_version(build: _Build) -> str:
    """What the index is made with: the tokens, its layout and (an archive with shards)
    the rule of the shards' sites' addresses its records link to."""
    made = [ix.TOKENIZER_VERSION, ix.SHARDS, ix.SEGMENT_SIZE, ix.DOC_CHUNK, ix.fold_digest()]
    # With shards, each site indexes the articles it shows (2: the main site no longer
    # indexes those of shards with a site of their own, and each shard's site does).
    return json.dumps(made if build.placement is None else [*made, build.placement, 2, build.shard])


def _doc_record(build: _Build, entry: ArchivedEntry, text: str) -> list:
    return [entry.title, article_href(entry), entry.slug,  # a site indexes what it shows
            format_time(entry.published_ms)[:10], ix.snippet(text)]


def _update_search(build: _Build, removed: set[int], touched: list[str] | None,
                   names: dict[str, str]) -> None:
    """Bring search/ in line with the archive. Only the segments and doc chunks holding an
    added, changed or removed article are read and rewritten; on a first build, a format
    change or a damaged index everything is rebuilt.

    An article keeps its id across builds, and a new one takes the next id, so new
    articles only ever touch the newest segment. A full build numbers the articles by
    time; after a removal (a gap a full build closes) or an article added with an older
    time than some already there, an incremental build's ids differ from a full build's
    (the answers are the same): numbering them as a full build would moves every later
    id, which is a rewrite of every segment after it."""
    state = build.state
    newest = int(state.get_meta("search_next") or 0) // ix.SEGMENT_SIZE
    full = (state.get_meta("search") != _index_version(build)
            or any(not (build.out / p).is_file()
                   for p in state.files_under(f"search/{newest}/") + state.files_under("search/meta")))
    try:
        _index(build, full, removed, touched)
    except (OSError, ValueError) as err:
        if full:
            raise
        build.report.notes.append(f"the search index was unreadable ({err}); rebuilt it")
        full = True
        _index(build, full, set(), None)
    build.report.full_index = full
    meta = {"shards": ix.SHARDS,
            "segments": int(state.get_meta("search_next") or 0) // ix.SEGMENT_SIZE + 1,
            "chunk": ix.DOC_CHUNK, "sources": names, "version": ix.TOKENIZER_VERSION}
    if build.sites:  # the shards' sites index their own articles: search.js asks them too
        meta["parts"] = [{"year": year, "url": url} for year, url in sorted(build.sites.items(), reverse=True)]
    source, target = ix.fold_pairs()
    for name, payload in (("meta", meta), ("fold", {"from": source, "to": target})):
        build.emit(f"search/{name}.js", ix.script_file(build.search_key(name), payload))


def _origins(build: _Build) -> list[str]:
    """The origins of the shards' sites whose search files the search page loads (its
    Content-Security-Policy allows them as script sources). Every one, the main site's own
    host included: the page is also read where 'self' is another origin (a mirror's host,
    `newsmirror serve`, a folder on disk)."""
    found = {(p.scheme, p.netloc) for p in map(urlsplit, build.sites.values())}
    return [f"{scheme}://{netloc}" for scheme, netloc in sorted(found)]


def _index(build: _Build, full: bool, removed: set[int], touched: list[str] | None) -> None:
    """Number the articles without an id, then index each segment holding one to index
    or a removed id (`touched`: the articles that may need it; None: any)."""
    state = build.state
    leftovers: list[str] = []
    if full:
        leftovers = state.files_under("search/")
        for relpath in leftovers:
            state.forget_file(relpath)
        state.forget_search()
        state.set_meta("search_next", "0")
        removed, touched = set(), None
    next_id = int(state.get_meta("search_next") or 0)
    unnumbered = state.unnumbered(NUMBER_BATCH, elsewhere=build.sites)
    while unnumbered:  # in batches: a full build holds no list of every article
        state.number((next_id + i, path) for i, (_, path) in enumerate(unnumbered))
        next_id += len(unnumbered)
        unnumbered = state.unnumbered(NUMBER_BATCH, unnumbered[-1], elsewhere=build.sites)
    state.set_meta("search_next", str(next_id))
    state.set_meta("search", _index_version(build))

    by_segment: dict[int, set[int]] = {}
    for doc_id in removed:
        by_segment.setdefault(doc_id // ix.SEGMENT_SIZE, set()).add(doc_id)
    batch: list[tuple[int, ArchivedEntry, bool]] = []
    for item in state.to_index(touched):
        if batch and item[0] // ix.SEGMENT_SIZE != batch[0][0] // ix.SEGMENT_SIZE:
            segment = batch[0][0] // ix.SEGMENT_SIZE
            _index_segment(build, full, segment, batch, by_segment.pop(segment, set()))
            batch = []
        batch.append(item)
    if batch:
        segment = batch[0][0] // ix.SEGMENT_SIZE
        _index_segment(build, full, segment, batch, by_segment.pop(segment, set()))
    for segment, ids in sorted(by_segment.items()):
        _index_segment(build, full, segment, [], ids)
    for relpath in leftovers:
        if state.file_key(relpath) is None and (build.out / relpath).is_file():
            state.put_file(relpath, "")  # so that remove() takes it
            build.remove(relpath)


NUMBER_BATCH = 10_000
"""Articles given their search ids at a time."""


def _read_existing(build: _Build, relpath: str) -> dict:
    if build.state.file_key(relpath) is None:
        return {}
    data = ix.read_script_file((build.out / relpath).read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"{relpath}: not an object")
    return data


def _replace(build: _Build, relpath: str, payload: dict | None) -> None:
    """Write (or, when empty, remove) one index file."""
    if payload:
        build.emit(relpath, ix.script_file(build.search_key(ix.file_key(relpath)), payload))
    else:
        build.remove(relpath)


def _index_segment(build: _Build, full: bool, segment: int,
                   docs: list[tuple[int, ArchivedEntry, bool]], removed: set[int]) -> None:
    """Rewrite the postings and doc chunks of one segment: `docs` (id, entry, indexed
    before) to index, each article read once, and the `removed` ids dropped."""
    chunks: dict[int, dict] = {}

    def chunk(number: int) -> dict:
        if number not in chunks:
            chunks[number] = {} if full else _read_existing(build, ix.docs_path(number))
        return chunks[number]

    for doc_id in removed:
        chunk(doc_id // ix.DOC_CHUNK).pop(str(doc_id), None)
    stale = removed | {doc_id for doc_id, _, before in docs if before}
    shards: dict[int, ix.Postings] = {}
    dirty: set[int] = set()

    def load(shard: int) -> None:
        shards[shard] = ix.decode_shard(_read_existing(build, ix.shard_path(segment, shard)))

    if not full and stale:  # an id may be anywhere: every shard of the segment is read
        for shard in range(ix.SHARDS):
            load(shard)
            if ix.remove_documents(shards[shard], stale):
                dirty.add(shard)
    done: list[tuple[str, bool]] = []

    def documents():
        for doc_id, entry, _ in docs:
            text = build.text(entry)
            done.append((entry.path, text is not None))
            if text is None:  # indexed by its title alone until a build can read it
                text = ""
            chunk(doc_id // ix.DOC_CHUNK)[str(doc_id)] = _doc_record(build, entry, text)
            yield doc_id, ix.tokens(entry.title + "\n" + text)

    added: ix.Postings = {}
    ix.add_documents(added, documents())
    if not full:
        for shard in {ix.shard_of(token) for token in added} - set(shards):
            load(shard)
    dirty |= ix.merge_into_shards(shards, added)
    for shard in sorted(dirty):
        _replace(build, ix.shard_path(segment, shard), ix.encode_shard(shards[shard]) or None)
    for number, records in sorted(chunks.items()):
        _replace(build, ix.docs_path(number), records or None)
    build.state.indexed(done)
