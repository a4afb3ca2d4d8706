"""Article pages at the configured limits: a summary-only source against injected latency.

    python bench/pages.py [--items 60] [--delay 0.2] [--per-host 2] [--concurrency 16]
                          [--repeat 3] [--baseline REV] [--quick] [--no-write]

A loopback server answers every request (the feed and each article page) after `--delay`
seconds and records how many requests it had in flight at once. One source of `--items`
summaries with `full_text = "auto"` (no selector: the generic extractor runs on every
page) is mirrored into an empty archive (no push), by:

- serial: the code at `--baseline` (default: the commit before concurrent page fetches),
  taken with `git archive` into a temporary folder, which fetched one page at a time;
- concurrent: the code of this tree;
- the code of this tree with no delay at all: what the run costs besides waiting.

Each is timed around `run_mirror` in a child process (imports and start-up excluded),
`--repeat` times (median). The floor is what the limits allow and nothing more: the feed,
then the pages `per_host` at a time, each after the delay:
delay x (1 + ceil(items / per_host)). Prints the machine, the figures and the ratios,
and writes bench/RESULTS-pages.md (unless --no-write). --quick: 12 items, 50 ms, one
repeat and no baseline, for a smoke check; its figures are not comparable.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape
from machine import facts as machine

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASELINE = "82259b1"  # main before article pages were fetched side by side
T0 = 1_764_000_000
PARAGRAPHS = [
    "记者在现场采访了多位当事人，了解事件的来龙去脉，并查阅了相关的公开文件。",
    "当局表示将在下周公布调查结果，并承诺对公众保持透明，接受社会各界的监督。",
    "分析人士认为，这一事件可能对地区局势产生深远影响，值得国际社会持续关注。",
    "多名居民告诉本台，他们对事态的发展感到担忧，希望有关方面尽快给出明确答复。",
]


def page_html(i: int) -> bytes:
    """An article page shaped like the outlets': navigation, share block, the story, a
    related list and a footer around it."""
    story = "".join(f"<p>第{i}篇第{n}段：{PARAGRAPHS[(i + n) % len(PARAGRAPHS)] * 2}</p>"
                    for n in range(8))
    related = "".join(f'<li><a href="/page/{(i + k) % 97}.html">相关报道{k}</a></li>'
                      for k in range(1, 6))
    return (f"<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>报道{i}</title>"
            "<script>window.track && track()</script></head><body>"
            "<header><nav><a href='/'>首页</a> <a href='/world'>国际</a> <a href='/china'>中国</a>"
            "</nav></header><main><article><h1>报道{i}</h1>"
            "<div class='share'>分享 微博 微信</div>"
            f"<div class='byline'>本台记者 2026年12月3日</div><div class='story'>{story}</div>"
            f"</article><aside><h2>相关报道</h2><ul>{related}</ul></aside></main>"
            "<footer>版权所有 联系我们</footer></body></html>").encode()


def feed_xml(base: str, items: int) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
             f"<title>摘要源</title><link>{base}/</link>"]
    for i in range(items):
        when = format_datetime(datetime.fromtimestamp(T0 + 60 * i, tz=UTC), usegmt=True)
        parts.append(f"<item><title>报道{i}</title><link>{base}/page/{i}.html</link>"
                     f"<guid>{i}</guid><pubDate>{when}</pubDate>"
                     f"<description>{escape('<p>摘要：' + PARAGRAPHS[i % 4][:20] + '</p>')}"
                     "</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


class SlowServer:
    """Every answer after `delay` seconds; the most requests in flight at once."""

    def __init__(self, items: int, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.active = self.max_active = self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with server.lock:
                    server.requests += 1
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    time.sleep(server.delay)
                    body, kind = server.answer(self.path)
                    self.send_response(200 if body else 404)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with server.lock:
                        server.active -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.feed = feed_xml(self.base, items)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str) -> tuple[bytes, str]:
        if path == "/feed.xml":
            return self.feed, "application/rss+xml; charset=utf-8"
        if path.startswith("/page/") and path.endswith(".html"):
            return page_html(int(path[6:-5])), "text/html; charset=utf-8"
        return b"", "text/plain"

    def reset(self) -> None:
        with self.lock:
            self.max_active = self.requests = 0

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


CHILD = r"""
import asyncio, json, sys, time
from pathlib import Path
import newsmirror
from newsmirror.config import parse_config
from newsmirror.jobs.mirror import run_mirror
spec = json.loads(sys.argv[1])
config = parse_config(spec["config"], file="bench.toml", base=Path(spec["base"]))
started, cpu = time.perf_counter(), time.process_time()
report = asyncio.run(run_mirror(config, push=False, now_ms=spec["now_ms"]))
wall, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"wall": wall, "cpu": cpu, "new": report.new,
                  "page_failures": len(report.page_failures),
                  "module": newsmirror.__file__}))
