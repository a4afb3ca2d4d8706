"""A cache miss: the catalog rebuilt from the article files alone (issue 16 item 4).

    python bench/rebuild.py [--sizes 100000,300000] [--sources 200] [--quick] [--profile]
                            [--workdir DIR] [--no-write]

For each size N: an archive of N synthetic articles (bench/run.py's writer: the same
paths and bytes the pipeline writes, committed once and packed, as a clone is), its
.newsmirror/cache removed, then `newsmirror rebuild` in a child process (bench/child.py):

- the catalog rebuild alone ("catalog: read every article file", what a cache miss costs
  a run before it fetches) and the whole command (catalog, lists and feeds): wall time,
  CPU (the process and its git commands) and peak memory;
- the catalog's size on disk and per article, and what its tables and indexes hold
  (SQLite's dbstat);
- two floors measured in the same run, after a warm-up read, so the page cache is as warm
  for them as for the rebuild: reading every article file's bytes (os.walk + read), and
  `git ls-files -s` + `git cat-file --batch` of every blob;
- the rebuild's CPU time against the read floor's (process time of each): on a machine
  shared with other work, a ratio less disturbed than the wall times'.

Between sizes it prints each figure's growth exponent k (figure ∝ N^k: 1 is linear).
--profile adds the five largest own-time costs of a repeat under cProfile. --workdir
keeps the archives there and reuses them on the next run (building 300,000 takes
minutes). --quick: two tiny sizes, for a smoke test. Writes the top of
bench/RESULTS-rebuild.md unless --no-write (what follows its marker line is kept).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402
import synth  # noqa: E402
from machine import markdown as machine_markdown  # noqa: E402
from site_scale import scale_table  # noqa: E402

CATALOG = ".newsmirror/cache/catalog.sqlite"
STAGE = "catalog: read every article file"
KEPT = "<!-- bench/rebuild.py keeps what follows this line -->"


@dataclass
class Size:
    articles: int
    run: bench.ChildRun
    catalog_bytes: int
    tables: dict[str, int]
    read_floor_s: float
    read_floor_cpu_s: float
    git_floor_s: float
    top: list[str]

    @property
    def catalog_s(self) -> float:
        return self.run.stage(STAGE)

    @property
    def catalog_cpu_s(self) -> float:
        return self.run.report.get("stages", {}).get(STAGE, {}).get("cpu", 0.0)


def archive_for(workdir: Path, articles: int, sources: int, window: int = 0) -> Path:
    """The archive of `articles` articles under `workdir`, built unless it is there. The
    `window` newest of each source are cleaned exactly as a run cleans them (bench/run.py's
    writer), so that a run whose feeds serve them finds them unchanged."""
    archive = workdir / (f"archive-{articles}" + (f"-w{window}" if window else ""))
    if (archive / ".git").is_dir():
        return archive
    shutil.rmtree(archive, ignore_errors=True)
    per_source = max(1, articles // sources)
    scale = bench.Scale(sources=sources, items=window, archived=per_source, busy_sources=0, busy_items=0)
    took = bench.build_big_archive(archive, scale)
    print(f"built {per_source * sources:,} articles in {took:.1f} s", flush=True)
    return archive


def read_floor(archive: Path) -> tuple[float, float]:
    """Every article file's bytes read, nothing else: (wall, CPU) seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    for dirpath, _dirs, files in os.walk(archive / "articles"):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                f.read()
    return time.perf_counter() - started, time.process_time() - cpu


def git_floor(archive: Path) -> float:
    """Every blob id from the index, every blob read back through one `git cat-file --batch`."""
    started = time.perf_counter()
    listed = subprocess.run(["git", "ls-files", "-s", "-z", "articles"], cwd=archive,
                            capture_output=True, check=True).stdout
    ids = b"".join(entry.split(b" ", 2)[1] + b"\n" for entry in listed.split(b"\0") if entry)
    subprocess.run(["git", "cat-file", "--batch"], cwd=archive, input=ids, stdout=subprocess.DEVNULL,
                   check=True)
    return time.perf_counter() - started


def catalog_bytes(archive: Path) -> tuple[int, dict[str, int]]:
    path = archive / CATALOG
    total = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    db = sqlite3.connect(path)
    try:
        tables = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))
    finally:
        db.close()
    return total, tables


