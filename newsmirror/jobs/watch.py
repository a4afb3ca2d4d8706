"""Keeping the evidence when a source edits or deletes an article.

`newsmirror watch` re-checks the original address (line 2) of recently published
articles, a budget of them per run, the longest-unchecked first, so over a few runs every
recent article is seen again. For each it records:

* changed: the page, extracted the same way as when it was archived, now says something
  else. The new version is written over the article file, so git history keeps the old
  one, and the day of the change is listed in lists/changed.md.
* removed: HTTP 404/410, a redirect to the site's home page (or another one-segment
  page), or WeChat's "deleted" notice. The file is kept; lists/removed.md lists it with
  the day the removal was first seen.

What was checked when lives in .newsmirror/watch.tsv, a committed text file sorted by
path, so the rotation survives a fresh clone. Its header names its version (a header
without one is version 1, the same columns); a line that does not fit is left out (that
article is checked again as if new), the file as it was is kept as watch.tsv.bad, and the
run says so in one warning.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from newsmirror.archive.article import ArticleFormatError, parse_article, render_article
from newsmirror.archive.catalog import digest_bytes
from newsmirror.archive.files import keep_bad_copy
from newsmirror.jobs.requests import REQUESTS_SLUG, archived_requests
from newsmirror.archive.paths import CHANGED_LIST, LIST_TITLES, REMOVED_LIST, WATCH_FILE
from newsmirror.archive.shards import Shards
from newsmirror.archive.store import Store, commit_message
from newsmirror.config import Config
from newsmirror.content.text import page_text
from newsmirror.dates import china_time, parse_utc_stamp, utc_stamp
from newsmirror.fetch.client import FetchError, Fetcher
from newsmirror.isolation import item_failure, machine_error
from newsmirror.models import ArchivedEntry, Article, plural
from newsmirror.jobs.session import Published, open_session
from newsmirror.publish.lists import entry_link
from newsmirror.publish.mirrors import remote_address, shard_file_address
from newsmirror.content.siterules import load_rules, rules_for
from newsmirror.content.clean import sanitize_html
from newsmirror.content.extract import ExtractionError, extract_page
from newsmirror.content.requested import extract_requested, removal_notice
from newsmirror.content.transform import transform_body
from newsmirror.jobs.mirror import content_settings
from newsmirror.parse.encoding import decode_document
from newsmirror.fetch.safety import SafeFetcher

DAY_MS = 24 * 3600 * 1000
GONE_STATUSES = (404, 410)
WATCH_VERSION = 1
_COLUMNS = ("path, last checked (UTC), result, page text hash, removal first seen, "
            "changes seen (comma-separated)")
_HEADER = f"# newsmirror watch state, version {WATCH_VERSION}: {_COLUMNS}"
_VERSION = re.compile(r"# newsmirror watch state, version (\d+):")
RESULTS = ("same", "changed", "removed", "error")


# -- the state file ---------------------------------------------------------------------
@dataclass(frozen=True)
class WatchState:
    """What the watch knows of one article file."""

    path: str
    checked_ms: int | None = None
    result: str = ""
    """"same", "changed", "removed", "error" or "" (never checked)."""
    text_hash: str = ""
    """Hash of the page's text as last seen: what the next check compares with."""
    removed_ms: int | None = None
    changes: tuple[int, ...] = ()


def _iso(ms: int | None) -> str:
    if ms is None:
        return "-"
    return utc_stamp(ms)


def _from_iso(text: str) -> int | None:
    if not text or text == "-":
        return None
    return parse_utc_stamp(text)


def dump_states(states: Iterable[WatchState]) -> bytes:
    """watch.tsv: a header comment, then one line per article, sorted by path."""
    lines = [_HEADER]
    for s in sorted(states, key=lambda s: s.path):
        changes = ",".join(_iso(ms) for ms in s.changes) or "-"
        lines.append("\t".join((s.path, _iso(s.checked_ms), s.result or "-", s.text_hash or "-",
                                _iso(s.removed_ms), changes)))
    return ("\n".join(lines) + "\n").encode("utf-8")