"""


def run_once(server: SlowServer, code: Path, workdir: Path, label: str, per_host: int,
             concurrency: int) -> dict:
    archive = workdir / label
    config = {"archive": {"path": str(archive)},
              "fetch": {"per_host": per_host, "concurrency": concurrency, "timeout": 60},
              "sources": [{"slug": "pages", "name": "摘要源", "url": f"{server.base}/feed.xml",
                           "full_text": "auto"}]}
    spec = {"config": config, "base": str(workdir), "now_ms": T0 * 1000 + 86_400_000}
    env = dict(os.environ, PYTHONPATH=str(code), GIT_AUTHOR_NAME="bench",
               GIT_AUTHOR_EMAIL="bench@example.invalid", GIT_COMMITTER_NAME="bench",
               GIT_COMMITTER_EMAIL="bench@example.invalid")
    server.reset()
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(spec)], env=env, cwd=workdir,
                          capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{label}: the run failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(result["module"]).resolve().is_relative_to(code.resolve()):
        raise SystemExit(f"{label}: ran {result['module']}, not the code under {code}")
    result["max_in_flight"] = server.max_active
    result["requests"] = server.requests
    return result


def baseline_code(rev: str, into: Path) -> Path | None:
    """The newsmirror package at `rev`, unpacked under `into`; None when git cannot."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "newsmirror"],
                             capture_output=True, check=False)
    if archive.returncode != 0:
        return None
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the serial code "
                        "('none' to skip it)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.items, args.delay, args.repeat, args.baseline = 12, 0.05, 1, "none"
    floor = args.delay * (1 + math.ceil(args.items / args.per_host))
    rows: list[tuple[str, float, list[float], dict]] = []
    lines = ["## Machine", ""] + [f"- {k}: {v}" for k, v in machine()] + [""]
    server = SlowServer(args.items, args.delay)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
            work = Path(tmp)
            codes: list[tuple[str, Path]] = []
            if args.baseline != "none":
                base = baseline_code(args.baseline, work / "baseline")
                if base is None:
                    print(f"warning: no baseline: git archive {args.baseline} failed", file=sys.stderr)
                else:
                    codes.append((f"serial ({args.baseline})", base))
            codes.append(("concurrent (this tree)", REPO))
            for label, code in codes:
                walls, cpus, last = [], [], {}
                for n in range(args.repeat):
                    last = run_once(server, code, work, f"{len(rows)}-{n}", args.per_host,
                                    args.concurrency)
                    if last["new"] != args.items or last["page_failures"]:
                        raise SystemExit(f"{label}: {last}")
                    walls.append(last["wall"])
                    cpus.append(last["cpu"])
                    print(f"{label} run {n + 1}: {last['wall']:.2f} s, "
                          f"{last['max_in_flight']} in flight at most", file=sys.stderr)
                last["cpu"] = statistics.median(cpus)
                rows.append((label, statistics.median(walls), walls, last))
            # The run's own work (extraction, writes, git) with no latency at all.
            server.delay = 0.0
            idle = [run_once(server, REPO, work, f"idle-{n}", args.per_host,
                             args.concurrency)["wall"] for n in range(args.repeat)]
            print(f"no latency: {', '.join(f'{w:.2f}' for w in idle)} s", file=sys.stderr)
    finally:
        server.close()
    table = [("| Code | Wall (median) | Runs | × floor | CPU (median, python) | "
              "Most requests in flight |"), "|---|---|---|---|---|---|"]
    for label, wall, walls, last in rows:
        table.append(f"| {label} | {wall:.2f} s | {', '.join(f'{w:.2f}' for w in walls)} | "
                     f"{wall / floor:.2f}× | {last['cpu']:.2f} s | {last['max_in_flight']} |")
    summary = [(f"{args.items} summary items, every answer delayed {args.delay * 1000:.0f} ms, "
                f"per_host = {args.per_host}, concurrency = {args.concurrency}. Floor: "
                f"{args.delay:g} s × (1 feed + ⌈{args.items}/{args.per_host}⌉ page waves) = "
                f"{floor:.2f} s."), "", *table, ""]
    if len(rows) == 2:
        summary += [f"Serial / concurrent: {rows[0][1] / rows[1][1]:.2f}×.", ""]
    own = statistics.median(idle)
    summary += [(f"The same run with no latency (this tree; extraction, writes, lists, git): "
                 f"{own:.2f} s (runs: {', '.join(f'{w:.2f}' for w in idle)}). With that taken "
                 "off, the time spent waiting for the network is "
                 + ", ".join(f"{label} {(wall - own) / floor:.2f}× the floor"
                             for label, wall, _, _ in rows) + "."), ""]
    text = "\n".join(lines + ["## Results", ""] + summary)
    print(text)
    if not args.no_write and not args.quick:
        head = ["# Article pages at the configured limits", "",
                ("Written by `python bench/pages.py`; rerun it to refresh this file. "
                 "A loopback server delays every answer; one summary-only source "
                 "(`full_text = \"auto\"`, generic extraction of every page) is mirrored into "
                 "an empty archive, timed around `run_mirror` in a child process."), ""]
        notes = ["## Reading the figures", "",
                 ("Serial code waits one delay per page, one after another: its wait is about "
                  "(1 + items) delays, ⌈items/per_host⌉ + 1 only at the limits. Concurrent code "
                  "keeps `per_host` pages in flight (the server saw no more), and extracts and "
                  "writes the articles while the next pages are on their way, so its wall time "
                  "is the floor plus the part of its own work that cannot overlap the waiting "
                  "(the commit, lists and feeds after the last page); subtracting the whole "
                  "no-latency run can therefore give less than the floor. The machine is "
                  "shared (see the load average): compare the ratios, not the seconds."), ""]
        document = "\n".join(head) + "\n" + text + "\n" + "\n".join(notes)
        (HERE / "RESULTS-pages.md").write_text(document, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
