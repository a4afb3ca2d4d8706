"""Scale stated, not guessed (issue 16 item 6): every figure of an hour and of the site at
several archive sizes, in one table, with the growth exponent of each.

    python bench/scale.py [--sizes 100000,300000] [--sources 200] [--window 20] [--work DIR]
                          [--idle-runs 3] [--no-site] [--reuse] [--no-write]

For each size N, on a synthetic archive of N articles (bench/run.py's writer through
bench/rebuild.py's `archive_for`: the paths and bytes the pipeline writes, committed once
and packed, as a clone is; built once and reused from --work, reset to that commit before
each measurement), each command in a child process (bench/child.py) whose wall time and
peak memory (the process and its git commands) are measured:

- idle hour: `newsmirror run` when every source answers 304 (median of --idle-runs), after
  two untimed runs (the first rebuilds the catalog from the files and fetches the ETags);
- busy hour: 45 new items (3 on each of 15 sources);
- rebuild (a cache miss): the catalog rebuilt from the files, and the whole `newsmirror
  rebuild`, with bench/rebuild.py's floor (every article file's bytes read) in the same run;
- site full (into an empty folder) and incremental (100 new articles committed, built into
  the same folder), with bench/site_scale.py's floor of the incremental hour;
- clone: `git clone` in full and `--depth 1` from a bare copy of the archive through a
  file:// address (git's pack protocol: a real transfer, not hard links), against a floor
  of copying the bare repository's files and writing the working tree (every file of the
  tip decompressed through one `git cat-file --batch`, written by a Python loop): the bytes
  that must cross and the files that must be written, with no index-pack and no index;
- the archive's size on disk (working tree and .git) and the site's.

Every figure is shown with the 1-minute load average when it started (the machine is
shared). Between consecutive sizes the growth exponent k of each (figure ∝ N^k; 1 is
linear). --parts measures only some of hours, rebuild, site, clones (the site builds are the
longest part at large sizes), keeping the figures measured before for the others. --reuse
takes the figures of a size measured before from --work (figures-N.json) instead of
measuring it again, so that a large size can be added to a table later. Writes the top of
bench/RESULTS-scale.md unless --no-write (what follows its marker line is kept).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import rebuild  # noqa: E402
import run as bench  # noqa: E402
import site_scale  # noqa: E402
import synth  # noqa: E402
from machine import markdown as machine_markdown  # noqa: E402

BUSY_SOURCES, BUSY_ITEMS = 15, 3  # 45 new articles in the busy hour
SITE_NEW = 100  # new articles in the site's incremental hour, on the first SITE_NEW // 10 sources
RESULTS = HERE / "RESULTS-scale.md"
KEPT = "<!-- bench/scale.py keeps what follows this line -->"

Cell = list  # [value, load average when it started] or [value, None] for a ratio or a size


@dataclass
class Size:
    articles: int
    figures: dict[str, Cell | None]
    notes: list[str]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def git(archive: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=archive, capture_output=True, text=True,
                          env={**os.environ, **bench.GIT_ENV})
    if done.returncode:
        raise SystemExit(f"git {' '.join(args)} failed in {archive}: {done.stderr}")
    return done.stdout.strip()


def as_built(archive: Path) -> None:
    """The archive back at the one commit it was built with: what earlier measurements
    added (commits, lists, feeds, the cache) goes."""
    root = git(archive, "rev-list", "--max-parents=0", "HEAD").split()[0]
    git(archive, "reset", "-q", "--hard", root)
    git(archive, "clean", "-q", "-f", "-d", "-x")


def disk_bytes(path: Path) -> int:
    done = subprocess.run(["du", "-s", "-k", str(path)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0]) * 1024


def child(run: bench.ChildRun | bench.Measured) -> tuple[Cell, Cell]:
    """(wall seconds, peak MB), each with the load average it started at."""
    return [run.wall_s, run.load[0]], [run.maxrss_mb, run.load[0]]


def hours(work: Path, archive: Path, server: synth.FeedServer, config: Path, *, sources: int, per_source: int,
          window: int, idle_runs: int, label: str) -> tuple[dict[str, Cell | None], list[str]]:
    """Idle and busy hour of `newsmirror run` on the archive (see the module's docstring)."""
    bench.serve(server, range(sources), range(per_source - window, per_source))
    notes = []
    for n in (1, 2):
        warm = bench.mirror(work, f"warm{n}-{label}", config, archive)
        got = warm.counts()
        if got.get("new") or got.get("updated") or got.get("failed"):
            raise SystemExit(f"{label}: an untimed run on the built archive reported {got}: the built files "
                             "do not match what the pipeline writes")
        notes.append(f"untimed run {n} before the idle hour: {warm.wall_s:.1f} s")
    before = server.not_modified
    idles = [bench.mirror(work, f"idle{n}-{label}", config, archive) for n in range(idle_runs)]
    if server.not_modified - before != idle_runs * sources or any("nothing to commit" not in r.stdout for r in idles):
        raise SystemExit(f"{label}: the idle runs were not idle ({server.not_modified - before} answers 304)")
    idle = sorted(idles, key=lambda r: r.wall_s)[len(idles) // 2]
    notes.append("idle hour runs: " + ", ".join(f"{r.wall_s:.2f} s" for r in idles) + " (the median is shown)")
    busy_sources = range(sources - BUSY_SOURCES, sources)
    bench.serve(server, busy_sources, range(per_source + BUSY_ITEMS - window, per_source + BUSY_ITEMS))
    busy = bench.mirror(work, f"busy-{label}", config, archive)
    got = busy.counts()
    if got.get("new") != BUSY_SOURCES * BUSY_ITEMS or got.get("updated") or got.get("failed"):
        raise SystemExit(f"{label}: the busy hour expected {BUSY_SOURCES * BUSY_ITEMS} new articles, got {got}")
    figures: dict[str, Cell | None] = {}
    notes.append(f"peak memory: idle hour newsmirror {idle.python_mb:.0f} MB, its largest git command "
                 f"{idle.git_mb:.0f} MB; busy hour newsmirror {busy.python_mb:.0f} MB, git {busy.git_mb:.0f} MB")
    figures["idle hour, s"], figures["idle hour, peak MB"] = child(idle)
    figures["busy hour (45 new), s"], figures["busy hour, peak MB"] = child(busy)
    return figures, notes


def cache_miss(work: Path, archive: Path, config: Path) -> dict[str, Cell | None]:
    """bench/rebuild.py's measurement: the catalog rebuilt from the files, and its floor."""
    size = rebuild.measure(work, archive, config, profile=False)
    load = size.run.load[0]
    return {"rebuild: catalog from the files, s": [size.catalog_s, load],
            "rebuild: whole `newsmirror rebuild`, s": [size.run.wall_s, load],
            "rebuild, peak MB": [size.run.maxrss_mb, load],
            "rebuild floor: read every article file, s": [size.read_floor_s, load],
            "rebuild: catalog from the files, CPU s": [size.catalog_cpu_s, load],
            "rebuild floor, CPU s": [size.read_floor_cpu_s, load],
            "rebuild: catalog CPU / floor CPU": [size.catalog_cpu_s / size.read_floor_cpu_s
                                                 if size.read_floor_cpu_s else 0.0, None],
            "rebuild: catalog / floor": [size.catalog_s / size.read_floor_s if size.read_floor_s else 0.0, None]}


def site(work: Path, archive: Path, config: Path, *, sources: int, per_source: int,
         label: str) -> dict[str, Cell | None]:
    """bench/site_scale.py's builds: full, then an incremental hour of SITE_NEW articles."""
    folder = work / f"site-{label}"
    shutil.rmtree(folder, ignore_errors=True)
    try:
        b = site_scale.site_builds(work, archive, config, folder, sources=sources, new=SITE_NEW,
                                   start=per_source, label=label)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures: dict[str, Cell | None] = {}
    figures["site full build, s"], figures["site full build, peak MB"] = child(b.full)
    figures["site incremental (100 new), s"], figures["site incremental, peak MB"] = child(b.incremental)
    figures["site incremental floor, s"] = [b.floor_s, b.incremental.load[0]]
    figures["site incremental / floor"] = [b.incremental.wall_s / b.floor_s, None]
    figures["site size, MB"] = [b.site_bytes / 1e6, None]
    return figures


CLONE_FLOOR = r"""
import os, shutil, subprocess, sys, threading
bare, dest = sys.argv[1:3]
shutil.copytree(bare, dest + ".git")
listing = subprocess.run(["git", "-C", bare, "ls-tree", "-r", "-z", "HEAD"], capture_output=True,
                         check=True).stdout
entries = [entry.split(b"\t", 1) for entry in listing.split(b"\0") if entry]
cat = subprocess.Popen(["git", "-C", bare, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def ask():
    cat.stdin.write(b"".join(meta.split()[2] + b"\n" for meta, _ in entries))
    cat.stdin.close()
threading.Thread(target=ask).start()
made = set()
for _meta, path in entries:
    size = int(cat.stdout.readline().split()[2])
    data = cat.stdout.read(size + 1)[:-1]
    target = os.path.join(dest, os.fsdecode(path))
    folder = os.path.dirname(target)
    if folder not in made:
        os.makedirs(folder, exist_ok=True)
        made.add(folder)
    with open(target, "wb") as out:
        out.write(data)
sys.exit(cat.wait())
"""
"""The floor of a clone: the bare repository's files copied (the bytes a transfer moves),
then every file of the tip's tree decompressed through one `git cat-file --batch` and
written to its path; no index-pack, no index."""


def clones(work: Path, archive: Path, label: str) -> dict[str, Cell | None]:
    """`git clone` (full and --depth 1) from a bare copy through file://, and its floor."""
    bare, dest = work / f"bare-{label}.git", work / f"clone-{label}"
    for path in (bare, dest):
        shutil.rmtree(path, ignore_errors=True)
    git(work, "clone", "-q", "--bare", "--no-local", str(archive), str(bare))
    figures: dict[str, Cell | None] = {}
    try:
        for name, depth in (("clone full", []), ("clone --depth 1", ["--depth", "1"])):
            done = bench.measured(["git", "clone", "-q", *depth, bare.as_uri(), str(dest)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if done.exit:
                raise SystemExit(f"{name} of {bare} failed")
            figures[f"{name}, s"], figures[f"{name}, peak MB"] = child(done)
            shutil.rmtree(dest)
        floor = bench.measured([sys.executable, "-c", CLONE_FLOOR, str(bare), str(dest)])
        if floor.exit:
            raise SystemExit("the clone's floor failed")
        figures["clone floor (copy the repository, write the tree), s"] = [floor.wall_s, floor.load[0]]
        full = figures["clone full, s"]
        assert full is not None
        figures["clone full / floor"] = [full[0] / floor.wall_s, None]
        figures["bare repository, MB"] = [disk_bytes(bare) / 1e6, None]
    finally:
        for path in (bare, dest, Path(str(dest) + ".git")):
            shutil.rmtree(path, ignore_errors=True)
    return figures


PARTS = ("hours", "rebuild", "site", "clones")


def measure(work: Path, articles: int, *, sources: int, window: int, idle_runs: int, parts: set[str]) -> Size:
    per_source = max(1, articles // sources)
    window = min(window, per_source)
    say(f"{articles:,} articles: the archive ...")
    archive = rebuild.archive_for(work, articles, sources, window)
    as_built(archive)
    label = str(articles)
    server = synth.FeedServer()
    try:
        config = bench.write_config(work / "newsmirror.toml", server, sources)
        figures: dict[str, Cell | None] = {}
        notes: list[str] = []
        if "hours" in parts:
            say(f"{articles:,} articles: idle and busy hour ...")
            figures, notes = hours(work, archive, server, config, sources=sources, per_source=per_source,
                                   window=window, idle_runs=idle_runs, label=label)
    finally:
        server.close()
    if "rebuild" in parts:
        say(f"{articles:,} articles: rebuild ...")
        figures |= cache_miss(work, archive, config)
    if "site" in parts:
        say(f"{articles:,} articles: site full and incremental ...")
        figures |= site(work, archive, config, sources=sources, per_source=per_source, label=label)
    if "clones" in parts:
        say(f"{articles:,} articles: clones ...")
        figures |= clones(work, archive, label)
    figures["archive on disk (tree + .git), MB"] = [disk_bytes(archive) / 1e6, None]
    figures["archive .git, MB"] = [disk_bytes(archive / ".git") / 1e6, None]
    notes.append(f"{sources} sources × {per_source} articles, the {window} newest of each in its feed; "
                 f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return Size(per_source * sources, figures, notes)


ORDER = ("idle hour, s", "idle hour, peak MB", "busy hour (45 new), s", "busy hour, peak MB",
         "rebuild: catalog from the files, s", "rebuild: whole `newsmirror rebuild`, s", "rebuild, peak MB",
         "rebuild floor: read every article file, s", "rebuild: catalog / floor",
         "rebuild: catalog from the files, CPU s", "rebuild floor, CPU s", "rebuild: catalog CPU / floor CPU",
         "site full build, s", "site full build, peak MB", "site incremental (100 new), s",
         "site incremental, peak MB", "site incremental floor, s", "site incremental / floor", "site size, MB",
         "clone full, s", "clone full, peak MB", "clone --depth 1, s", "clone --depth 1, peak MB",
         "clone floor (copy the repository, write the tree), s", "clone full / floor", "bare repository, MB",
         "archive on disk (tree + .git), MB", "archive .git, MB")


def cell(size: Size, name: str) -> float | tuple[float, str] | None:
    found = size.figures.get(name)
    if found is None:
        return None
    value, load = found
    return value if load is None else (value, f"load {load:.1f}")


def report(sizes: list[Size]) -> str:
    figures = [(name, lambda s, name=name: cell(s, name)) for name in ORDER]
    lines = site_scale.scale_table(sizes, figures)
    worse = []
    for name in ORDER:
        if "/" in name:
            continue  # a ratio's exponent says nothing of growth
        for a, b in zip(sizes, sizes[1:]):
            k = site_scale.exponent(*(s.figures[name][0] if s.figures.get(name) else None  # type: ignore[index]
                                      for s in (a, b)), a.articles, b.articles)
            if k != "—" and float(k) > 1.0:
                worse.append(f"{name} ({a.articles:,}→{b.articles:,}: k = {k})")
    lines += ["", "Worse than linear (k > 1): " + ("; ".join(worse) if worse else "none") + "."]
    lines += ["", "Each timed figure shows the 1-minute load average when it started, on a machine "
              "shared with other work (2 CPUs): wall times include waiting for a CPU. Peak memory is "
              "the maximum resident set of the process or of the largest of its git commands."]
    for s in sizes:
        lines += ["", f"At {s.articles:,} articles: " + "; ".join(s.notes) + "."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,300000", help="comma-separated article counts")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--window", type=int, default=20, help="items in each feed")
    parser.add_argument("--idle-runs", type=int, default=3)
    parser.add_argument("--work", type=Path, help="keep (and reuse) the archives and figures here")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="what to measure (default: all of " + ", ".join(PARTS) + "); the figures of a size "
                        "measured before in --work are kept for the parts left out")
    parser.add_argument("--reuse", action="store_true",
                        help="take the figures of sizes measured before from --work")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS-scale.md")
    args = parser.parse_args()
    if args.sources < BUSY_SOURCES + SITE_NEW // 10:
        parser.error(f"--sources must be at least {BUSY_SOURCES + SITE_NEW // 10}")
    counts = sorted(int(n) for n in args.sizes.split(","))
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        parser.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}")
    work = args.work or Path(tempfile.mkdtemp(prefix="scale-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    machine = machine_markdown()
    sizes = []
    try:
        for count in counts:
            saved = work / f"figures-{count}.json"
            if args.reuse and saved.exists():
                data = json.loads(saved.read_text(encoding="utf-8"))
                size = Size(data["articles"], data["figures"], [*data["notes"], "measured " + data["date"]])
            else:
                size = measure(work, count, sources=args.sources, window=args.window, idle_runs=args.idle_runs,
                               parts=parts)
                date = next(line for line in machine_markdown() if line.startswith("- date: "))[8:]
                if parts != set(PARTS) and saved.exists():
                    data = json.loads(saved.read_text(encoding="utf-8"))
                    size.figures = {name: value for name, value in (data["figures"] | size.figures).items()
                                    if name in ORDER}
                    size.notes = [*data["notes"], f"{', '.join(sorted(parts))} measured again on {date}",
                                  *size.notes]
                saved.write_text(json.dumps({"articles": size.articles, "figures": size.figures,
                                             "notes": size.notes, "date": date}), encoding="utf-8")
            sizes.append(size)
            say(f"{size.articles:,} articles: " + ", ".join(
                f"{name} {value[0]:,.2f}" for name, value in size.figures.items() if value))
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    text = report(sizes)
    print("\n".join(["", *machine, "", text]))
    if not args.no_write:
        old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
        kept = old[old.index(KEPT):] if KEPT in old else KEPT + "\n"
        command = f"python bench/scale.py --sizes {args.sizes} --sources {args.sources} --window {args.window}"
        page = ["# Scale: an hour, a cache miss, the site and a clone at each archive size", "",
                f"Written by `{command}`.", "",
                "## Machine", "", *machine, "", "## Results", "", text, "", kept]
        RESULTS.write_text("\n".join(page), encoding="utf-8")
        print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
