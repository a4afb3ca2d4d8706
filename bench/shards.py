"""What yearly shards cost an hour (issue 15 item 5): the second commit and push.

    python bench/shards.py [--hours 10] [--sources 15] [--per-hour 3] [--window 20] [--no-write]

Two archives on the same loopback feeds (bench/synth.py), each with bare remotes on disk:
one with `rotate = "none"` (the floor: the same hour in one repository) and one with
`rotate = "yearly"` whose first run is on 31 December, so that every later hour (in
January) writes its new articles into the shard `<name>-2027` and its lists into the main
repository: two commits and two pushes an hour instead of one. Both take a baseline run,
then `hours` hourly runs of the real mirror job (in this process, with the run's clock
given), each bringing `per-hour` new items on every source; the two archives' runs are
interleaved hour by hour so they share the machine's load. Prints the machine, each
archive's median hour and the ratio to the floor; writes bench/RESULTS-shards.md unless
--no-write.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import synth
from machine import markdown as machine_markdown

from newsmirror.config import parse_config
from newsmirror.jobs.mirror import run_mirror

DEC_31 = 1_798_689_600_000  # 2026-12-31 12:00 China time
JAN_1 = 1_798_765_200_000  # 2027-01-01 09:00 China time
RESULTS = HERE / "RESULTS-shards.md"


def bare(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    return path


def config(root: Path, server: synth.FeedServer, sources: int, rotate: str):
    data = {"archive": {"path": str(root / "archive"), "remote": str(root / "news.git"), "rotate": rotate},
            "sources": [{"slug": f"s{s}", "name": f"新闻源{s}", "url": server.url(s)} for s in range(sources)]}
    return parse_config(data, file="bench.toml", base=root)


def hour(cfg, now_ms: int) -> float:
    start = time.perf_counter()
    report = asyncio.run(run_mirror(cfg, now_ms=now_ms))
    elapsed = time.perf_counter() - start
    if report.push is not None and not report.push.ok:
        raise SystemExit(f"push failed: {report.push.message}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=int, default=10)
    parser.add_argument("--sources", type=int, default=15)
    parser.add_argument("--per-hour", type=int, default=3)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    server = synth.FeedServer()
    try:
        with tempfile.TemporaryDirectory(prefix="newsmirror-shards-") as tmp:
            configs = {}
            for rotate in ("none", "yearly"):
                root = Path(tmp) / rotate
                root.mkdir()
                bare(root / "news.git")
                bare(root / "news-2027.git")
                configs[rotate] = config(root, server, args.sources, rotate)
            for s in range(args.sources):
                server.documents[f"/s{s}.xml"] = synth.feed(s, range(args.window))
            for cfg in configs.values():
                hour(cfg, DEC_31)
            times: dict[str, list[float]] = {"none": [], "yearly": []}
            for h in range(1, args.hours + 1):
                newest = args.window + h * args.per_hour
                for s in range(args.sources):
                    server.documents[f"/s{s}.xml"] = synth.feed(s, range(newest - args.window, newest))
                for rotate, cfg in configs.items():
                    times[rotate].append(hour(cfg, JAN_1 + h * 3_600_000))
            shard = Path(tmp) / "yearly" / "archive" / ".newsmirror/cache/shards/2027"
            in_shard = len(list((shard / "articles").rglob("*.md")))
    finally:
        server.close()
    floor, sharded = statistics.median(times["none"]), statistics.median(times["yearly"])
    new = args.sources * args.per_hour
    lines = ["# Yearly shards: the cost of an hour's second commit and push", "",
             "`python bench/shards.py` " + " ".join(sys.argv[1:]), "",
             *machine_markdown(), "",
             f"{args.hours} hourly runs of {new} new articles ({args.sources} sources × {args.per_hour}), "
             f"after a baseline of {args.sources * args.window} articles; bare remotes on the same disk; "
             f"the sharded archive's {in_shard} new articles went to its shard.", "",
             "| archive | median hour | min | max | ratio to the floor |",
             "| --- | ---: | ---: | ---: | ---: |",
             f"| rotate = \"none\" (floor: one commit, one push) | {floor:.3f} s | {min(times['none']):.3f} s | "
             f"{max(times['none']):.3f} s | 1.00× |",
             f"| rotate = \"yearly\" (shard + main: two commits, two pushes) | {sharded:.3f} s | "
             f"{min(times['yearly']):.3f} s | {max(times['yearly']):.3f} s | {sharded / floor:.2f}× |", "",
             f"The second repository costs {sharded - floor:+.3f} s an hour (median against median).", ""]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