def measure(workdir: Path, archive: Path, config: Path, profile: bool) -> Size:
    read_floor(archive)  # warm-up: the page cache as warm for every figure
    floor_read, floor_read_cpu = read_floor(archive)
    floor_git = git_floor(archive)
    run = bench.rebuild(workdir, f"rebuild-{archive.name}", config, archive)
    size, tables = catalog_bytes(archive)
    top: list[str] = []
    if profile:
        prof = workdir / f"rebuild-{archive.name}.prof"
        bench.rebuild(workdir, f"rebuild-profile-{archive.name}", config, archive, profile=prof)
        top = bench.top_costs(prof)
    db = sqlite3.connect(archive / CATALOG)
    try:
        articles = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    finally:
        db.close()
    return Size(articles, run, size, tables, floor_read, floor_read_cpu, floor_git, top)


FIGURES = (
    ("catalog rebuild, s", lambda s: s.catalog_s),
    ("`newsmirror rebuild` (catalog + lists + feeds), s", lambda s: s.run.wall_s),
    ("CPU (process + git), s", lambda s: s.run.cpu_s),
    ("peak memory, MB", lambda s: s.run.maxrss_mb),
    ("floor: read every file, s", lambda s: s.read_floor_s),
    ("floor: ls-files + cat-file --batch, s", lambda s: s.git_floor_s),
    ("catalog rebuild / read floor", lambda s: s.catalog_s / s.read_floor_s if s.read_floor_s else 0.0),
    ("catalog rebuild CPU, s", lambda s: s.catalog_cpu_s),
    ("floor: read every file, CPU s", lambda s: s.read_floor_cpu_s),
    ("catalog rebuild CPU / read floor CPU",
     lambda s: s.catalog_cpu_s / s.read_floor_cpu_s if s.read_floor_cpu_s else 0.0),
    ("catalog, MB", lambda s: s.catalog_bytes / 1e6),
    ("catalog, bytes per article", lambda s: s.catalog_bytes / max(s.articles, 1)),
)


def report(sizes: list[Size]) -> str:
    lines = scale_table(sizes, FIGURES)
    last = sizes[-1]
    lines += ["", f"What the catalog holds at {last.articles:,} articles (dbstat, bytes per article): "
              + ", ".join(f"{name} {b / max(last.articles, 1):,.0f}" for name, b in last.tables.items()) + "."]
    for s in sizes:
        if s.top:
            lines += ["", f"Top costs at {s.articles:,} articles (cProfile, own time):", ""]
            lines += [f"- {line}" for line in s.top]
    lines += ["", "Target (issue 16 item 4): a cache miss at 300,000 articles rebuilt in < 15 s; "
              "the catalog compact."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,300000", help="comma-separated article counts")
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="two tiny sizes (a smoke test); implies --no-write")
    parser.add_argument("--profile", action="store_true", help="top costs of a repeat under cProfile")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the archives here")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS-rebuild.md")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.sources, args.no_write = "120,360", 6, True
    counts = sorted(int(n) for n in args.sizes.split(","))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rebuild-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    server = synth.FeedServer()
    try:
        config = bench.write_config(workdir / "newsmirror.toml", server, args.sources)
    finally:
        server.close()
    sizes = []
    try:
        for count in counts:
            archive = archive_for(workdir, count, args.sources)
            size = measure(workdir, archive, config, args.profile)
            sizes.append(size)
            print(f"{size.articles:,} articles: catalog {size.catalog_s:.2f} s, rebuild {size.run.wall_s:.2f} s, "
                  f"{size.run.maxrss_mb:.0f} MB; floors {size.read_floor_s:.2f} s / {size.git_floor_s:.2f} s; "
                  f"catalog {size.catalog_bytes / 1e6:.1f} MB", flush=True)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report(sizes)
    print("\n".join(["", *machine_markdown(), "", text]))
    if not args.no_write:
        path = HERE / "RESULTS-rebuild.md"
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        kept = old[old.index(KEPT):] if KEPT in old else KEPT + "\n"
        page = ["# A cache miss: the catalog rebuilt from the article files", "",
                f"Written by `python bench/rebuild.py --sizes {args.sizes} --sources {args.sources}`.",
                "", "## Machine", "", *machine_markdown(), "", "## Results", "", text, "", kept]
        path.write_text("\n".join(page), encoding="utf-8")
        print("\nwrote bench/RESULTS-rebuild.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
