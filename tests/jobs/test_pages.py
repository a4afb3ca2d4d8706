"""Article pages of summary-only sources are fetched side by side, within the limits the
configuration sets (per host and in total), on real loopback servers that record how
many requests they had in flight at once; what is written does not depend on the order
in which the answers arrive, and one page that fails costs that page only."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.helpers import Mirror, git
from tests.holdserver import HoldServers
from tests.jobs.feeds import Item, rss

T0 = 1_764_000_000_000
PAGE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>{n}</title></head><body>"
        "<div class='story'><p>第{n}篇的全文：记者在现场采访了多位当事人，了解事件的来龙去脉。</p>"
        "</div></body></html>")
RSS_TYPE = "application/rss+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


def summary_source(servers: HoldServers, host: str, slug: str, count: int,
                   full_text: str = "auto") -> dict:
    """A feed on `host` of `count` summaries whose full text is on held pages of `host`."""
    items = []
    for i in range(count):
        link = servers.serve(host, f"/{slug}/{i}.html", PAGE.format(n=f"{slug}{i}"), HTML_TYPE,
                             held=True)
        items.append(Item(f"{slug}报道{i}", link, "<p>摘要</p>", guid=f"{slug}{i}",
                          date_ms=T0 + i * 60_000))
    url = servers.serve(host, f"/{slug}.xml", rss(items), RSS_TYPE)
    return {"slug": slug, "name": f"源{slug}", "url": url, "full_text": full_text,
            "selector": "div.story"}


def limits(per_host: int, concurrency: int) -> dict:
    return {"timeout": 60, "connect_timeout": 10, "per_host": per_host,
            "concurrency": concurrency}


def full_texts(mirror: Mirror) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in mirror.articles()]


def test_pages_of_one_host_go_per_host_at_a_time(tmp_path: Path):
    mirror = Mirror(tmp_path)
    with HoldServers(["127.0.0.1"], target=2) as servers:
        source = summary_source(servers, "127.0.0.1", "s", 9)
        report = mirror.run([source], fetch=limits(per_host=2, concurrency=16), now_ms=T0)
    assert report.new == 9 and not report.page_failures
    # Two at once (the per-host limit), never more, although 16 were allowed in total.
    assert servers.max_active["127.0.0.1"] == 2
    assert servers.holds_timed_out == 0
    assert all(n == 1 for n in servers.hits.values())  # each page fetched once
    texts = full_texts(mirror)
    assert len(texts) == 9 and all("的全文" in t and "摘要" not in t for t in texts)


def test_pages_of_several_hosts_stay_within_the_total(tmp_path: Path):
    hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    mirror = Mirror(tmp_path)
    with HoldServers(hosts, target=3) as servers:
        sources = [summary_source(servers, host, f"s{n}", 6, full_text="page")
                   for n, host in enumerate(hosts)]
        report = mirror.run(sources, fetch=limits(per_host=2, concurrency=3), now_ms=T0)
    assert report.new == 18 and not report.page_failures
    assert servers.max_total == 3  # reached, never exceeded
    assert all(servers.max_active[host] <= 2 for host in hosts)
    assert servers.holds_timed_out == 0


def _run_answering(servers: HoldServers, source: dict, folder: Path,
                   order: list[int]) -> tuple[Mirror, str]:
    """A mirror of `source` whose pages are answered one by one in `order` (indices)."""
    mirror = Mirror(folder)
    rank = {f"/s/{i}.html": n for n, i in enumerate(order)}

    def in_order(record: HoldServers, host: str, path: str) -> bool:
        # Answer only once every page before this one in `order` has been answered.
        answered = {p for _, p in record.done}
        return all(p in answered for p, n in rank.items() if n < rank[path])

    servers.done.clear()
    servers.held_done = 0
    servers.release = in_order
    report = mirror.run([source], fetch=limits(per_host=8, concurrency=16), now_ms=T0)
    assert report.new == 6 and not report.page_failures
    assert [p for _, p in servers.done if p in rank] == [f"/s/{i}.html" for i in order]
    return mirror, git("rev-parse", "HEAD^{tree}", cwd=mirror.archive)


def test_what_is_written_does_not_depend_on_the_order_pages_arrive_in(tmp_path: Path):
    with HoldServers(["127.0.0.1"]) as servers:
        source = summary_source(servers, "127.0.0.1", "s", 6)
        forward, forward_tree = _run_answering(servers, source, tmp_path / "a", [0, 1, 2, 3, 4, 5])
        backward, backward_tree = _run_answering(servers, source, tmp_path / "b",
                                                 [5, 4, 3, 2, 1, 0])
    assert servers.holds_timed_out == 0
    assert forward_tree == backward_tree  # the same files, byte for byte, in one commit
    assert git("log", "--format=%B", cwd=forward.archive) == git("log", "--format=%B",
                                                                 cwd=backward.archive)
    assert [p.relative_to(forward.archive) for p in forward.articles()] == \
           [p.relative_to(backward.archive) for p in backward.articles()]
    assert all("的全文" in t for t in full_texts(forward))


def test_one_failing_page_costs_that_page_only(tmp_path: Path):
    mirror = Mirror(tmp_path)
    with HoldServers(["127.0.0.1"], target=2) as servers:
        source = summary_source(servers, "127.0.0.1", "s", 5, full_text="page")
        missing = servers.url("127.0.0.1", "/s/1.html")
        del servers.routes[("127.0.0.1", "/s/1.html")]  # answered 404
        # A surprise in the page layer for one page: its cache entry cannot be read.
        broken = servers.serve("127.0.0.1", "/s/3.html", PAGE.format(n="s3"), HTML_TYPE)
        cache = mirror.archive / ".newsmirror" / "cache" / "pages"
        (cache / f"{hashlib.sha256(broken.encode()).hexdigest()[:32]}.html").mkdir(parents=True)
        report = mirror.run([source], fetch=limits(per_host=2, concurrency=16), now_ms=T0)
    assert report.new == 5 and report.ok
    assert set(report.page_failures) == {missing, broken}
    assert "404" in report.page_failures[missing]
    assert report.page_failures[broken].startswith("internal error (a bug in newsmirror; please report it): IsADirectoryError")
    by_title = {t.split("\n")[1]: t for t in full_texts(mirror)}
    for i in range(5):
        text = next(t for head, t in by_title.items() if f"s报道{i}" in head)
        if i in (1, 3):
            assert "摘要" in text and "的全文" not in text  # the feed's text stands in
        else:
            assert f"第s{i}篇的全文" in text
    assert servers.max_active["127.0.0.1"] <= 2
