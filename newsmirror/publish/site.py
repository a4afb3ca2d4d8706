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
    .newsmirror-site.json            manifest: every generated file and the inputs it was
                                     rendered from, so a rebuild writes only what changed

Rebuilding re-renders a page only when its inputs (entries, names, templates) changed;
a file is rewritten only when its bytes differ; files of earlier builds that no longer
exist in the archive are removed (never any file the manifest does not list).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from newsmirror.archive.article import ArticleFormatError, parse_article
from newsmirror.archive.files import write_atomic
from newsmirror.archive.paths import ASSETS_DIR, README, source_list_path
from newsmirror.archive.store import Store
from newsmirror.config import Config
from newsmirror.dates import china_time
from newsmirror.models import ArchivedEntry
from newsmirror.publish import sitesearch as ix
from newsmirror.publish.links import original_link
from newsmirror.publish.mirrors import remote_address, site_url

SITE_FORMAT = 1
"""Bump when this module changes what it renders (template edits are noticed by hash)."""
MANIFEST = ".newsmirror-site.json"
PAGE_SIZE = 50
HOME_SIZE = 50
ASSETS = ("style.css", "search.js")


@dataclass
class SiteReport:
    out_dir: Path
    written: list[str] = field(default_factory=list)
    """Output-relative paths of the files (re)written by this build."""
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    articles: int = 0
    sources: int = 0
    notes: list[str] = field(default_factory=list)
    full_index: bool = False
    """Whether the search index was rebuilt from every article (first build, new format)."""
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


@dataclass(frozen=True)
class Source:
    slug: str
    name: str
    entries: tuple[ArchivedEntry, ...]
    """Oldest first."""


@dataclass(frozen=True)
class Page:
    """One HTML page to produce: `key` fingerprints everything it is rendered from."""

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


def newest_first(entries: Iterable[ArchivedEntry]) -> list[ArchivedEntry]:
    return sorted(entries, key=lambda e: (e.published_ms, e.path), reverse=True)


def paginate(oldest_first: tuple[ArchivedEntry, ...], size: int) -> list[tuple[ArchivedEntry, ...]]:
    """Pages counted from the oldest article: page 1 holds the `size` oldest; only the
    last page grows, so earlier pages stay the same as articles arrive."""
    return [oldest_first[i : i + size] for i in range(0, len(oldest_first), size)] or [()]


def group_sources(config: Config, entries: Iterable[ArchivedEntry]) -> list[Source]:
    """Every source with articles: configured ones in configured order, then slugs found
    only in the archive (a removed source) by slug."""
    by_slug: dict[str, list[ArchivedEntry]] = {}
    for entry in entries:
        by_slug.setdefault(entry.slug, []).append(entry)
    names = {s.slug: s.name for s in config.sources}
    order = [s.slug for s in config.sources if s.slug in by_slug]
    order += sorted(set(by_slug) - set(order))
    return [
        Source(slug, names.get(slug, slug),
               tuple(sorted(by_slug[slug], key=lambda e: (e.published_ms, e.path))))
        for slug in order
    ]


def _item(entry: ArchivedEntry, page: str, names: dict[str, str]) -> dict:
    return {
        "href": relative(page, article_href(entry)),
        "title": entry.title,
        "time": format_time(entry.published_ms),
        "iso": iso_time(entry.published_ms),
        "source": names.get(entry.slug, entry.slug),
    }


def source_page_path(slug: str, number: int | None) -> str:
    return f"sources/{slug}/{'index' if number is None else number}.html"