def load_states(data: bytes, problems: list[str] | None = None) -> dict[str, WatchState]:
    """Read watch.tsv back (any version up to WATCH_VERSION); a line that does not parse is
    left out, and what was wrong is added to `problems`."""
    problems = problems if problems is not None else []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        problems.append(f"not UTF-8 text ({err.reason} at byte {err.start}); read with the bad bytes replaced")
        text = data.decode("utf-8", "replace")
    states: dict[str, WatchState] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            version = _VERSION.match(line)
            if version and int(version[1]) > WATCH_VERSION:
                problems.append(f"version {version[1]}, newer than this newsmirror reads "
                                f"({WATCH_VERSION}); reading what fits")
            continue
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 6:
            problems.append(f"line {number}: {len(parts)} columns, expected 6; left out")
            continue
        path, checked, result, text_hash, removed, changes = parts
        if result != "-" and result not in RESULTS:
            problems.append(f"line {number}: result {result!r} is not one of {', '.join(RESULTS)}; left out")
            continue
        try:
            states[path] = WatchState(
                path, _from_iso(checked), "" if result == "-" else result,
                "" if text_hash == "-" else text_hash, _from_iso(removed),
                tuple(ms for ms in map(_from_iso, changes.split(",")) if ms is not None))
        except ValueError as err:
            problems.append(f"line {number}: {err}; left out")
    return states


# -- what to check ----------------------------------------------------------------------
@dataclass(frozen=True)
class Watched:
    """An archived article to re-check."""

    path: str
    link: str
    published_ms: int
    title: str
    slug: str | None
    """The source's slug; None for a page archived on request."""
    shard: str = ""
    """The shard whose repository holds the file ('': the main repository)."""


def choose(candidates: Sequence[Watched], states: dict[str, WatchState], budget: int) -> list[Watched]:
    """At most `budget` articles, never-checked first, then the longest-unchecked; ties by
    path, so the choice is deterministic."""
    def order(item: Watched) -> tuple[int, str]:
        state = states.get(item.path)
        return (state.checked_ms if state and state.checked_ms is not None else -1, item.path)

    return sorted(candidates, key=order)[:max(budget, 0)]


def redirected_away(original: str, final: str) -> bool:
    """True when a redirect ended on the site's home page or on another one-segment page
    (how many sites answer for an article they took down)."""
    before, after = urlsplit(original), urlsplit(final)
    if (before.path.rstrip("/"), before.query) == (after.path.rstrip("/"), after.query):
        return False
    segments = [part for part in after.path.split("/") if part]
    return len(segments) <= 1 and after.path.rstrip("/") != before.path.rstrip("/")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# -- one check --------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """The outcome of re-checking one article."""

    result: str
    """"same", "changed", "removed" or "error"."""
    text_hash: str = ""
    body: str | None = None
    """The page's new body, transformed like the archived one (for "changed")."""
    reason: str = ""


def judge(archived_text: str, new_text: str, state: WatchState | None, from_page: bool) -> str:
    """"same" or "changed" for a page that is still there.

    The first check compares with the archived file when its body came from the page
    (requested pages, `full_text = "page"` sources); a body from the feed cannot be
    compared with the page, so its first check only records the page's text, which later
    checks compare with."""
    if new_text == archived_text:
        return "same"
    if state and state.text_hash:
        return "same" if text_hash(new_text) == state.text_hash else "changed"
    return "changed" if from_page else "same"


class Checker:
    """Fetches and re-extracts article pages the way they were archived."""

    def __init__(self, config: Config, fetcher: Fetcher):
        self.config = config
        self.fetcher = fetcher
        self.sources = {s.slug: s for s in config.sources}
        self.rules = load_rules(config.site_rules)

    def extract(self, item: Watched, html: str, url: str) -> str:
        """The page's body, extracted and transformed as when it was archived."""
        rule = rules_for(url, self.rules)
        source = self.sources.get(item.slug) if item.slug else None
        if item.slug is None:
            body = extract_requested(html, url, selector=rule.selector if rule else None,
                                     remove=rule.remove if rule else ()).body_html
        else:
            body = extract_page(html, url, selector=source.selector if source else None,
                                remove=source.remove if source else (), rule=rule)
        body = sanitize_html(body, base_url=url)
        return transform_body(body, base_url=url, settings=content_settings(self.config, source))

    def from_page(self, item: Watched) -> bool:
        source = self.sources.get(item.slug) if item.slug else None
        return item.slug is None or (source is not None and source.full_text == "page")

    async def check(self, item: Watched, archived: Article, state: WatchState | None) -> Check:
        rule = rules_for(item.link, self.rules)
        asked = rule.page_url(item.link) if rule else item.link  # as when it was archived
        try:
            result = await self.fetcher.fetch(asked)
        except FetchError as err:
            if err.status in GONE_STATUSES:
                return Check("removed", reason=err.reason)
            return Check("error", reason=err.reason)
        if redirected_away(asked, result.url):
            return Check("removed", reason=f"redirected to {result.url}")
        html, _encoding = decode_document(result.body, result.content_type)
        if notice := removal_notice(html, result.url):
            return Check("removed", reason=notice)
        try:
            body = await asyncio.to_thread(self.extract, item, html, result.url)
        except ExtractionError as err:
            return Check("error", reason=str(err))
        new_text = page_text(body)
        if not new_text:
            return Check("error", reason="the page has no text now")
        verdict = judge(page_text(archived.body), new_text, state, self.from_page(item))
        return Check(verdict, text_hash(new_text), body if verdict == "changed" else None)


