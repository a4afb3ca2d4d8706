"""How much packed history an article costs, derived files included (issue 16 item 2).

    python bench/growth.py [--hours 100] [--sources 15] [--per-hour 3] [--window 20]
                           [--no-write] [--keep]

Runs the real mirror job (`newsmirror run` in a child process, bench/run.py's `mirror`)
against bench/synth.py's loopback feed server: a first run ingests each source's feed
window (the baseline commit), then `hours` hourly runs, each bringing `per-hour` new items
on every source (15 x 3 = 45 new articles an hour by default), one commit each.

Then it measures the history those hours added, packed as git packs it:

- the whole repository after a normal `git gc` (`git count-objects -v`, size-pack), at the
  baseline and at the end;
- per part of the archive: the objects of all history (`git rev-list --objects --all`)
  grouped by their path's first component (articles/, feeds/, lists and other files,
  commits and the root tree), each group packed on its own (`git pack-objects --stdout`),
  at the baseline and at the end.

The floor is the article files alone: the packed bytes per article of the articles/ group.
Prints the machine, a table and the ratio to the floor; writes bench/RESULTS-growth.md
unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402
import synth  # noqa: E402
from machine import markdown as machine_markdown  # noqa: E402

TARGET = 2500  # bytes of packed history per article, derived files included
RESULTS = HERE / "RESULTS-growth.md"
KEPT = "<!-- bench/growth.py keeps what follows this line -->"


def git(archive: Path, *args: str, data: bytes | None = None) -> bytes:
    done = subprocess.run(["git", *args], cwd=archive, input=data, capture_output=True,
                          env={**os.environ, **bench.GIT_ENV})
    if done.returncode:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout


def group_of(path: str) -> str:
    """The part of the archive an object belongs to, by its path."""
    if not path:
        return "commits and root tree"
    top = path.split("/", 1)[0]
    if top in ("articles", "feeds"):
        return top + "/"
    if "list" in top.lower() or top.endswith(".md"):
        return "lists and READMEs"
    return "other"


def packed_by_group(archive: Path) -> dict[str, int]:
    """Packed bytes of all history's objects, each group packed on its own."""
    groups: dict[str, list[str]] = defaultdict(list)
    for line in git(archive, "rev-list", "--objects", "--all").decode().splitlines():
        sha, _, path = line.partition(" ")
        groups[group_of(path)].append(line if path else sha)
    return {name: len(git(archive, "pack-objects", "--stdout", "-q",
                          data=("\n".join(lines) + "\n").encode()))
            for name, lines in groups.items()}


def size_pack(archive: Path) -> int:
    """Bytes of the repository's packs after a normal `git gc`."""
    git(archive, "gc", "-q")
    for line in git(archive, "count-objects", "-v").decode().splitlines():
        if line.startswith("size-pack:"):
            return int(line.split(":")[1]) * 1024
    raise SystemExit("git count-objects printed no size-pack")


def serve_hour(server: synth.FeedServer, sources: int, end: int, window: int) -> None:
    bench.serve(server, range(sources), range(max(0, end - window), end))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=int, default=100)
    parser.add_argument("--sources", type=int, default=15)
    parser.add_argument("--per-hour", type=int, default=3, help="new items per source per hour")
    parser.add_argument("--window", type=int, default=20, help="items in each feed")
    parser.add_argument("--label", default="", help="BEFORE / AFTER: the heading of this run in the results file")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    S, H, K, W = args.sources, args.hours, args.per_hour, args.window

    work = Path(tempfile.mkdtemp(prefix="nm-growth-"))
    server = synth.FeedServer()
    try:
        config = bench.write_config(work / "newsmirror.toml", server, S)
        archive = work / "archive"
        serve_hour(server, S, W, W)
        bench.mirror(work, "baseline", config, archive)
        base_pack, base_groups = size_pack(archive), packed_by_group(archive)
        new = 0
        for hour in range(1, H + 1):
            serve_hour(server, S, W + hour * K, W)
            got = bench.mirror(work, f"hour{hour}", config, archive).counts()
            if got.get("new") != S * K or got.get("failed"):
                raise SystemExit(f"hour {hour}: expected {S * K} new articles, got {got}")
            new += S * K
        commits = int(git(archive, "rev-list", "--count", "HEAD"))
        end_pack, end_groups = size_pack(archive), packed_by_group(archive)
    finally:
        server.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    per = {name: (end_groups.get(name, 0) - base_groups.get(name, 0)) / new for name in end_groups}
    total = (end_pack - base_pack) / new
    floor = per.get("articles/", 0.0)
    rows = ["| part of the archive | packed bytes per new article | share of the parts |", "|---|---|---|"]
    parts = sum(per.values())
    for name in sorted(per, key=lambda n: -per[n]):
        rows.append(f"| {name} | {per[name]:,.0f} B | {per[name] / parts:.0%} |")
    rows.append(f"| **sum of the parts, each packed alone** | **{parts:,.0f} B** | |")
    lines = [f"{H} hourly runs, {S} sources x {K} new items = {new} new articles over {commits - 1} "
             f"commits after the baseline ({S} x {W} articles); each source feed serves its {W} newest items.", "",
             *rows, "",
             f"Whole repository after `git gc`: {(end_pack - base_pack):,} B added, "
             f"**{total:,.0f} B per new article** (target ≤ {TARGET:,} B: "
             f"{'met' if total <= TARGET else 'NOT met'}).",
             f"Floor (the article files alone): {floor:,.0f} B per article; the whole history is "
             f"**{total / floor:.2f}x** the floor." if floor else "Floor: no article objects?", ""]
    out = "\n".join(["## Machine", "", *machine_markdown(), "", *lines])
    print(out)
    if not args.no_write:
        heading = f"## {args.label or 'Run'}: `python bench/growth.py" + (
            "" if (H, S, K, W) == (100, 15, 3, 20) else f" --hours {H} --sources {S} --per-hour {K} --window {W}") + "`"
        old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else (
            "# Repository growth per article (issue 16 item 2)\n\nWritten by `bench/growth.py`; "
            "each run appends its section.\n\n" + KEPT + "\n")
        RESULTS.write_text(old.rstrip("\n") + "\n\n" + heading + "\n\n" + out.replace("## Machine", "### Machine")
                           + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
