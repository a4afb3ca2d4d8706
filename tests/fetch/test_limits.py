"""The fetcher's two limits together, on loopback servers that record what they had in
flight at once: a request waiting for its busy host holds none of the run's total."""

from __future__ import annotations

import asyncio

from newsmirror.fetch.client import Fetcher, FetchSettings
from tests.holdserver import HoldServers


async def _fetch_all(settings: FetchSettings, urls: list[str]) -> list[bytes]:
    async with Fetcher(settings, trust_env=False) as fetcher:
        return [r.body for r in await asyncio.gather(*(fetcher.fetch(u) for u in urls))]


def test_waiting_for_a_busy_host_holds_none_of_the_total() -> None:
    # One request per host at a time, two in all: four for a busy host and one for
    # another. The busy host answers only once the other host's answer is in, which
    # needs the second of the two slots while three requests queue for the busy host.
    settings = FetchSettings(timeout=60, connect_timeout=10, per_host=1, concurrency=2)
    with HoldServers(["127.0.0.1", "127.0.0.2"]) as servers:
        busy = [servers.serve("127.0.0.1", f"/a{i}", f"a{i}", "text/plain", held=True)
                for i in range(4)]
        other = servers.serve("127.0.0.2", "/b", "b", "text/plain")
        servers.release = lambda record, host, path: ("127.0.0.2", "/b") in record.done
        bodies = asyncio.run(_fetch_all(settings, [*busy, other]))
    assert bodies == [b"a0", b"a1", b"a2", b"a3", b"b"]
    # Nothing waited out its hold: the other host was answered while the busy one queued.
    assert servers.holds_timed_out == 0
    assert servers.max_active["127.0.0.1"] == 1 and servers.max_total <= 2
