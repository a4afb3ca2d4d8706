"""How the reading site and a clone grow with the archive (issue 16 items 3 and 6, issue 15
item 3: how many articles one published site holds).

    python bench/site_scale.py [--sizes 10000,30000] [--new 100] [--sources 100] [--no-write]
                               [--profile DIR] [--sharded]

For each size N: an archive of N synthetic articles (bench/run.py's writer: the same
paths and bytes the pipeline writes), then, each in a child process (`newsmirror site`
through bench/child.py, wall time and peak memory of the process and its git commands):

- the full build of the site into an empty folder;
- an incremental hour: `new` more articles committed, the site built again into the same
  folder (only what changed is written);
- an idle rebuild: nothing changed;
- the site's size on disk (bytes of its files) and per article, and the size at which it
  would pass GitHub Pages' 1 GB limit at that rate;
- `git clone --no-local` of the archive (what a fresh checkout pays, objects packed);
- the floor of the incremental hour, measured in the same run: a child Python that
  reads the hour's new article files, sanitises each body with nh3 and writes one page
  per article plus the few list pages they touch (a source's landing and last page
  each, the home page). The incremental hour is printed as a ratio of it.

With --sharded, each size is an archive with yearly shards instead (`rotate = "yearly"`,
`[site] url` set): half its articles in the main repository, half in the shard 2027, and
`newsmirror site` builds the main site and the shard's own. It prints what each site
publishes per article (the main one: all, its own article pages, and the rest, which is
what it pays for every article of every shard: list pages, feeds, search) and how many
articles one 1 GB site then holds, the full build of both sites, and an hour of `new`
articles committed to the shard with both sites built again.

With --profile, the incremental hour of each size is profiled (cProfile) into
DIR/site-incremental-<N>.prof. Between consecutive sizes it prints each figure's growth exponent k (figure ∝ N^k: 1 is
linear). Writes bench/RESULTS-site.md unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402
import synth  # noqa: E402
from machine import markdown as machine_markdown  # noqa: E402

from newsmirror.archive.paths import SHARDS_DIR, SHARDS_INDEX  # noqa: E402
from newsmirror.publish.sitestate import STATE  # noqa: E402

PAGES_LIMIT = 1_000_000_000
UNBOUNDED_SITE = "\n[site]\nmax_mb = 1000000\n"
"""The bench measures sites past one host's limit too: `newsmirror site` would hold such a
site back and exit 1 (its [site] max_mb guard, tested in tests/jobs/test_shards.py)."""
"""GitHub Pages: a published site may be at most 1 GB."""


@dataclass
class Builds:
    """The site built from one archive: in full, after an hour's new articles, and idle."""
    added: int
    """Articles the incremental hour added."""
    full: bench.ChildRun
    incremental: bench.ChildRun
    idle: bench.ChildRun
    site_bytes: int
    site_files: int
    state_bytes: int
    """The build state kept in the site's folder (never published), not in site_bytes."""
    floor_s: float
    """The floor of the incremental hour (`floor_hour`)."""


@dataclass
class Size(Builds):
    articles: int
    setup_s: float
    clone_s: float

    @property
    def bytes_per_article(self) -> float:
        return self.site_bytes / self.articles

    @property
    def articles_per_site(self) -> int:
        return int(PAGES_LIMIT / self.bytes_per_article)


