"""Fetching an article's own page for its full text: through the run's polite fetcher,
cached per URL, extracted and sanitised. A page that fails gives None, and the caller
keeps the feed's own content.

`PagesAhead` fetches the pages a source's items need side by side, ahead of the loop that
writes the articles, as many at once as the fetcher's limits allow."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from newsmirror.archive.files import write_atomic
from newsmirror.config import SourceConfig
from newsmirror.fetch.client import Fetcher, FetchError
from newsmirror.isolation import BUG, machine_error

if TYPE_CHECKING:
    from newsmirror.content.siterules import SiteRule

CACHE_TTL_S = 24 * 3600
CACHE_KEEP_S = 7 * 24 * 3600
REFUSED = (401, 403)
"""Statuses of a site that turns newsmirror away (RFI answers 403 to clients it does not
know): said plainly, since retrying will not help."""
REFUSED_PREFIX = "page refused"


class PageFetcher:
    def __init__(self, fetcher: Fetcher, cache_dir: Path, rules_file: Path | None = None):
        self.fetcher = fetcher
        self.cache_dir = cache_dir
        self.rules_file = rules_file
        self._rules: tuple[SiteRule, ...] | None = None
        self.failures: dict[str, str] = {}
        self._pruned = False

    def _cached(self, url: str) -> tuple[Path, bytes | None]:
        path = self.cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.html"
        try:
            if time.time() - path.stat().st_mtime < CACHE_TTL_S:
                return path, path.read_bytes()
        except FileNotFoundError:
            pass
        return path, None

    def _prune(self) -> None:
        if self._pruned or not self.cache_dir.is_dir():
            return
        self._pruned = True
        cutoff = time.time() - CACHE_KEEP_S
        for old in self.cache_dir.iterdir():
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)

    async def fetch_html(self, url: str, *, article: str | None = None) -> tuple[bytes, str | None] | None:
        """The page's bytes (from the cache when fresh) and its content type. A failure is
        recorded under `article` (the article's own address, when `url` adds to it)."""
        self._prune()
        path, cached = self._cached(url)
        if cached is not None:
            return cached, None
        try:
            result = await self.fetcher.fetch(url)
        except FetchError as err:
            self.failures[article or url] = (
                f"{REFUSED_PREFIX} ({err.status}): {err.reason}; the feed's own text is kept"
                if err.status in REFUSED else err.reason)
            return None
        write_atomic(path, result.body)
        return result.body, result.content_type

    async def __call__(self, source: SourceConfig, url: str) -> str | None:
        """The sanitised full-text body of the article at `url`, or None (the reason is in
        `failures`). Whatever goes wrong with one page costs that page only, a surprise
        (a bug, a full disk for the cache) included."""
        try:
            return await self._page(source, url)
        except Exception as err:  # noqa: BLE001 - one page must not fail its source
            if machine_error(err):  # a full disk or the like: it stops the run, loudly
                raise
            self.failures[url] = f"{BUG}: {type(err).__name__}: {err}"
            return None

    async def _page(self, source: SourceConfig, url: str) -> str | None:
        from newsmirror.content.clean import sanitize_html
        from newsmirror.content.extract import ExtractionError, extract_page
        from newsmirror.content.siterules import load_rules, rules_for
        from newsmirror.parse.encoding import decode_document

        if self._rules is None:
            self._rules = load_rules(self.rules_file)
        rule = rules_for(url, self._rules)
        fetched = await self.fetch_html(rule.page_url(url) if rule else url, article=url)
        if fetched is None:
            return None
        text, _encoding = decode_document(*fetched)
        try:
            body = await asyncio.to_thread(extract_page, text, url, selector=source.selector,
                                           remove=source.remove, rule=rule)
        except ExtractionError as err:
            self.failures[url] = str(err)
            return None
        return sanitize_html(body, base_url=url)



class PagesAhead:
    """The pages of one source's items, fetched concurrently ahead of the loop that writes
    the articles in feed order: `await ahead.get(url)` gives what `fetch(url)` gave.

    At most `window` pages are started beyond the one the loop waits for (memory stays
    bounded however long the feed); within that, as many are in flight as the fetcher's
    per-host and total limits allow. Answers arrive in any order, but each page is asked
    for by its URL, so what the loop writes does not depend on that order. A URL that was
    not announced is not in `ahead` (the caller fetches it itself); `close()` cancels what
    was started and not asked for.

    `started(url)` is called for every announced URL at once (a progress display can count
    them all from the start), `finished(url)` once for each, when its page is done or
    cancelled."""

    def __init__(self, fetch: Callable[[str], Awaitable[str | None]], urls: Iterable[str], *,
                 window: int, started: Callable[[str], None] | None = None,
                 finished: Callable[[str], None] | None = None) -> None:
        self._fetch = fetch
        self._order = list(dict.fromkeys(urls))  # each URL once, in the loop's order
        self._position = {url: i for i, url in enumerate(self._order)}
        self._window = max(1, window)
        self._tasks: dict[str, asyncio.Task[str | None]] = {}
        self._next = 0
        self._finished = finished
        self._unfinished = set(self._order)
        for url in self._order:
            if started is not None:
                started(url)
        self._start_until(self._window)

    def __contains__(self, url: object) -> bool:
        return url in self._position

    def __len__(self) -> int:
        return len(self._order)

    def _start_until(self, end: int) -> None:
        while self._next < min(end, len(self._order)):
            url = self._order[self._next]
            self._tasks[url] = asyncio.create_task(self._one(url))
            self._next += 1

    async def _one(self, url: str) -> str | None:
        try:
            return await self._fetch(url)
        finally:
            self._done(url)

    def _done(self, url: str) -> None:
        if url in self._unfinished:
            self._unfinished.discard(url)
            if self._finished is not None:
                self._finished(url)

    async def get(self, url: str) -> str | None:
        """The page at `url` (one of those announced), waiting for it if it is not in yet."""
        self._start_until(self._position[url] + 1 + self._window)
        task = self._tasks.pop(url, None)
        if task is None:  # asked for twice: the second time from the page cache
            return await self._fetch(url)
        return await task

    async def close(self) -> None:
        """Cancel the pages started and not asked for; count the rest as finished."""
        left = list(self._tasks.values())
        self._tasks.clear()
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        for url in list(self._unfinished):
            self._done(url)
