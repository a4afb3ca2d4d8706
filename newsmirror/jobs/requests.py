"""Archiving pages on request: fetch each address (checked for safety at every hop),
extract it, and write it into the archive in the FORMAT.md layout under
requests/<YYYY>/<MM>/<title>-<hash>.md, with lists/requests.md newest first; then commit
and push like a mirror run.

A requested page is identified by its normalised address (fragment dropped): asking for
an address that is already archived (on request, or as a feed article) returns the
existing file and fetches nothing. The requests/ folder is small, so it is read afresh
on every run instead of being kept in the catalog: it is its own index, after any clone.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from newsmirror.archive.article import UNTITLED, ArticleFormatError, parse_article, render_article
from newsmirror.archive.catalog import digest_bytes
from newsmirror.archive.identity import key_hash, normalise_link
from newsmirror.archive.paths import (
    LIST_TITLES, REQUESTS_DIR, REQUESTS_LIST, key_from_path, request_path,
)
from newsmirror.archive.shards import Shards
from newsmirror.archive.store import Store, commit_message
from newsmirror.config import Config
from newsmirror.fetch.client import FetchError, Fetcher
from newsmirror.isolation import item_failure, machine_error
from newsmirror.models import ArchivedEntry, Article, ItemFailure
from newsmirror.jobs.session import Published, Session, open_session
from newsmirror.publish.lists import render_list
from newsmirror.publish.mirrors import remote_address, shard_file_address
from newsmirror.content.clean import sanitize_html
from newsmirror.content.extract import ExtractionError
from newsmirror.content.requested import extract_requested
from newsmirror.content.siterules import load_rules, rules_for
from newsmirror.content.transform import transform_body
from newsmirror.jobs.mirror import content_settings
from newsmirror.parse.encoding import decode_document
from newsmirror.fetch.safety import SafeFetcher

REQUESTS_SLUG = "requests"
HTML_TYPES = ("html", "xml")


@dataclass(frozen=True)
class RequestOutcome:
    """What became of one requested address."""

    url: str
    """As requested."""
    status: str
    """"archived" (written now), "existing" (already in the archive) or "failed"."""
    link: str | None = None
    """The normalised address (line 2 of the file)."""
    path: str | None = None
    """The archive-relative file path."""
    title: str | None = None
    reason: str | None = None
    """Why it failed."""
    traceback: str | None = None
    """Where, when it failed on a bug in newsmirror (shown with -v)."""
    shard: str = ""
    """The shard whose repository holds the file ('': the main repository)."""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass
class RequestsReport(Published):
    outcomes: list[RequestOutcome] = field(default_factory=list)


# -- pure helpers -----------------------------------------------------------------------
def request_link(url: str) -> str | None:
    """The identity of a requested page: its address normalised as a browser would, with
    the fragment dropped (a fragment never changes what the server sends); None when it
    is not an absolute http(s) address."""
    link = normalise_link(url)
    return link.split("#", 1)[0] if link else None


def request_key(link: str) -> str:
    return key_hash(REQUESTS_SLUG, "link:" + link)


def render_requests_list(entries: list[ArchivedEntry], limit: int,
                         away: Callable[[ArchivedEntry], str | None] | None = None) -> bytes:
    """lists/requests.md: the per-source list format, newest first (ties by path), the
    files shards hold linked as the source lists link them (`away`)."""
    ordered = sorted(entries, key=lambda e: (e.published_ms, e.path), reverse=True)
    return render_list(LIST_TITLES[REQUESTS_LIST], ordered[:limit], away)


def describe(outcomes: list[RequestOutcome]) -> str:
    """The commit message of a run of requests."""
    archived = [o for o in outcomes if o.status == "archived"]
    noun = "page" if len(archived) == 1 else "pages"
    return commit_message(f"Archive {len(archived)} requested {noun}",
                          [f"{o.link} -> {o.path}" for o in archived])


# -- reading the archive ----------------------------------------------------------------
def scan_requests(root: Path, shard: str = "") -> list[ArchivedEntry]:
    """Every file under requests/ of the repository at `root` (the shard `shard`'s, ''
    for the main one), read back (files not in the format are skipped)."""
    found: list[ArchivedEntry] = []
    folder = root / REQUESTS_DIR
    if not folder.is_dir():
        return found
    for dirpath, _dirs, files in os.walk(folder):
        for name in sorted(files):
            key = key_from_path(name)
            if key is None:
                continue
            relpath = Path(dirpath, name).relative_to(root).as_posix()
            data = (root / relpath).read_bytes()
            try:
                article = parse_article(data, name=relpath)
            except ArticleFormatError:
                continue
            found.append(ArchivedEntry(REQUESTS_SLUG, key, relpath, article.published_ms,
                                       article.title, article.link, digest_bytes(data), shard))
    return sorted(found, key=lambda e: e.path)


def archived_requests(store: Store, shards: Shards | None) -> list[ArchivedEntry]:
    """Every page archived on request: in the main repository and in each shard opened
    (`shards`; a sharded archive's new pages go to the open shard, as articles do)."""
    found = scan_requests(store.root)
    for year in shards.repos if shards else ():
        found += scan_requests(store.shard_root(year), year)
    return sorted(found, key=lambda e: e.path)


def archived_feed_article(store: Store, link: str) -> ArchivedEntry | None:
    """The entry of a feed article already archived under this address."""
    found = store.catalog.first_with_link(link)
    where = store.catalog.locate(found[0]) if found else None
    entry = store.catalog.get(where.slug, where.key) if where else None
    return entry[0] if entry else None


# -- one page ---------------------------------------------------------------------------
async def fetch_requested(fetcher: Fetcher, config: Config, link: str, now_ms: int,
                          rules=None) -> tuple[Article, str]:
    """Fetch, extract and transform one page; (the article, the extraction method).
    Raises FetchError (refusals included) or ExtractionError."""
    result = await fetcher.fetch(link)
    kind = (result.content_type or "text/html").split(";")[0].strip().lower()
    if not any(word in kind for word in HTML_TYPES):
        raise ExtractionError(f"not a web page (Content-Type: {kind})")
    text, _encoding = decode_document(result.body, result.content_type)
    rule = rules_for(result.url, rules)
    page = await asyncio.to_thread(
        extract_requested, text, result.url,
        selector=rule.selector if rule else None, remove=rule.remove if rule else ())
    body = transform_body(sanitize_html(page.body_html, base_url=result.url),
                          base_url=result.url, settings=content_settings(config, None))
    published = page.published_ms if page.published_ms is not None else now_ms
    return Article(published, page.title or UNTITLED, link, body), page.method


# -- the run ----------------------------------------------------------------------------
async def archive_requests(config: Config, urls: list[str], *, push: bool = True,
                           allow_private: bool = False, allow_hosts: tuple[str, ...] = (),
                           now_ms: int | None = None) -> RequestsReport:
    """Archive `urls` into the archive of `config`; commit, and push when asked and a
    remote is configured. `allow_private`/`allow_hosts` lift the address refusal (tests)."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    report = RequestsReport()
    with open_session(config, report) as session:
        store = session.store
        shards = session.open_shards(now_ms)
        target = shards.target if shards else ""
        known = {entry.link: entry for entry in archived_requests(store, shards)}
        slots: list[RequestOutcome | str] = []  # an outcome, or the link still to fetch
        for url in urls:
            try:
                link = request_link(url)
                found = archived_feed_article(store, link) if link and link not in known else None
            except Exception as err:  # one bad address costs that address
                if machine_error(err):
                    raise
                slots.append(_failed(url, None, item_failure(url, "identity", err)))
                continue
            if link is None:
                slots.append(RequestOutcome(url, "failed", reason="not an http(s) web address"))
            elif link in known or found:
                entry = known.get(link) or found
                assert entry is not None
                slots.append(RequestOutcome(url, "existing", link, entry.path, entry.title, shard=entry.shard))
            else:
                slots.append(link)
        wanted = sorted({slot for slot in slots if isinstance(slot, str)})
        rules = load_rules(config.site_rules) if wanted else None
        fetched: dict[str, Article | str | ItemFailure] = {}

        async def one(fetcher: Fetcher, link: str) -> None:
            try:
                article, _method = await fetch_requested(fetcher, config, link, now_ms, rules)
                fetched[link] = article
            except (FetchError, ExtractionError) as err:
                fetched[link] = str(err)
            except Exception as err:  # one odd page must not lose the others
                if machine_error(err):
                    raise
                fetched[link] = item_failure(link, "extraction", err)

        if wanted:
            async with SafeFetcher(config.fetch, allow_private=allow_private,
                                   allow_hosts=allow_hosts) as fetcher:
                await asyncio.gather(*(one(fetcher, link) for link in wanted))

        written: dict[str, RequestOutcome] = {}
        for link in wanted:
            got = fetched[link]
            if isinstance(got, str):
                written[link] = RequestOutcome(link, "failed", link, reason=got)
                continue
            if isinstance(got, ItemFailure):
                written[link] = _failed(link, link, got)
                continue
            step = "date"
            try:  # one page that cannot be written costs that page
                path = request_path(got.published_ms, got.title, request_key(link))
                step = "rendering"
                data = render_article(got)
                step = "writing"
                store.write(path, data, shard=target)
            except Exception as err:
                if machine_error(err):
                    raise
                written[link] = _failed(link, link, item_failure(link, step, err))
                continue
            written[link] = RequestOutcome(link, "archived", link, path, got.title, shard=target)
        reported: set[str] = set()
        for url, slot in zip(urls, slots):
            if isinstance(slot, str):
                done = written[slot]
                # A second mention of one page in the same request finds it archived.
                status = "existing" if slot in reported and done.ok else done.status
                reported.add(slot)
                slot = replace(done, url=url, status=status)
            report.outcomes.append(slot)

        if any(o.status == "archived" for o in report.outcomes):
            _write_requests_list(session)
            message = describe(report.outcomes)
            if shards:  # first, so that the main repository never lists what no commit holds
                shards.commit(store, sorted(o.path for o in written.values() if o.ok and o.shard and o.path), message)
            session.commit([REQUESTS_DIR, REQUESTS_LIST, ".gitignore"], message)
        pushed = session.push(push)
        if pushed is not None and pushed.ok:
            _relist_after_rebase(session)
    return report


def _write_requests_list(session: Session) -> bool:
    """lists/requests.md from every page archived on request; True when it changed."""
    store, config = session.store, session.config
    away = shard_file_address(config, remote_address(store.repo, config.remote_name))
    return store.write(REQUESTS_LIST, render_requests_list(archived_requests(store, session.shards),
                                                           config.list_size, away))


def _failed(url: str, link: str | None, failure: ItemFailure) -> RequestOutcome:
    return RequestOutcome(url, "failed", link, reason=f"{failure.reason} ({failure.step})",
                          traceback=failure.traceback)


def _relist_after_rebase(session: Session) -> None:
    """A push that rebased onto another request's commit (request workflows run side by
    side, one per issue) keeps our lists/requests.md, which lacks the other's pages:
    list every file under requests/ again, and push that."""
    store = session.store
    if not (store.root / REQUESTS_LIST).exists() or not _write_requests_list(session):
        return
    if store.commit([REQUESTS_LIST], commit_message(
            "List the pages archived on request by other runs")):
        session.push()
