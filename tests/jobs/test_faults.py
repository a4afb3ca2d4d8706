"""A whole run against servers that misbehave in every way a network can: the run ends
within its time bound, the healthy sources are mirrored and a broken source's part of the
archive is left exactly as it was."""

import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.fetch.faultserver import MAX_HANG_S, FaultServer
from tests.jobs.feeds import Item, rss

FAULTS = {
    "hang": "/hang?s=30",
    "trickle": "/trickle?every=0.3",
    "huge": "/huge",
    "huge-nolength": "/huge?length=0",
    "loop": "/loop",
    "drop": "/drop",
    "close": "/close",
    "err500": "/status/500",
    "busy": "/status/429?retry_after=3600",
    "gone": "/status/410",
    "notmod": "/status/304",
    "html": "/html",
    "badgzip": "/badgzip",
}
TIMEOUT = 2.0


@pytest.fixture
def faults():
    server = FaultServer().start()
    yield server
    server.close()


def snapshot(root: Path, slug: str) -> dict[str, bytes]:
    found = {}
    for folder in (root / "articles" / slug, ):
        for path in folder.rglob("*") if folder.exists() else ():
            if path.is_file():
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    for extra in (f"lists/{slug}.md", f"feeds/{slug}.xml"):
        if (root / extra).exists():
            found[extra] = (root / extra).read_bytes()
    return found


def test_every_fault_at_once(mirror, httpserver: HTTPServer, faults: FaultServer):
    items = [Item(f"新闻{i}", f"https://news.test/{i}", f"<p>{i}</p>", guid=str(i), date_ms=10**12 + i)
             for i in range(3)]
    httpserver.expect_request("/good.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    good = {"slug": "good", "name": "好", "url": httpserver.url_for("/good.xml")}
    # Every faulty source first has articles of its own from a healthy day.
    healthy = [{"slug": slug, "name": slug, "url": httpserver.url_for(f"/{slug}.xml")} for slug in FAULTS]
    for slug in FAULTS:
        httpserver.expect_request(f"/{slug}.xml").respond_with_data(
            rss([Item(f"{slug}旧闻", f"https://news.test/{slug}", "<p>旧</p>", guid=slug, date_ms=10**12)]),
            content_type="application/rss+xml")
    # A small size cap, so that the huge answers trip it long before the deadline even on a
    # loaded machine (the cap, not the clock, is what they test).
    fetch = {"timeout": TIMEOUT, "connect_timeout": 1, "max_bytes": 256 * 1024}
    first = mirror.run([good, *healthy], fetch=fetch)
    assert first.new == 3 + len(FAULTS)
    before = {slug: snapshot(mirror.archive, slug) for slug in FAULTS}

    broken = [{"slug": slug, "name": slug, "url": faults.url(path)} for slug, path in FAULTS.items()]
    started = time.monotonic()
    report = mirror.run([good, *broken], fetch=fetch)
    elapsed = time.monotonic() - started
    # Each request is bounded by its own deadline: the run ends long before the hanging
    # servers would have let go (a bound set by the faults, not by the machine's speed).
    assert elapsed < MAX_HANG_S, elapsed

    by = {o.slug: o for o in report.outcomes}
    assert by["good"].failed is None and by["good"].unchanged == 3
    for slug in FAULTS:
        if slug == "notmod":
            assert by[slug].not_modified
        else:
            assert by[slug].failed, slug
        assert snapshot(mirror.archive, slug) == before[slug], slug
    assert "timed out" in by["hang"].failed and "timed out" in by["trickle"].failed
    assert "larger than" in by["huge"].failed and "larger than" in by["huge-nolength"].failed
    assert "redirects" in by["loop"].failed
    assert "410" in by["gone"].failed and "429" in by["busy"].failed
    assert "not a feed" in by["html"].failed.lower()
    assert report.ok

    from newsmirror.sources.health import read_health

    read = read_health(mirror.archive / ".newsmirror/health.json")
    assert read.problems == []
    health = read.states
    assert health["gone"].dead
    assert health["busy"].next_attempt_ms - health["busy"].last_attempt_ms >= 3600 * 1000
    assert health["hang"].failures == 1 and health["good"].failures == 0
    # The next hour, failing sources wait for their backoff; the healthy one is fetched.
    again = mirror.run([good, *broken], fetch=fetch)
    skipped = {o.slug for o in again.outcomes if o.skipped}
    assert skipped == set(FAULTS) - {"notmod"}