def plan_pages(site_title: str, sources: list[Source], *, page_size: int, home_size: int) -> list[Page]:
    """Every HTML page of the site but the article pages (`article_page`), with the data
    it shows (no I/O): a few per source, however many articles it has."""
    names = {s.slug: s.name for s in sources}
    everything = [e for s in sources for e in s.entries]
    pages: list[Page] = []

    home = "index.html"
    pages.append(Page(home, "home.html.j2", {
        "title": site_title,
        "items": [_item(e, home, names) for e in newest_first(everything)[:home_size]],
        "sources": [
            {"name": s.name, "href": source_page_path(s.slug, None), "count": len(s.entries),
             "latest": format_time(s.entries[-1].published_ms) if s.entries else ""}
            for s in sources
        ],
        "total": len(everything),
    }))
    pages.append(Page("search.html", "search.html.j2", {"title": "搜索"}))

    for source in sources:
        chunks = paginate(source.entries, page_size)
        numbered = [
            {"number": n, "href": source_page_path(source.slug, n), "count": len(chunk),
             "first": format_time(chunk[0].published_ms)[:10] if chunk else "",
             "last": format_time(chunk[-1].published_ms)[:10] if chunk else ""}
            for n, chunk in enumerate(chunks, 1)
        ]
        landing = source_page_path(source.slug, None)
        pages.append(Page(landing, "source.html.j2", {
            "title": source.name,
            "source": source.name,
            "count": len(source.entries),
            "items": [_item(e, landing, names) for e in newest_first(source.entries)[:page_size]],
            "pages": [{**p, "href": relative(landing, str(p["href"]))} for p in reversed(numbered)],
            "number": None,
        }))
        for n, chunk in enumerate(chunks, 1):
            path = source_page_path(source.slug, n)
            newer = source_page_path(source.slug, n + 1) if n < len(chunks) else None
            older = source_page_path(source.slug, n - 1) if n > 1 else None
            pages.append(Page(path, "source.html.j2", {
                "title": f"{source.name} · 第 {n} 页",
                "source": source.name,
                "items": [_item(e, path, names) for e in reversed(chunk)],
                "number": n,
                "landing": relative(path, landing),
                "newer": relative(path, newer) if newer else None,
                "older": relative(path, older) if older else None,
                "range": numbered[n - 1],
            }))
    return pages


def article_page(source: Source, entry: ArchivedEntry) -> Page:
    """The page of one article of `source` (planned only when it has to be rendered)."""
    path = article_href(entry)
    return Page(path, "article.html.j2", {
        "title": entry.title,
        "source": source.name,
        "source_href": relative(path, source_page_path(source.slug, None)),
        "time": format_time(entry.published_ms),
        "iso": iso_time(entry.published_ms),
        "digest": entry.digest,
    }, entry=entry)