def advance(state: WatchState | None, path: str, check: Check, now_ms: int) -> WatchState:
    """The article's state after a check."""
    state = state or WatchState(path)
    if check.result == "error":
        return replace(state, checked_ms=now_ms, result="error")
    if check.result == "removed":
        return replace(state, checked_ms=now_ms, result="removed",
                       removed_ms=state.removed_ms if state.removed_ms is not None else now_ms)
    changes = state.changes + ((now_ms,) if check.result == "changed" else ())
    return replace(state, checked_ms=now_ms, result=check.result, text_hash=check.text_hash,
                   removed_ms=None, changes=changes)


# -- lists ------------------------------------------------------------------------------
CHANGED_NOTE = ("修改前的版本保存在每篇文章的 git 历史中。 "
                "The version archived before each change is in the file's git history.")
REMOVED_NOTE = ("这些文章的原网页已删除或不再提供，存档仍保留全文。 "
                "The source no longer serves these pages; the archive keeps them.")


def render_watch_list(name: str, note: str, events: Iterable[tuple[int, ArchivedEntry]],
                      away: Callable[[ArchivedEntry], str | None] | None = None) -> bytes:
    """A list page of (when, entry) events, newest first, dated in China time; the
    files shards hold linked as the source lists link them (`entry_link`, `away`)."""
    lines = [name, "------", "", note, ""]
    for when, entry in sorted(events, key=lambda e: (e[0], e[1].path), reverse=True):
        lines.append(f"{china_time(when):%Y-%m-%d} {entry_link(entry, away)}")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


def list_events(states: Iterable[WatchState], held: dict[str, ArchivedEntry]) -> tuple[list, list]:
    """(changed events, removed events) for the lists, by the archive's files (`held`, by
    path); files no longer there are left out."""
    changed, removed = [], []
    for s in states:
        if s.path not in held:
            continue
        changed += [(when, held[s.path]) for when in s.changes]
        if s.removed_ms is not None:
            removed.append((s.removed_ms, held[s.path]))
    return changed, removed


# -- the run ----------------------------------------------------------------------------
@dataclass
class WatchReport(Published):
    checked: int = 0
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    """Newly seen as removed this run."""
    errors: dict[str, str] = field(default_factory=dict)
    tracebacks: dict[str, str] = field(default_factory=dict)
    """Where each error that is a bug in newsmirror happened (shown with -v)."""
    candidates: int = 0
    notes: list[str] = field(default_factory=list)
    """What the run did besides its checks (opening the shards, changes left in closed
    shards), in words."""


def held_files(store: Store, shards: Shards | None) -> dict[str, ArchivedEntry]:
    """Every file watch may check, by path: the catalog's feed articles and the pages
    archived on request, in whichever repository holds them (`shards`: those opened)."""
    held = {e.path: e for e in store.catalog.entries()}
    held.update((e.path, e) for e in archived_requests(store, shards))
    return held


def candidates(held: Iterable[ArchivedEntry], since_ms: int) -> list[Watched]:
    """The files of `held` (see held_files) published since `since_ms`."""
    return [Watched(e.path, e.link, e.published_ms, e.title, None if e.slug == REQUESTS_SLUG else e.slug, e.shard)
            for e in held if e.published_ms >= since_ms]


def _read(root: Path, path: str) -> Article | None:
    try:
        return parse_article((root / path).read_bytes(), name=path)
    except (OSError, ArticleFormatError):
        return None


def describe(report: WatchReport) -> str:
    """The commit message of a watch run."""
    return commit_message(
        f"Watch {report.checked} articles: {len(report.changed)} changed, "
        f"{len(report.removed)} removed at the source",
        [f"changed: {p}" for p in report.changed] + [f"removed: {p}" for p in report.removed])


