"""End-to-end performance benchmarks of the mirror ("fast at any size").

    python bench/run.py [--quick] [--cold-only] [--top-costs] [--no-write] [--no-profile]
                        [--workdir DIR] [--keep] [--pairs K]

Builds every input synthetically (bench/synth.py: Chinese items with HTML bodies and
images) and serves the feeds from a loopback server in this process. The pipeline runs in
a child process (bench/child.py, which is `python -m newsmirror ...` plus timers), so
its time is measured from process start to exit and its peak memory apart from the
server's.

1. cold ingest: S sources x 50 items, all new, into an empty archive
2. idle hour: every source answers 304, on an archive of S x 500 articles
3. busy hour: 10 new items on a quarter of the sources, same big archive; counts the
   article files opened (list and index generation must not read them all)
4. rebuild: catalog, lists and feeds from the article files alone (`newsmirror rebuild`)
5. parse floor: the cold-ingest feeds parsed and nothing else, by the fastest parser

The cold ingest is compared with its floor measured in the same run (bench/floor.py: one
script against the same loopback server doing fetch, fastfeedparser, `nh3.clean` of each
body, one atomic write per article and one plumbing commit); the ratio, peak memory and
the machine are printed. --top-costs profiles a repeat of the cold ingest (cProfile) and
prints its five largest costs by own time. --pairs K measures the cold ingest and its
floor K times, alternating, and prints each ratio and the median (file creation on a
shared disk swings by several times between runs minutes apart). --cold-only stops after
the cold ingest (and does not write bench/RESULTS.md). The disk is flushed before every
timed process.

Prints a table and writes bench/RESULTS.md (unless --no-write). A missed target is
profiled (cProfile, in a repeat of the same scenario) unless --no-profile. --quick
scales everything down for a smoke check of a few seconds; its figures are not
comparable with the targets. Archives go under /tmp (or --workdir) and are deleted at
the end unless --keep.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import synth  # noqa: E402
from machine import facts as machine

PROXY = "https://images.weserv.nl?url=${host}${pathname}${search}"
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid"}


@dataclass(frozen=True)
class Scale:
    sources: int
    items: int  # per source in a feed (cold ingest: all new)
    archived: int  # per source in the big archive
    busy_sources: int
    busy_items: int


FULL = Scale(sources=200, items=50, archived=500, busy_sources=50, busy_items=10)
QUICK = Scale(sources=12, items=20, archived=300, busy_sources=3, busy_items=5)


@dataclass
class ChildRun:
    wall_s: float
    exit: int
    maxrss_mb: float  # the child and its git subprocesses (wait4)
    cpu_s: float  # user + system, child and its git subprocesses
    inblock: int
    oublock: int
    load: tuple[float, float]  # 1-minute load average before and after
    started_epoch: float
    ended_epoch: float
    report: dict
    stdout: str
    stderr: str

    @property
    def python_mb(self) -> float:
        return self.report.get("python_maxrss_mb", self.maxrss_mb)

    @property
    def git_mb(self) -> float:
        return self.report.get("git_maxrss_mb", 0.0)

    def stage(self, name: str) -> float:
        return self.report.get("stages", {}).get(name, {}).get("s", 0.0)

    def git_s(self) -> float:
        return sum(v["s"] for k, v in self.report.get("stages", {}).items() if k.startswith("git"))

    def counts(self) -> dict[str, int]:
        """new / updated / failed from the summary line of `newsmirror run`."""
        match = re.search(r"(\d+) new, (\d+) updated, (\d+) sources? failed", self.stdout)
        if not match:
            return {}
        return dict(zip(("new", "updated", "failed"), map(int, match.groups())))


@dataclass
class Result:
    name: str
    figure: str
    target: str
    met: bool | None
    run: ChildRun | None = None
    notes: list[str] = field(default_factory=list)
    bound: str = ""
    profile: str = ""


# -- running the pipeline in a child process ------------------------------------------------
@dataclass
class Measured:
    """One process run to its end: wall time, and what wait4 says of it and its descendants."""
    wall_s: float
    exit: int
    usage: resource.struct_rusage
    load: tuple[float, float]  # 1-minute load average before and after
    started_epoch: float
    ended_epoch: float

    @property
    def maxrss_mb(self) -> float:
        """Peak memory of the largest process in its tree (the process or a child it waited for)."""
        return self.usage.ru_maxrss / 1024

    @property
    def cpu_s(self) -> float:
        return self.usage.ru_utime + self.usage.ru_stime


def measured(argv: list[str], **popen) -> Measured:
    """Run `argv` (subprocess.Popen's keyword arguments) to its end and measure it. The
    disk is flushed first, so that writing back what an earlier measurement wrote (or
    removed) does not slow this one: on this kind of machine the floor's 10,000 file
    creations took 1.3 s right after a flush and up to 8.9 s while the cold ingest's
    files were still being written back."""
    os.sync()
    load_before = os.getloadavg()[0]
    started_epoch = time.time()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, **popen)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall, proc.returncode, usage, (load_before, os.getloadavg()[0]), started_epoch, time.time())


def run_child(workdir: Path, label: str, command: list[str], *, profile: Path | None = None,
              strace: Path | None = None) -> ChildRun:
    report = workdir / f"{label}.json"
    report.unlink(missing_ok=True)
    argv = [sys.executable, str(HERE / "child.py"), str(report)]
    if profile:
        argv += ["--profile", str(profile)]
    argv += ["--", *command]
    if strace:
        argv = ["strace", "-f", "-qq", "-e", "trace=openat", "-o", str(strace), *argv]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    out, err = workdir / f"{label}.out", workdir / f"{label}.err"
    with open(out, "wb") as so, open(err, "wb") as se:
        done = measured(argv, stdout=so, stderr=se, env=env, cwd=workdir)
    data = json.loads(report.read_text()) if report.exists() else {}
    run = ChildRun(wall_s=done.wall_s, exit=done.exit, maxrss_mb=done.maxrss_mb, cpu_s=done.cpu_s,
                   inblock=done.usage.ru_inblock, oublock=done.usage.ru_oublock, load=done.load,
                   started_epoch=done.started_epoch, ended_epoch=done.ended_epoch, report=data,
                   stdout=out.read_text(errors="replace"), stderr=err.read_text(errors="replace"))
    if run.exit != 0 or not data:
        raise SystemExit(f"{label}: the child failed (exit {run.exit}):\n{run.stderr[-3000:]}\n{run.stdout[-2000:]}")
    return run


GC_WAITS: dict[str, float] = {}
KEPT = "<!-- bench/run.py keeps what follows this line -->"


def wait_for_gc(archive: Path, label: str) -> None:
    """`git commit` may start `git gc --auto` in the background (more than gc.auto loose
    objects); let it finish so it neither slows the next measurement nor races it, and
    note how long it ran."""
    pid_file = archive / ".git" / "gc.pid"
    started = time.perf_counter()
    while pid_file.exists() and time.perf_counter() - started < 600:
        time.sleep(0.1)
    waited = time.perf_counter() - started
    if waited > 0.05:
        GC_WAITS[label] = waited


def mirror(workdir: Path, label: str, config: Path, archive: Path, **kw) -> ChildRun:
    run = run_child(workdir, label, ["run", "--config", str(config), "--archive", str(archive),
                                     "--no-push"], **kw)
    time.sleep(0.2)  # a detached gc writes its gc.pid right after the commit returns
    wait_for_gc(archive, label)
    return run


def rebuild(workdir: Path, label: str, config: Path, archive: Path, **kw) -> ChildRun:
    shutil.rmtree(archive / ".newsmirror" / "cache", ignore_errors=True)
    return run_child(workdir, label, ["rebuild", "--config", str(config), "--archive", str(archive)], **kw)


# -- inputs ---------------------------------------------------------------------------------
def slug(source: int) -> str:
    return f"s{source:03d}"


def write_config(path: Path, server: synth.FeedServer, sources: int) -> Path:
    lines = ['[archive]', 'path = "archive"', 'title = "新闻镜像 基准"', "push = false", "",
             "[images]", f'proxy = ["{PROXY}"]', "",
             "[defaults]", "sanitize = true", ""]
    for s in range(sources):
        lines += ["[[sources]]", f'slug = "{slug(s)}"', f'name = "新闻源{s}"', f'url = "{server.url(s)}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def serve(server: synth.FeedServer, sources: range, items: range) -> None:
    for s in sources:
        server.documents[f"/s{s}.xml"] = synth.feed(s, items)


def _write_source(args: tuple[str, int, int, int] | tuple[str, int, int, int, int]) -> int:
    """Write one source's articles as the pipeline would have (same key, path and bytes);
    the last `window` are cleaned exactly as the pipeline cleans them (sanitised, images
    proxied), so a run that sees them in the feed finds them unchanged. Older ones only get
    the image proxy (what the sanitiser does to them is irrelevant: nothing re-reads them
    but the catalog, which reads the header). A fifth element starts at that item number
    (default 0): later items of the same source, as a later hour brings them."""
    root, source, count, window = args[:4]
    start = args[4] if len(args) > 4 else 0
    from newsmirror.archive.article import render_article
    from newsmirror.archive.identity import key_hash, normalise_link
    from newsmirror.archive.paths import article_path
    from newsmirror.content.images import ImagePolicy
    from newsmirror.content.transform import ContentSettings, transform_body
    from newsmirror.models import Article

    images = ImagePolicy(templates=(PROXY,))
    exact, light = ContentSettings(sanitize=True, images=images), ContentSettings(images=images)
    base = Path(root)
    made: set[Path] = set()
    for i in range(start, start + count):
        it = synth.item(source, i)
        link = normalise_link(it.link)
        ident = key_hash(slug(source), "guid:" + it.guid)
        body = transform_body(it.body, base_url=link, settings=exact if i >= start + count - window else light)
        path = base / article_path(slug(source), it.published_ms, it.title, ident)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(render_article(Article(it.published_ms, it.title, link, body)))
    return count


def build_big_archive(root: Path, scale: Scale) -> float:
    """S x A article files written directly, then added and committed once."""
    started = time.perf_counter()
    root.mkdir(parents=True)
    jobs = [(str(root), s, scale.archived, scale.items) for s in range(scale.sources)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        total = sum(pool.map(_write_source, jobs, chunksize=4))
    env = {**os.environ, **GIT_ENV}
    # Packed afterwards, as a clone is: 100,000 loose objects would make every commit
    # start a background `git gc --auto`.
    for args in (["init", "-q", "-b", "main"], ["add", "articles"],
                 ["-c", "gc.auto=0", "commit", "-q", "-m", f"{total} articles written by bench/run.py"],
                 ["gc", "-q"]):
        done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"git {' '.join(args)} failed: {done.stderr}")
    return time.perf_counter() - started


# -- measurements ---------------------------------------------------------------------------
def parse_floor(server: synth.FeedServer, sources: int) -> tuple[float, float]:
    """Seconds to parse the cold-ingest feeds: (parse_feed, raw fastfeedparser.parse), best of 3."""
    import fastfeedparser

    from newsmirror.parse.feed import parse_feed

    docs = [(server.url(s), server.documents[f"/s{s}.xml"]) for s in range(sources)]
    ct = "application/rss+xml; charset=utf-8"

    def best(fn) -> float:
        times = []
        for _ in range(3):
            t = time.perf_counter()
            for url, data in docs:
                fn(url, data)
            times.append(time.perf_counter() - t)
        return min(times)

    return (best(lambda url, data: parse_feed(data, content_type=ct, url=url)),
            best(lambda url, data: fastfeedparser.parse(data)))


def count_opens(strace_file: Path, root: Path) -> tuple[int, int, int]:
    """(article files opened by the Python process, by git, article files in all) from
    `strace -f -e trace=openat` output; only successful opens, .git excluded."""
    python_pid = None
    by_python, by_git = set(), set()
    pattern = re.compile(r'^(\d+)\s+openat\([^,]+, "([^"]*)", ([^)]*)\)\s+=\s+(\d+)')
    with open(strace_file, errors="replace") as lines:
        for line in lines:
            match = pattern.match(line)
            if not match:
                continue
            pid, path = match.group(1), match.group(2).removeprefix(f"{root}/")
            python_pid = python_pid or pid
            if "O_DIRECTORY" in match.group(3) or not path.endswith(".md"):
                continue
            if ("/articles/" in path or path.startswith("articles/")) and "/.git/" not in path:
                (by_python if pid == python_pid else by_git).add(path)
    return len(by_python), len(by_git), len(by_python | by_git)


def run_floor(workdir: Path, server: synth.FeedServer, sources: int) -> tuple[float, float, dict]:
    """(wall seconds, peak MB, report) of bench/floor.py on the same feeds, into a new archive."""
    report = workdir / "floor.json"
    archive = workdir / "floor"
    shutil.rmtree(archive, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    argv = [sys.executable, str(HERE / "floor.py"), str(report), str(archive), "--sanitize",
            *(server.url(s) for s in range(sources))]
    done = measured(argv, env=env, cwd=workdir)
    if done.exit != 0:
        raise SystemExit("bench/floor.py failed")
    data = json.loads(report.read_text())
    data["cpu_s"] = done.cpu_s  # the script and its git commands
    shutil.rmtree(archive, ignore_errors=True)
    return done.wall_s, done.maxrss_mb, data


def top_costs(path: Path, limit: int = 5) -> list[str]:
    """The `limit` functions with the most own time (cProfile), as lines."""
    stats = pstats.Stats(str(path))
    total = stats.total_tt or 1.0  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    out = []
    for (file, line, name), (_cc, calls, tottime, cumtime, _) in rows[:limit]:
        where = f"{Path(file).name}:{line}" if line else file
        out.append(f"{name} ({where}): own {tottime:.2f} s ({100 * tottime / total:.0f}%), "
                   f"cumulative {cumtime:.2f} s, {calls} calls")
    return out


def leaves(run: ChildRun) -> list[tuple[str, float]]:
    """Non-overlapping parts of a child's wall time, largest first."""
    st = run.stage
    r = run.report
    parts = [
        ("interpreter start", max(r.get("started_epoch", run.started_epoch) - run.started_epoch, 0.0)),
        ("imports", r.get("imports_s", 0.0)),
        ("interpreter exit", max(run.ended_epoch - r.get("ended_epoch", run.ended_epoch), 0.0)),
        ("git (all commands)", run.git_s()),
        ("waiting for the packer (git fast-import)", st("wait for the packer (fast-import)")),
        ("scanning the archive for stray temp files", st("open: look for stray temp files")),
        ("reading article files into the catalog", st("catalog: read every article file")
         + st("catalog: reindex changed files")),
        ("parsing feeds", st("parse feeds")),
        ("cleaning bodies (sanitise + image proxy)", st("clean bodies (transform_body)")),
        ("rendering articles", st("render articles")),
        ("writing files", st("write files (articles, lists, feeds)")),
        ("feeds: reading + sanitising article bodies", st("feeds: read+sanitise bodies not cached")),
        ("feeds: rendering Atom", st("feeds: render atom")),
        ("sqlite commit", st("catalog: sqlite commit")),
        ("catalog queries for lists and feeds (latest, stats)", st("catalog: latest/stats queries")),
        ("rendering list pages and README", st("lists: render")),
    ]
    if st("run_mirror (all)"):
        parts.append(("command set-up (typer, config, summary)",
                      max(r.get("command_s", 0.0) - st("run_mirror (all)"), 0.0)))
    rest = run.wall_s - sum(s for _, s in parts)
    parts.append(("other (fetching, event loop, catalog lookups, glue)", max(rest, 0.0)))
    return sorted(((n, s) for n, s in parts if s > 0.0005), key=lambda p: -p[1])


def git_detail(run: ChildRun) -> str:
    items = sorted(((k, v["s"], v["calls"]) for k, v in run.report.get("stages", {}).items()
                    if k.startswith("git")), key=lambda x: -x[1])
    return ", ".join(f"`{k}` {s:.2f} s" + (f" ({n}x)" if n > 1 else "") for k, s, n in items[:5])


def bound_sentence(run: ChildRun) -> str:
    parts = leaves(run)
    wall = run.wall_s
    top = "; ".join(f"{name} {s:.2f} s ({100 * s / wall:.0f}%)" for name, s in parts[:4])
    cpu = run.cpu_s / wall if wall else 0
    py_cpu, git_cpu = run.report.get("python_cpu_s", 0), run.report.get("git_cpu_s", 0)
    if cpu >= 0.8:
        kind = f"CPU-bound: the child used {run.cpu_s:.1f} s of CPU in {wall:.1f} s (python {py_cpu:.1f} s, git {git_cpu:.1f} s)"
    else:
        kind = (f"not CPU-bound: {run.cpu_s:.1f} s of CPU in {wall:.1f} s (python {py_cpu:.1f} s, git {git_cpu:.1f} s); "
                "the rest is waiting (network/loopback server, disk)")
    disk = f"; block I/O {run.inblock} reads / {run.oublock} writes (512-byte blocks; no fsync per file)"
    if run.load[0] > 1.5 or run.load[1] > 1.5:
        kind += (f" [machine shared: load average {run.load[0]:.1f} before, {run.load[1]:.1f} after, "
                 f"on {os.cpu_count()} CPUs, so wall time includes waiting for a CPU]")
    git = git_detail(run)
    return f"{kind}. Largest parts: {top}. Git: {git or 'none'}{disk}."


def profile_text(path: Path, limit: int = 18) -> str:
    buffer = io.StringIO()
    stats = pstats.Stats(str(path), stream=buffer)
    stats.strip_dirs().sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    text = buffer.getvalue()
    keep = [line for line in text.splitlines()
            if line.strip() and not line.startswith(("   Ordered by", "   List reduced"))]
    return "\n".join(keep)


# -- reporting ------------------------------------------------------------------------------
def table(results: list[Result]) -> str:
    rows = [("Benchmark", "Figure", "Target", "Met", "CPU s (python+git)", "Peak memory (python / git)")]
    for r in results:
        mem = f"{r.run.python_mb:.0f} MB / {r.run.git_mb:.0f} MB" if r.run else "—"
        cpu = f"{r.run.cpu_s:.1f}" if r.run else "—"
        met = "—" if r.met is None else ("yes" if r.met else "**NO**")
        rows.append((r.name, r.figure, r.target, met, cpu, mem))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def results_md(results: list[Result], scale: Scale, quick: bool, setup: list[str]) -> str:
    out = ["# Performance benchmarks", "",
           "Written by `python bench/run.py" + (" --quick" if quick else "") + "`; rerun it to refresh "
           "this file. Inputs are synthetic (bench/synth.py): Chinese items with HTML bodies, an "
           "image each, share widgets with scripts, some video iframes, served from a loopback "
           "server on 8 addresses (so the default per-host limit of 2 applies per address). "
           "Sources use `sanitize = true` and the default image proxy. The pipeline runs in a "
           "child process (`bench/child.py`, i.e. `python -m newsmirror` with timers), timed from "
           "process start to exit.", ""]
    if quick:
        out += ["**Quick mode: scaled down, the figures are not comparable with the targets.**", ""]
    out += ["## Machine", ""] + [f"- {k}: {v}" for k, v in machine()] + [""]
    out += ["## Results", "", table(results), ""]
    out += ["Peak memory is the maximum resident set: of the Python process, and of the largest "
            "git subprocess it ran.", ""]
    out += ["## What bounds each figure", ""]
    for r in results:
        out += [f"### {r.name}", ""]
        if r.bound:
            out += [r.bound, ""]
        out += [f"- {note}" for note in r.notes] + [""]
        if r.profile:
            out += ["Profile of a repeat of this scenario (cProfile, so slower than the timed run):", "",
                    "```", r.profile, "```", ""]
    out += ["## Set-up (untimed)", ""] + [f"- {line}" for line in setup] + [""]
    return "\n".join(out)


# -- the benchmarks -------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="scaled down, for a smoke check")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    parser.add_argument("--no-profile", action="store_true", help="do not profile missed targets")
    parser.add_argument("--workdir", type=Path, help="where archives go (default: a new folder under /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--cold-only", action="store_true", help="stop after the cold ingest and its floor")
    parser.add_argument("--top-costs", action="store_true",
                        help="profile a repeat of the cold ingest and print its five largest costs")
    parser.add_argument("--pairs", type=int, default=1, metavar="K",
                        help="measure the cold ingest and its floor K times, alternating, and print the median ratio")
    args = parser.parse_args()
    scale = QUICK if args.quick else FULL
    profile_missed = not args.no_profile and not args.quick
    work = Path(tempfile.mkdtemp(prefix="newsmirror-bench-", dir=args.workdir or "/tmp"))
    setup: list[str] = []
    results: list[Result] = []
    S, A, N = scale.sources, scale.archived, scale.items
    server = synth.FeedServer()

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def profile_if_missed(result: Result, repeat) -> None:
        """A missed target is profiled at once, in a repeat of the same scenario on the same
        state (before anything later, e.g. the rebuild, changes that state)."""
        if not profile_missed or result.met is not False:
            return
        say(f"   profiling a repeat of {result.name} ...")
        prof = work / f"{result.name[:1]}.prof"
        repeat(prof)
        result.profile = profile_text(prof)

    ok = False
    try:
        config = write_config(work / "newsmirror.toml", server, S)

        # 1. cold ingest ------------------------------------------------------------------
        say(f"generating {S} x {N} items ...")
        serve(server, range(S), range(N))
        say("1. cold ingest ...")
        cold = mirror(work, "cold", config, work / "cold")
        got = cold.counts()
        articles = S * N
        if got.get("new") != articles or got.get("failed"):
            raise SystemExit(f"cold ingest wrote {got} instead of {articles} new articles:\n{cold.stdout[-2000:]}")
        rate = articles / cold.wall_s
        peak = max(cold.python_mb, cold.git_mb)
        r = Result("1. Cold ingest", f"{articles} articles in {cold.wall_s:.1f} s = {rate:.0f} articles/s",
                   "≥ 300 articles/s, peak < 400 MB", rate >= 300 and peak < 400, cold)
        r.bound = bound_sentence(cold)
        r.notes.append(f"{S} sources × {N} items; {server.requests} requests served")
        say("   its floor (bench/floor.py) ...")
        floor_s, floor_mb, floor_report = run_floor(work, server, S)
        gc_s = GC_WAITS.get("cold", 0.0)
        floor_parts = ", ".join(f"{k} {v:.2f} s" for k, v in floor_report["parts"].items())
        r.notes.append(f"floor (bench/floor.py, same feeds, same server, {floor_report['articles']} articles): "
                       f"{floor_s:.2f} s ({floor_parts}); peak {floor_mb:.0f} MB")
        r.notes.append(f"CPU (process and its git commands): {cold.cpu_s:.1f} s against the floor's "
                       f"{floor_report['cpu_s']:.1f} s = {cold.cpu_s / floor_report['cpu_s']:.2f}× (the wall "
                       "ratio on a shared machine also holds the waits for a CPU); python "
                       f"{cold.report.get('python_cpu_s', 0):.1f} s vs {floor_report['python_cpu_s']:.1f} s, git "
                       f"{cold.report.get('git_cpu_s', 0):.1f} s vs {floor_report['git_cpu_s']:.1f} s")
        r.notes.append(f"cold ingest = {cold.wall_s / floor_s:.2f}× the floor "
                       f"({(cold.wall_s + gc_s) / floor_s:.2f}× with the {gc_s:.1f} s background gc it started); "
                       f"peak memory {peak:.0f} MB")
        pairs = [(cold.wall_s, floor_s, cold.cpu_s, floor_report["cpu_s"], cold.load[0])]
        for k in range(2, args.pairs + 1):
            say(f"   pair {k} of {args.pairs} ...")
            shutil.rmtree(work / "cold", ignore_errors=True)
            again = mirror(work, "cold", config, work / "cold")
            again_floor_s, _, again_floor = run_floor(work, server, S)
            pairs.append((again.wall_s, again_floor_s, again.cpu_s, again_floor["cpu_s"], again.load[0]))
        if len(pairs) > 1:
            shown = "; ".join(f"{w:.1f}/{f:.1f} s = {w / f:.2f}× (CPU {c / fc:.2f}×, load {load:.1f})"
                              for w, f, c, fc, load in pairs)
            r.notes.append(f"{len(pairs)} pairs, alternating, disk flushed before each: {shown}; median "
                           f"{statistics.median(w / f for w, f, *_ in pairs):.2f}× the floor, CPU "
                           f"{statistics.median(c / fc for _, _, c, fc, _ in pairs):.2f}×")
        r.notes.append("machine: " + ", ".join(f"{k} {v}" for k, v in machine()))
        results.append(r)
        if args.top_costs:
            say("   profiling a repeat of the cold ingest ...")
            prof = work / "cold-top.prof"
            mirror(work, "cold-top", config, work / "cold-top", profile=prof)
            r.notes += ["top costs (cProfile, own time): " + line for line in top_costs(prof)]
        else:
            profile_if_missed(r, lambda prof: mirror(work, "cold-profile", config, work / "cold-profile",
                                                     profile=prof))
        if args.cold_only:
            args.no_write = True
            ok = True
            return finish(results, setup, scale, args)

        # 5. parse floor -------------------------------------------------------------------
        say("5. parse floor ...")
        nm_parse, raw_parse = parse_floor(server, S)
        floor = min(nm_parse, raw_parse)
        r5 = Result("5. Parse floor", f"parse {floor * 1000:.0f} ms; cold run = {cold.wall_s / floor:.0f}× parse",
                    "ratio watched (no target)", None)
        r5.bound = (f"The same {S} feeds ({sum(len(d) for d in server.documents.values()) / 1e6:.1f} MB) parsed "
                    f"in this process, best of 3: `parse_feed` {nm_parse:.3f} s, raw `fastfeedparser.parse` "
                    f"{raw_parse:.3f} s (the floor). Pure CPU. Inside the cold run, parsing took "
                    f"{cold.stage('parse feeds'):.2f} s of {cold.wall_s:.1f} s.")
        results.append(r5)

        # 2. idle hour on the big archive ----------------------------------------------------
        say(f"building the big archive ({S} x {A} = {S * A} articles) ...")
        big = work / "big"
        built = build_big_archive(big, scale)
        setup.append(f"{S * A} article files written directly and committed once in {built:.1f} s")
        serve(server, range(S), range(A - N, A))
        say("   first run on it (catalog rebuilt from the files) ...")
        warm1 = mirror(work, "warm1", config, big)
        got = warm1.counts()
        setup.append(f"first run (catalog rebuilt from {S * A} files, ETags fetched, feeds written): "
                     f"{warm1.wall_s:.1f} s, {got}")
        if got.get("new") or got.get("updated") or got.get("failed"):
            setup.append(f"warning: the first run on the prebuilt archive reported {got}")
            say(f"   warning: the first run on the prebuilt archive reported {got}; the prebuilt files do not "
                "match what the pipeline writes")
        warm2 = mirror(work, "warm2", config, big)
        setup.append(f"second run (ETags held): {warm2.wall_s:.1f} s")
        repeats = 1 if args.quick else 3
        say(f"2. idle hour ({repeats} runs) ...")
        before = server.not_modified
        idles = [mirror(work, f"idle{n}", config, big) for n in range(repeats)]
        idle = sorted(idles, key=lambda run: run.wall_s)[len(idles) // 2]
        got = idle.counts()
        commits = "nothing to commit" in idle.stdout
        if server.not_modified - before != repeats * S or not commits:
            raise SystemExit(f"the idle runs were not idle: {server.not_modified - before} 304s, "
                             f"{idle.stdout[-500:]}")
        r = Result("2. Idle hour", f"{idle.wall_s:.2f} s (median of {repeats}; "
                   + ", ".join(f"{run.wall_s:.2f}" for run in idles) + ")",
                   "< 3 s", idle.wall_s < 3, idle)
        r.bound = bound_sentence(idle)
        r.notes.append(f"{S} sources, all 304, archive of {S * A} articles; the run decided there was nothing to commit")
        results.append(r)
        profile_if_missed(r, lambda prof: mirror(work, "idle-profile", config, big, profile=prof))

        # 3. busy hour on the big archive ----------------------------------------------------
        added: list[int] = []

        def busy_round(n: int, label: str, **kw) -> tuple[ChildRun, int]:
            B, K = scale.busy_sources, scale.busy_items
            sources = range(n * B, (n + 1) * B)
            serve(server, sources, range(A + K - N, A + K))
            run = mirror(work, label, config, big, **kw)
            got = run.counts()
            if got.get("new") != B * K or got.get("updated") or got.get("failed"):
                raise SystemExit(f"{label}: expected {B * K} new articles, got {got}")
            added.append(B * K)
            return run, B * K

        say("3. busy hour ...")
        busy, new = busy_round(0, "busy")
        r = Result("3. Busy hour", f"{new} new on {S * A}: {busy.wall_s:.2f} s", "< 5 s", busy.wall_s < 5, busy)
        r.bound = bound_sentence(busy)
        opened = busy.report.get("article_files_opened", 0)
        r.notes.append(f"Python opened {opened} distinct article files ({busy.report.get('article_opens', 0)} opens) "
                       f"for {new} new articles (audit hook on `open`)")
        if shutil.which("strace") and (S // scale.busy_sources) >= 3:
            trace = work / "busy-strace.txt"
            traced, new2 = busy_round(1, "busy-strace", strace=trace)
            py, git, total = count_opens(trace, big)
            r.notes.append(f"strace -f of a second busy round ({new2} new; {traced.wall_s:.1f} s under strace): "
                           f"article files opened: {py} by Python, {git} by git, {total} distinct in all, "
                           f"of {S * A + 2 * new2} in the archive")
            verdict = py <= 2 * new2 + 10
            r.notes.append("lists and indexes do not read every article file" if verdict else
                           "**Python opened far more article files than it wrote: list or feed generation reads the archive**")
        results.append(r)
        if S // scale.busy_sources >= 3:
            profile_if_missed(r, lambda prof: busy_round(2, "busy-profile", profile=prof))

        # 4. rebuild ----------------------------------------------------------------------
        say("4. rebuild ...")
        rb = rebuild(work, "rebuild", config, big)
        total_articles = S * A + sum(added)
        r = Result("4. Rebuild", f"{total_articles} articles: {rb.wall_s:.1f} s", "< 60 s", rb.wall_s < 60, rb)
        r.bound = bound_sentence(rb)
        r.notes.append(rb.stdout.strip().splitlines()[-1] if rb.stdout.strip() else "")
        reads = rb.report.get("stages", {}).get("catalog: read every article file", {}).get("calls", 0)
        if reads > 1:
            r.notes.append(f"every article file was read {reads} times: `open_store` rebuilds the emptied catalog, "
                           "then the command rebuilds it again")
        results.append(r)
        profile_if_missed(r, lambda prof: rebuild(work, "rebuild-profile", config, big, profile=prof))

        ok = True
    finally:
        server.close()
        if not args.keep and ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"kept {work}")
    return finish(results, setup, scale, args)


def finish(results: list[Result], setup: list[str], scale: Scale, args: argparse.Namespace) -> int:
    if GC_WAITS:
        setup.append("background `git gc --auto` started by a run's commit (waited for before the next "
                     "measurement): " + ", ".join(f"after {k} {v:.1f} s" for k, v in GC_WAITS.items()))
    print(table(results))
    for r in results:
        print(f"\n{r.name}: {r.bound}")
        for note in r.notes:
            print(f"  - {note}")
    if not args.no_write:
        # What follows KEPT in the file (hand-written before/after records) is kept.
        path = HERE / "RESULTS.md"
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        kept = old[old.index(KEPT):] if KEPT in old else ""
        path.write_text(results_md(results, scale, args.quick, setup) + ("\n" + kept if kept else ""),
                        encoding="utf-8")
        print("\nwrote bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
