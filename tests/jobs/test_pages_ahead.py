"""PagesAhead: pages fetched side by side ahead of the loop that asks for them in order,
at most `window` beyond the one it waits for, through a real fetcher and loopback server."""

from __future__ import annotations

import asyncio

from newsmirror.jobs.pages import PagesAhead
from newsmirror.fetch.client import Fetcher, FetchSettings
from tests.holdserver import HoldServers

SETTINGS = FetchSettings(timeout=60, connect_timeout=10, per_host=16, concurrency=16)


def test_the_window_bounds_how_far_ahead_pages_are_fetched() -> None:
    with HoldServers(["127.0.0.1"], target=4) as servers:
        urls = [servers.serve("127.0.0.1", f"/{i}", f"page {i}", "text/plain", held=True)
                for i in range(10)]
        events: list[tuple[str, str]] = []

        async def main() -> list[str | None]:
            async with Fetcher(SETTINGS, trust_env=False) as fetcher:
                async def fetch(url: str) -> str | None:
                    return (await fetcher.fetch(url)).body.decode()

                ahead = PagesAhead(fetch, urls, window=3,
                                   started=lambda url: events.append(("started", url)),
                                   finished=lambda url: events.append(("finished", url)))
                try:
                    return [await ahead.get(url) for url in urls]
                finally:
                    await ahead.close()

        pages = asyncio.run(main())
    assert pages == [f"page {i}" for i in range(10)]
    # The one asked for and three ahead, although 16 were allowed.
    assert servers.max_active["127.0.0.1"] == 4
    assert servers.holds_timed_out == 0
    # Every page counted from the start, and each finished once.
    assert events[:10] == [("started", url) for url in urls]
    assert sorted(events[10:]) == sorted(("finished", url) for url in urls)


def test_close_cancels_what_was_not_asked_for_and_finishes_the_count() -> None:
    with HoldServers(["127.0.0.1"], target=2) as servers:
        urls = [servers.serve("127.0.0.1", f"/{i}", f"page {i}", "text/plain", held=True)
                for i in range(6)]
        finished: list[str] = []

        async def main() -> str | None:
            async with Fetcher(SETTINGS, trust_env=False) as fetcher:
                async def fetch(url: str) -> str | None:
                    return (await fetcher.fetch(url)).body.decode()

                ahead = PagesAhead(fetch, [*urls, urls[0]], window=1, finished=finished.append)
                assert len(ahead) == 6 and urls[5] in ahead and "http://elsewhere/" not in ahead
                try:
                    return await ahead.get(urls[0])
                finally:
                    await ahead.close()

        first = asyncio.run(main())
    assert first == "page 0"
    assert sorted(finished) == sorted(urls)
    # Page 0 and at most the one ahead of it: the four never started were never asked for.
    asked = {path for _, path in servers.hits}
    assert "/0" in asked and asked <= {"/0", "/1"}