async def watch_archive(config: Config, *, since_days: float = 30, budget: int = 200,
                        push: bool = True, allow_private: bool = False,
                        now_ms: int | None = None) -> WatchReport:
    """Re-check up to `budget` articles published in the last `since_days` days; record
    changes and removals, commit, and push when asked."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    report = WatchReport()
    with open_session(config, report) as session:
        store = session.store
        root = store.root
        shards = session.open_shards(now_ms)
        report.notes.extend(shards.notes if shards else ())
        problems: list[str] = []
        try:
            states = load_states((root / WATCH_FILE).read_bytes(), problems)
        except FileNotFoundError:
            states = {}
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            report.warnings.append(f"{root / WATCH_FILE}: {problems[0]}{more}; what was left out is "
                                   f"checked again as if new ({keep_bad_copy(root / WATCH_FILE)})")
        held = held_files(store, shards)
        pool = candidates(held.values(), now_ms - int(since_days * DAY_MS))
        report.candidates = len(pool)
        chosen = [(item, article) for item in choose(pool, states, budget)
                  if (article := _read(store.shard_root(item.shard), item.path)) is not None]

        async with SafeFetcher(config.fetch, allow_private=allow_private) as fetcher:
            checker = Checker(config, fetcher)

            async def one(item: Watched, article: Article) -> Check:
                try:
                    return await checker.check(item, article, states.get(item.path))
                except Exception as err:  # one odd page must not stop the others
                    if machine_error(err):
                        raise
                    failure = item_failure(item.path, "extraction", err)
                    report.tracebacks[item.path] = failure.traceback or ""
                    return Check("error", reason=failure.reason)

            checks = await asyncio.gather(*(one(item, article) for item, article in chosen))

        written: list[str] = []
        shard_written: list[str] = []
        frozen: list[str] = []
        store.catalog.begin()
        for (item, article), check in zip(chosen, checks):
            before = states.get(item.path)
            report.checked += 1
            if check.result == "changed" and check.body is not None and shards and shards.closed(item.shard):
                # A closed shard is never written again: the change is listed, the file kept.
                frozen.append(f"{item.path} (shard {item.shard})")
                report.changed.append(item.path)
            elif check.result == "changed" and check.body is not None:
                try:  # one page that cannot be written costs that page
                    data = render_article(replace(article, body=check.body))
                    if store.write(item.path, data, shard=item.shard):
                        (shard_written if item.shard else written).append(item.path)
                        _recatalog(store, item, data)
                except Exception as err:
                    if machine_error(err):
                        raise
                    failure = item_failure(item.path, "rendering", err)
                    report.tracebacks[item.path] = failure.traceback or ""
                    check = Check("error", reason=f"{failure.reason} ({failure.step})")
                else:
                    report.changed.append(item.path)
            states[item.path] = advance(before, item.path, check, now_ms)
            if check.result == "error":
                report.errors[item.path] = check.reason
            elif check.result == "removed" and (before is None or before.removed_ms is None):
                report.removed.append(item.path)

        if frozen:
            report.notes.append(f"left {plural(len(frozen), 'change')} of articles in closed shards as they are "
                                f"(listed as changed): {', '.join(frozen[:5])}" + (" …" if len(frozen) > 5 else ""))
        changed_events, removed_events = list_events(states.values(), held)
        away = shard_file_address(config, remote_address(store.repo, config.remote_name))
        store.write(WATCH_FILE, dump_states(states.values()))
        store.write(CHANGED_LIST, render_watch_list(LIST_TITLES[CHANGED_LIST], CHANGED_NOTE, changed_events, away))
        store.write(REMOVED_LIST, render_watch_list(LIST_TITLES[REMOVED_LIST], REMOVED_NOTE, removed_events, away))
        paths = [WATCH_FILE, CHANGED_LIST, REMOVED_LIST, ".gitignore", *written]
        message = describe(report)
        if shards:  # first, so that the main repository never lists what no commit holds
            shards.commit(store, shard_written, message)
        session.commit(paths, message)
        store.catalog.commit()
        session.push(push)
    return report


def _recatalog(store: Store, item: Watched, data: bytes) -> None:
    """Keep the catalog entry of a rewritten feed article in step, with the feed digest it
    had, so the next mirror run does not take the file for one it must write again."""
    where = store.catalog.locate(item.path)
    if where is None:
        return
    found = store.catalog.get(where.slug, where.key)
    if found:
        entry, feed_digest = found
        store.catalog.put(replace(entry, digest=digest_bytes(data)), feed_digest)

