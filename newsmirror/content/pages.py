"""Fetching an article's own page for its full text: through the run's polite fetcher,
cached per URL, extracted and sanitised. A page that fails gives None, and the caller
keeps the feed's own content."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path

from newsmirror.archive.files import write_atomic
from newsmirror.config import SourceConfig
from newsmirror.fetch.client import FetchError, Fetcher

CACHE_TTL_S = 24 * 3600
CACHE_KEEP_S = 7 * 24 * 3600


class PageFetcher:
    def __init__(self, fetcher: Fetcher, cache_dir: Path, rules_file: Path | None = None):
        self.fetcher = fetcher
        self.cache_dir = cache_dir
        self.rules_file = rules_file
        self._rules = None
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

    async def fetch_html(self, url: str) -> tuple[bytes, str | None] | None:
        """The page's bytes (from the cache when fresh) and its content type."""
        self._prune()
        path, cached = self._cached(url)
        if cached is not None:
            return cached, None
        try:
            result = await self.fetcher.fetch(url)
        except FetchError as err:
            self.failures[url] = err.reason
            return None
        write_atomic(path, result.body)
        return result.body, result.content_type

    async def __call__(self, source: SourceConfig, url: str) -> str | None:
        """The sanitised full-text body of the article at `url`, or None."""
        from newsmirror.content.clean import sanitize_html
        from newsmirror.content.extract import ExtractionError, extract_article
        from newsmirror.content.siterules import load_rules, rules_for
        from newsmirror.parse.encoding import decode_document

        fetched = await self.fetch_html(url)
        if fetched is None:
            return None
        text, _encoding = decode_document(*fetched)
        selector, remove = source.selector, source.remove
        if self._rules is None:
            self._rules = load_rules(self.rules_file)
        if not selector and (rule := rules_for(url, self._rules)):
            selector, remove = rule.selector, tuple(rule.remove) + tuple(remove)
        try:
            extracted = await asyncio.to_thread(extract_article, text, url, selector=selector,
                                                remove=remove)
        except ExtractionError as err:
            self.failures[url] = str(err)
            return None
        return sanitize_html(extracted.body_html, base_url=url)