def folder_bytes(folder: Path) -> tuple[int, int]:
    """Bytes and files of what is published from a site folder (its build state left out)."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(STATE)]
    return sum(p.stat().st_size for p in files), len(files)


def commit(archive: Path, message: str) -> None:
    env = {**bench.os.environ, **bench.GIT_ENV}
    for args in (["add", "articles"], ["-c", "gc.auto=0", "commit", "-q", "-m", message]):
        done = subprocess.run(["git", *args], cwd=archive, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"git {' '.join(args)} failed: {done.stderr}")


def site_builds(workdir: Path, archive: Path, config: Path, site: Path, *, sources: int, new: int, start: int,
                label: str, profile: Path | None = None) -> Builds:
    """`newsmirror site` of `archive` into the empty folder `site`, then `new` more articles
    (bench/run.py's writer, items from number `start` on the first sources) committed and the
    site built again into the same folder, then once more with nothing changed."""
    command = ["site", "--config", str(config), "--archive", str(archive), "--out", str(site)]
    full = bench.run_child(workdir, f"site-full-{label}", command)

    # An hour's new articles, spread over the first sources, after those already there.
    spread = min(sources, max(1, new // 10))
    jobs = [(str(archive), s, new // spread, new // spread, start) for s in range(spread)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        added = sum(pool.map(bench._write_source, jobs))
    commit(archive, f"{added} new articles")
    floor_s = floor_hour(workdir, archive)
    incremental = bench.run_child(workdir, f"site-incremental-{label}", command,
                                  profile=profile / f"site-incremental-{label}.prof" if profile else None)
    idle = bench.run_child(workdir, f"site-idle-{label}", command)
    site_bytes, site_files = folder_bytes(site)
    state_bytes = sum(p.stat().st_size for p in site.glob(STATE + "*"))
    return Builds(added, full, incremental, idle, site_bytes, site_files, state_bytes, floor_s)


def measure(workdir: Path, articles: int, sources: int, new: int,
            profile: Path | None = None) -> Size:
    per_source = max(1, articles // sources)
    scale = bench.Scale(sources=sources, items=min(50, per_source), archived=per_source,
                        busy_sources=0, busy_items=0)
    archive = workdir / "archive"
    setup_s = bench.build_big_archive(archive, scale)
    server = synth.FeedServer()
    try:
        config = bench.write_config(workdir / "newsmirror.toml", server, sources)
    finally:
        server.close()
    config.write_text(config.read_text(encoding="utf-8") + UNBOUNDED_SITE, encoding="utf-8")
    builds = site_builds(workdir, archive, config, workdir / "site", sources=sources, new=new,
                         start=per_source, label=str(articles), profile=profile)
    clone = bench.measured(["git", "clone", "-q", "--no-local", str(archive), str(workdir / "clone")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if clone.exit:
        raise SystemExit(f"git clone of {archive} failed")
    return Size(**vars(builds), articles=articles + builds.added, setup_s=setup_s, clone_s=clone.wall_s)


FLOOR = """
import sys, nh3
from pathlib import Path
archive, out, paths = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
out.mkdir(parents=True, exist_ok=True)
sources = set()
for n, path in enumerate(paths):
    body = (archive / path).read_text(encoding="utf-8").split("\\n", 4)[4]
    (out / f"{n}.html").write_text("<!doctype html>" + nh3.clean(body), encoding="utf-8")
    sources.add(path.split("/")[1])
for name in ["index", *(f"{s}-landing" for s in sources), *(f"{s}-last" for s in sources)]:
    (out / f"{name}.html").write_text("<!doctype html>" + "<li>x</li>" * 50, encoding="utf-8")
"""
"""The floor of an incremental hour (see the module's docstring)."""


def floor_hour(workdir: Path, archive: Path) -> float:
    changed = subprocess.run(["git", "diff", "-z", "--name-only", "HEAD~1", "HEAD", "--", "articles"],
                             cwd=archive, capture_output=True, text=True,
                             check=True).stdout.split("\0")[:-1]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", FLOOR, str(archive), str(workdir / "floor"), *changed],
                   check=True)
    return time.perf_counter() - started


def exponent(a: float | None, b: float | None, na: int, nb: int) -> str:
    if a is None or b is None or a <= 0 or b <= 0 or na == nb:
        return "—"
    return f"{math.log(b / a) / math.log(nb / na):.2f}"


def scale_table(sizes, figures) -> list[str]:
    """A Markdown table of `figures` ((name, size -> value) pairs) at each size (anything
    with `.articles`), with the growth exponent between consecutive sizes. A value may be
    None (not measured at that size) or a (value, note) pair, the note shown beside it."""
    def value(cell) -> float | None:
        return cell[0] if isinstance(cell, tuple) else cell

    def shown(cell) -> str:
        if cell is None:
            return "—"
        return f"{cell[0]:,.2f} ({cell[1]})" if isinstance(cell, tuple) else f"{cell:,.2f}"

    lines = ["| figure | " + " | ".join(f"{s.articles:,} articles" for s in sizes)
             + "".join(f" | k {a.articles:,}→{b.articles:,}" for a, b in zip(sizes, sizes[1:])) + " |",
             "|---|" + "---:|" * (2 * len(sizes) - 1)]
    for name, figure in figures:
        cells = [figure(s) for s in sizes]
        ks = [exponent(value(cells[i]), value(cells[i + 1]), sizes[i].articles, sizes[i + 1].articles)
              for i in range(len(sizes) - 1)]
        lines.append(f"| {name} | " + " | ".join(shown(c) for c in cells)
                     + "".join(f" | {k}" for k in ks) + " |")
    return lines


FIGURES = (
    ("full build, s", lambda s: s.full.wall_s),
    ("full build, peak MB", lambda s: s.full.maxrss_mb),
    ("incremental hour, s", lambda s: s.incremental.wall_s),
    ("incremental hour, × floor", lambda s: s.incremental.wall_s / s.floor_s),
    ("floor of the hour, s", lambda s: s.floor_s),
    ("incremental hour, peak MB", lambda s: s.incremental.maxrss_mb),
    ("idle rebuild, s", lambda s: s.idle.wall_s),
    ("site size, MB", lambda s: s.site_bytes / 1e6),
    ("build state, MB", lambda s: s.state_bytes / 1e6),
    ("clone, s", lambda s: s.clone_s),
)


def report(sizes: list[Size], new: int) -> str:
    lines = scale_table(sizes, FIGURES)
    last = sizes[-1]
    lines += ["", f"Incremental hour: {new} new articles committed, then `newsmirror site` into the "
              "same folder. Peak memory is the child's and its git commands' maximum resident set.",
              f"Site: {last.site_files:,} files, {last.bytes_per_article:,.0f} bytes per article at "
              f"{last.articles:,} articles (the build state beside it, never published: "
              f"{last.state_bytes / last.articles:,.0f} bytes per article), so one site passes GitHub Pages' 1 GB at about "
              f"{last.articles_per_site:,} articles at this rate (synthetic bodies of bench/synth.py).",
              "Floor of the hour: a child Python reading the hour's new article files, sanitising "
              "each body with nh3 and writing a page each and the few list pages they touch.",
              "Targets (issue 16 item 3): an incremental hour at 300,000 articles < 5 s and < 300 MB; "
              "at most 1 GB per published site; a full build linear (k ≤ 1) with bounded memory."]
    return "\n".join(lines)


# -- an archive with yearly shards: what each site publishes ---------------------------------
SHARD_YEAR = "2027"
SHARDED_URL = "https://bench.test/news/"


def site_parts(folder: Path) -> dict[str, int]:
    """Bytes of a site's published files by what they are: article pages, search index,
    list pages (sources/ and the home page), feeds, the rest."""
    parts = dict.fromkeys(("articles", "search", "lists", "feeds", "other"), 0)
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.startswith(STATE):
            top = path.relative_to(folder).parts[0]
            part = top if top in parts else "lists" if top in ("sources", "index.html") else "other"
            parts[part] += path.stat().st_size
    return parts


def _write_shard(archive: Path, sources: int, per_source: int, start: int) -> int:
    """`per_source` articles of each source, from item `start` on, committed to the shard's
    clone (where `newsmirror site` finds it, as a mirror run leaves it)."""
    clone = archive / SHARDS_DIR / SHARD_YEAR
    clone.mkdir(parents=True, exist_ok=True)
    jobs = [(str(clone), s, per_source, min(50, per_source), start) for s in range(sources)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        total = sum(pool.map(bench._write_source, jobs, chunksize=4))
    env = {**bench.os.environ, **bench.GIT_ENV}
    if not (clone / ".git").is_dir():
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=clone, check=True)
    commit(clone, f"{total} articles of shard {SHARD_YEAR}")
    subprocess.run(["git", "gc", "-q"], cwd=clone, env=env, check=True)
    return total


@dataclass
class Sharded:
    articles: int
    shard_articles: int
    full: bench.ChildRun
    incremental: bench.ChildRun
    floor_s: float
    main: dict[str, int]
    shard: dict[str, int]

    @property
    def main_articles(self) -> int:
        return self.articles - self.shard_articles


def measure_sharded(workdir: Path, articles: int, sources: int, new: int) -> Sharded:
    per_source = max(1, articles // sources // 2)
    scale = bench.Scale(sources=sources, items=min(50, per_source), archived=per_source,
                        busy_sources=0, busy_items=0)
    archive = workdir / "archive"
    bench.build_big_archive(archive, scale)
    shard_articles = _write_shard(archive, sources, per_source, per_source)
    index = {"version": 1, "first_year": int(SHARD_YEAR), "main": {"name": "archive", "articles": per_source * sources},
             "shards": [{"name": f"archive-{SHARD_YEAR}", "year": int(SHARD_YEAR), "articles": shard_articles,
                         "web": None}]}
    (archive / SHARDS_INDEX).write_text(json.dumps(index) + "\n", encoding="utf-8")
    subprocess.run(["git", "add", SHARDS_INDEX], cwd=archive, check=True)
    subprocess.run(["git", "-c", "gc.auto=0", "commit", "-q", "-m", "shards"], cwd=archive, check=True,
                   env={**bench.os.environ, **bench.GIT_ENV})
    server = synth.FeedServer()
    try:
        config = bench.write_config(workdir / "newsmirror.toml", server, sources)
    finally:
        server.close()
    text = config.read_text(encoding="utf-8").replace("[archive]\n", '[archive]\nrotate = "yearly"\n', 1)
    config.write_text(text + UNBOUNDED_SITE + f'url = "{SHARDED_URL}"\n', encoding="utf-8")
    site = workdir / "site"
    command = ["site", "--config", str(config), "--archive", str(archive), "--out", str(site)]
    full = bench.run_child(workdir, f"sharded-full-{articles}", command)
    spread = min(sources, max(1, new // 10))
    clone = archive / SHARDS_DIR / SHARD_YEAR
    jobs = [(str(clone), s, new // spread, new // spread, 2 * per_source) for s in range(spread)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        added = sum(pool.map(bench._write_source, jobs))
    commit(clone, f"{added} new articles")
    floor_s = floor_hour(workdir, clone)
    incremental = bench.run_child(workdir, f"sharded-incremental-{articles}", command)
    return Sharded(2 * per_source * sources + added, shard_articles + added, full, incremental, floor_s,
                   site_parts(site), site_parts(site.with_name(f"site-{SHARD_YEAR}")))


LISTING = ("search", "lists", "feeds", "other")
"""What the main site publishes for every article of every shard (all but article pages)."""


def sharded_report(sizes: list[Sharded], new: int) -> str:
    def per(part: dict[str, int], n: int, *names: str) -> float:
        return sum(part[k] for k in (names or part)) / n

    def listed(*names: str):
        return lambda s: f"{per(s.main, s.articles, *names):,.0f}"

    lines = ["| figure | " + " | ".join(f"{s.articles:,} articles" for s in sizes) + " |",
             "|---|" + "---:|" * len(sizes)]
    rows = [
        ("articles in the main repository / in the shard",
         lambda s: f"{s.main_articles:,} / {s.shard_articles:,}"),
        ("main site, MB", lambda s: f"{sum(s.main.values()) / 1e6:,.1f}"),
        ("main site, bytes per article listed", listed()),
        ("… its own article pages, bytes per article it holds",
         lambda s: f"{per(s.main, s.main_articles, 'articles'):,.0f}"),
        ("… search index, bytes per article listed", listed("search")),
        ("… list pages, bytes per article listed", listed("lists")),
        ("… feeds and the rest, bytes per article listed", listed("feeds", "other")),
        ("main site without article pages, bytes per article listed", listed(*LISTING)),
        ("shard site, MB", lambda s: f"{sum(s.shard.values()) / 1e6:,.1f}"),
        ("shard site, bytes per article it holds", lambda s: f"{per(s.shard, s.shard_articles):,.0f}"),
        ("articles one 1 GB shard site holds", lambda s: f"{PAGES_LIMIT / per(s.shard, s.shard_articles):,.0f}"),
        ("articles the main site lists under 1 GB (none of its own)",
         lambda s: f"{PAGES_LIMIT / per(s.main, s.articles, *LISTING):,.0f}"),
        ("full build of both sites, s", lambda s: f"{s.full.wall_s:.2f}"),
        ("full build of both sites, peak MB", lambda s: f"{s.full.maxrss_mb:.0f}"),
        (f"hour of {new} articles in the shard, both sites, s", lambda s: f"{s.incremental.wall_s:.2f}"),
        ("… × floor of the hour", lambda s: f"{s.incremental.wall_s / s.floor_s:.1f}"),
        ("… peak MB", lambda s: f"{s.incremental.maxrss_mb:.0f}"),
    ]
    for name, figure in rows:
        lines.append(f"| {name} | " + " | ".join(figure(s) for s in sizes) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,30000", help="comma-separated article counts")
    parser.add_argument("--new", type=int, default=100, help="new articles in the incremental hour")
    parser.add_argument("--sources", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS-site.md")
    parser.add_argument("--profile", type=Path, help="profile each incremental hour into this folder")
    parser.add_argument("--sharded", action="store_true", help="an archive with yearly shards: "
                        "what the main site and a shard's site publish per article")
    args = parser.parse_args()
    counts = sorted(int(n) for n in args.sizes.split(","))
    if args.sharded:
        return sharded_main(args, counts)
    sizes = []
    for count in counts:
        workdir = Path(tempfile.mkdtemp(prefix=f"site-scale-{count}-"))
        try:
            size = measure(workdir, count, args.sources, args.new, args.profile)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        sizes.append(size)
        print(f"{size.articles:,} articles (setup {size.setup_s:.1f} s): full {size.full.wall_s:.2f} s "
              f"{size.full.maxrss_mb:.0f} MB; incremental {size.incremental.wall_s:.2f} s "
              f"{size.incremental.maxrss_mb:.0f} MB (floor {size.floor_s:.2f} s); idle {size.idle.wall_s:.2f} s; site "
              f"{size.site_bytes / 1e6:.1f} MB; clone {size.clone_s:.2f} s", flush=True)
    text = report(sizes, args.new)
    print(text)
    if not args.no_write:
        page = ["# The reading site and a clone as the archive grows", "",
                "Written by `python bench/site_scale.py` " + f"(--sizes {args.sizes} --new {args.new}).",
                "", "## Machine", "", *machine_markdown(), "", "## Results", "", text, ""]
        (HERE / "RESULTS-site.md").write_text("\n".join(page), encoding="utf-8")
    return 0


def sharded_main(args: argparse.Namespace, counts: list[int]) -> int:
    measured = []
    for count in counts:
        workdir = Path(tempfile.mkdtemp(prefix=f"site-sharded-{count}-"))
        try:
            measured.append(measure_sharded(workdir, count, args.sources, args.new))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    text = sharded_report(measured, args.new)
    print("\n".join(machine_markdown()))
    print(text)
    if not args.no_write:
        with (HERE / "RESULTS-site.md").open("a", encoding="utf-8") as file:
            file.write("\n## Yearly shards: what each site publishes\n\n"
                       f"Written by `python bench/site_scale.py --sharded` (--sizes {args.sizes} --new {args.new}).\n\n"
                       + "\n".join(machine_markdown()) + "\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