def article_key(common: str, source: Source, entry: ArchivedEntry) -> str:
    """What an article page is rendered from, without planning it: `common` (see
    `page_key`) and the entry fields its context is made of (path, title, source name,
    time, digest). Cheap, so an unchanged archive costs no formatting per article."""
    blob = "\0".join((common, entry.path, entry.title, source.name, str(entry.published_ms),
                      entry.digest))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def page_key(page: Page, site_title: str, templates: str, shared: dict | None = None) -> str:
    """What a page is rendered from (`shared`: what every page shows, such as the copies)."""
    blob = json.dumps([SITE_FORMAT, templates, site_title, page.template, page.context,
                       shared or {}], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# -- article bodies ----------------------------------------------------------------------
LOCAL_ORIGIN = "https://newsmirror.invalid/"
_LOCAL_ASSET = re.compile(r"(?<=[\"'\s,=])(?:\.\./){4}assets/")
def reader_body(html: str, link: str) -> str:
    """The article HTML made safe to show: sanitised (scripts, handlers and foreign URL
    schemes removed, addresses made absolute), images lazy and sent without a Referer,
    audio/video not preloaded, embedded players replaced by a link to the player."""
    from newsmirror.content.clean import sanitize_html
    from newsmirror.content.markup import Edit, Tag, apply_edits, escape_attr, set_attr, tokenize

    # Links to the archive's own images (download_images) are relative to the article;
    # keep them so instead of resolving them against the original site.
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


def _load_manifest(out_dir: Path) -> dict:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("format") == SITE_FORMAT else {}


class _Build:
    """One build: where it writes and what it has written."""

    def __init__(self, store: Store, out_dir: Path, report: SiteReport):
        self.store, self.out, self.report = store, out_dir, report

    def emit(self, relpath: str, data: bytes) -> None:
        if write_atomic(self.out / relpath, data):
            self.report.written.append(relpath)

    def read(self, entry: ArchivedEntry):
        return parse_article(self.store.file(entry).read_bytes(), name=entry.path)

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


def failure_reason(err: Exception) -> str:
    """Why one article could not be built: the problem with its file, or a bug."""
    if isinstance(err, (ArticleFormatError, OSError)):
        return str(err)
    return f"internal error (a bug in newsmirror; please report it): {type(err).__name__}: {err}"


def build_site(config: Config, store: Store, out_dir: Path, *, page_size: int = PAGE_SIZE,
               home_size: int = HOME_SIZE) -> SiteReport:
    """Render the archive of `store` into `out_dir`, rewriting only what changed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = SiteReport(out_dir=out_dir)
    old = _load_manifest(out_dir)
    old_files: dict[str, str] = old.get("files", {})
    files: dict[str, str] = {}
    build = _Build(store, out_dir, report)
    env = _environment()
    templates = templates_hash()

    entries = list(store.catalog.entries())
    sources = group_sources(config, _showable(entries, build))
    report.sources = len(sources)
    report.articles = len(entries)

    folder = resources.files("newsmirror.publish") / "templates"
    for name in ASSETS:
        data = (folder / name).read_bytes()
        build.emit(name, data)
        files[name] = hashlib.sha256(data).hexdigest()
    build.emit(".nojekyll", b"")
    files[".nojekyll"] = ""
    # Images a source downloaded into the archive (download_images) go to the same place
    # in the site: article pages sit as deep as article files, so their links still hold.
    # The names are content hashes, so a name that is already there is the same file.
    for path in sorted((store.root / ASSETS_DIR).rglob("*")):
        if path.is_file():
            relpath = path.relative_to(store.root).as_posix()
            files[relpath] = path.name
            if old_files.get(relpath) != path.name or not (out_dir / relpath).is_file():
                build.emit(relpath, path.read_bytes())

    primary = remote_address(store.repo, config.remote_name)
    shared = elsewhere(config, primary)
    common = page_key(Page("", "article.html.j2", {}), config.title, templates, shared)
    for page in _pages_to_render(config.title, sources, page_size, home_size, templates, shared,
                                 common, old_files, files, out_dir):
        context = dict(page.context, site_title=config.title, root=root_of(page.path), **shared)
        if page.entry is None:
            build.emit(page.path, env.get_template(page.template).render(context).encode("utf-8"))
            continue
        try:
            article = build.read(page.entry)
            context.update(body=Markup(reader_body(article.body, article.link)),
                           link=original_link(article.link))
            data = env.get_template(page.template).render(context).encode("utf-8")
        except Exception as err:  # noqa: BLE001 - one bad article costs its page, never the build
            build.failed(page.entry, err)
            # A page an earlier build wrote stays, under a key that never matches, so
            # the next build renders it again.
            if (out_dir / page.path).is_file():
                files[page.path] = "failed"
            else:
                del files[page.path]
            continue
        build.emit(page.path, data)

    for relpath, data in _site_feeds(config, build, sources, site_url(config, primary)):
        build.emit(relpath, data)
        files[relpath] = hashlib.sha256(data).hexdigest()

    search_files, search_state = _update_search(build, old, sources)
    files.update(search_files)

    for relpath in sorted(set(old_files) - set(files)):
        target = out_dir / relpath
        if target.is_file():
            target.unlink()
            report.removed.append(relpath)
            _prune_dirs(target.parent, out_dir)
    report.unchanged = len(files) - len(set(report.written))
    manifest = {"format": SITE_FORMAT, "templates": templates, "files": files, "search": search_state}
    write_atomic(out_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False, sort_keys=True,
                                                separators=(",", ":")).encode("utf-8"))
    return report


def _pages_to_render(site_title: str, sources: list[Source], page_size: int, home_size: int,
                     templates: str, shared: dict, common: str, old_files: dict[str, str],
                     files: dict[str, str], out_dir: Path) -> Iterator[Page]:
    """The pages whose inputs changed since the last build (or whose file is gone),
    recording every page's key in `files`; an article page is planned only then."""
    for page in plan_pages(site_title, sources, page_size=page_size, home_size=home_size):
        key = page_key(page, site_title, templates, shared)
        files[page.path] = key
        if old_files.get(page.path) != key or not (out_dir / page.path).is_file():
            yield page
    for source in sources:
        for entry in source.entries:
            path = article_href(entry)
            key = article_key(common, source, entry)
            files[path] = key
            if old_files.get(path) != key or not (out_dir / path).is_file():
                yield article_page(source, entry)


def _showable(entries: Iterable[ArchivedEntry], build: _Build) -> Iterator[ArchivedEntry]:
    """The entries the site can list: one whose time or path the pages cannot show is
    recorded as failed and left out, instead of failing every page that would list it."""
    for entry in entries:
        try:
            format_time(entry.published_ms)
            iso_time(entry.published_ms)
            article_href(entry)
        except Exception as err:  # noqa: BLE001 - one bad article costs its page, never the build
            build.failed(entry, err)
            continue
        yield entry


def elsewhere(config: Config, primary: str | None = None) -> dict:
    """What every page tells readers about the other copies of the archive (each with its
    address and combined feed) and the site's own feeds: at the site's address when it
    is known (`site_url`), else relative to the page (`local`)."""
    from newsmirror.publish.derived import feed_list
    from newsmirror.publish.mirrors import reader_copies

    copies = reader_copies(config, primary)
    url = site_url(config, primary)
    feeds = [{"name": name, "href": f"{url}{path}" if url else path, "local": not url}
             for name, path in feed_list(config)]
    return {"copies": [{"name": c.name, "web": c.web, "feed": c.feed} for c in copies],
            "feeds": feeds}


def _site_feeds(config: Config, build: _Build, sources: list[Source],
                url: str | None) -> Iterator[tuple[str, bytes]]:
    """The site's own feeds (feeds/<slug>.xml, feeds/all.xml): the archive's feeds, with
    every link leading to the site's pages, absolute when the site's address is known."""
    from newsmirror.publish.feeds import archive_href, render_feeds, sanitised_body

    pages = {e.path: article_href(e) for s in sources for e in s.entries}
    pages[README] = "index.html"
    pages.update({source_list_path(s.slug): source_page_path(s.slug, None) for s in sources})
    bodies: dict[str, str | None] = {}

    def where(path: str) -> str:
        shown = pages.get(path, path if path.startswith("feeds/") else "index.html")
        return archive_href(shown, url)  # relative: from feeds/, one folder down

    def body(entry: ArchivedEntry) -> str | None:
        if entry.path not in bodies:
            try:
                data: bytes | None = build.store.file(entry).read_bytes()
            except OSError:
                data = None
            try:
                bodies[entry.path] = sanitised_body(entry, data)
            except Exception as err:  # noqa: BLE001 - one bad article costs its feed body
                build.failed(entry, err)
                bodies[entry.path] = None
        return bodies[entry.path]

    yield from render_feeds(config, build.store, body, url, where=where)


def _prune_dirs(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


# -- the search index --------------------------------------------------------------------
def _index_version() -> list[int | str]:
    return [ix.TOKENIZER_VERSION, ix.SHARDS, ix.SEGMENT_SIZE, ix.DOC_CHUNK, ix.fold_digest()]


def _doc_record(entry: ArchivedEntry, text: str) -> list:
    return [entry.title, article_href(entry), entry.slug, format_time(entry.published_ms)[:10],
            ix.snippet(text)]


def _update_search(build: _Build, old: dict, sources: list[Source]) -> tuple[dict[str, str], dict]:
    """Bring search/ in line with the archive. Only the segments and doc chunks holding an
    added, changed or removed article are read and rewritten; on a first build, a format
    change or a damaged index everything is rebuilt. Returns (files, state)."""
    state = old.get("search") or {}
    old_files = {p: k for p, k in old.get("files", {}).items() if p.startswith("search/")}
    entries = sorted((e for s in sources for e in s.entries), key=lambda e: (e.published_ms, e.path))
    full = (state.get("version") != _index_version()
            or any(not (build.out / p).is_file() for p in old_files))
    if full:
        state, old_files = {"version": _index_version(), "next": 0, "docs": {}}, {}
    docs: dict[str, list] = dict(state["docs"])  # article path -> [id, digest]
    current = {e.path: e for e in entries}
    removed = {docs.pop(p)[0] for p in list(docs) if p not in current}
    changed: dict[int, ArchivedEntry] = {}
    for entry in entries:
        known = docs.get(entry.path)
        if known and known[1] == entry.digest:
            continue
        doc_id = known[0] if known else state["next"]
        if not known:
            state["next"] += 1
        docs[entry.path] = [doc_id, entry.digest]
        changed[doc_id] = entry
    state["docs"] = docs
    build.report.full_index = full

    files = dict(old_files)
    unread: set[str] = set()
    try:
        _write_index(build, files, removed, changed, full, unread)
    except (OSError, ValueError) as err:
        if full:
            raise
        build.report.notes.append(f"the search index was unreadable ({err}); rebuilt it")
        return _update_search(build, {}, sources)
    for path in unread:
        docs[path][1] = None  # no digest matches: the next build reads it again
    names = {s.slug: s.name for s in sources}
    meta = {"shards": ix.SHARDS, "segments": state["next"] // ix.SEGMENT_SIZE + 1,
            "chunk": ix.DOC_CHUNK, "sources": names, "version": ix.TOKENIZER_VERSION}
    source, target = ix.fold_pairs()
    for name, payload in (("meta", meta), ("fold", {"from": source, "to": target})):
        data = ix.script_file(name, payload)
        build.emit(f"search/{name}.js", data)
        files[f"search/{name}.js"] = hashlib.sha256(data).hexdigest()
    return files, state


def _read_existing(build: _Build, relpath: str, files: dict[str, str]) -> dict:
    if relpath not in files:
        return {}
    data = ix.read_script_file((build.out / relpath).read_bytes())
    if not isinstance(data, dict):
        raise ValueError(f"{relpath}: not an object")
    return data


def _replace(build: _Build, files: dict[str, str], relpath: str, payload: dict | None) -> None:
    """Write (or, when empty, drop) one index file and record it in `files`."""
    if payload:
        data = ix.script_file(ix.file_key(relpath), payload)
        build.emit(relpath, data)
        files[relpath] = hashlib.sha256(data).hexdigest()
    elif relpath in files:
        del files[relpath]  # removed from disk with the manifest's other leftovers


def _write_index(build: _Build, files: dict[str, str], removed: set[int],
                 changed: dict[int, ArchivedEntry], full: bool, unread: set[str]) -> None:
    """Rewrite the postings of every segment and the doc chunks holding a removed or
    changed id; each changed article is read once. Adds to `unread` the archive paths
    of the articles that could not be read."""
    chunks: dict[int, dict] = {}

    def chunk(number: int) -> dict:
        if number not in chunks:
            chunks[number] = {} if full else _read_existing(build, ix.docs_path(number), files)
        return chunks[number]

    for doc_id in removed:
        chunk(doc_id // ix.DOC_CHUNK).pop(str(doc_id), None)
    by_segment: dict[int, list[int]] = {i // ix.SEGMENT_SIZE: [] for i in removed}
    for doc_id in sorted(changed):
        by_segment.setdefault(doc_id // ix.SEGMENT_SIZE, []).append(doc_id)

    def documents(ids: list[int]):
        for doc_id in ids:
            entry = changed[doc_id]
            text = build.text(entry)
            if text is None:  # indexed by its title alone until a build can read it
                unread.add(entry.path)
                text = ""
            chunk(doc_id // ix.DOC_CHUNK)[str(doc_id)] = _doc_record(entry, text)
            yield doc_id, ix.tokens(entry.title + "\n" + text)

    stale = removed | set(changed)
    for segment, ids in sorted(by_segment.items()):
        shards: dict[int, ix.Postings] = {}
        dirty: set[int] = set()
        if not full:
            for shard in range(ix.SHARDS):
                shards[shard] = ix.decode_shard(_read_existing(build, ix.shard_path(segment, shard), files))
                if ix.remove_documents(shards[shard], stale):
                    dirty.add(shard)
        added: ix.Postings = {}
        ix.add_documents(added, documents(ids))
        dirty |= ix.merge_into_shards(shards, added)
        for shard in sorted(dirty):
            _replace(build, files, ix.shard_path(segment, shard), ix.encode_shard(shards[shard]) or None)
    for number, records in sorted(chunks.items()):
        _replace(build, files, ix.docs_path(number), records or None)
