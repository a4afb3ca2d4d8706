"""Fixtures for the fetcher tests: a fault server and a one-shot fetch helper."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from newsmirror.fetch.client import Fetcher, FetchResult, FetchSettings

from .faultserver import FaultServer

# Short limits keep the fault tests fast; each test states the bound it checks.
FAST = FetchSettings(timeout=2.0, connect_timeout=2.0, max_retry_after=2.0)


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    server = FaultServer().start()
    try:
        yield server
    finally:
        server.close()


async def fetch_with(settings: FetchSettings, url: str, **kwargs: Any) -> FetchResult:
    async with Fetcher(settings, trust_env=False) as fetcher:
        return await fetcher.fetch(url, **kwargs)


@pytest.fixture
def fetch() -> Callable[..., FetchResult]:
    """fetch(url, settings=FAST, etag=..., last_modified=...) run to completion."""

    def run(url: str, settings: FetchSettings = FAST, **kwargs: Any) -> FetchResult:
        return asyncio.run(fetch_with(settings, url, **kwargs))

    return run
