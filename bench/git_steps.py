"""The hourly workflow's git steps on a large archive, with a shallow checkout and a full one.

Builds (once, with `git fast-import`) a bare repository standing in for the git host: an
archive of ARTICLES articles (default 100,000) committed over YEARS years of hourly runs
(default 5: 43,800 commits), each commit adding the hour's articles in the FORMAT.md
layout (synthetic Chinese bodies from bench/synth.py), rewriting the touched sources'
lists/<slug>.md (300 entries) and README.md, as newsmirror's runs do. Then, for a shallow
checkout (`--depth 1`, what the generated workflow does) and a full one, it times the
steps a run makes, each REPEAT times (median shown):

- clone: `git clone` over the pack protocol (a file:// address, so that git transfers and
  indexes a pack as from a host, not hard links), working tree included;
- commit: three new articles, their list and the README, through newsmirror's own
  `Repo.commit` (update-index, write-tree, commit-tree);
- push after the remote moved on: another job pushed a commit meanwhile, so newsmirror's
  `Repo.push` is refused, fetches, rebases onto it and pushes again;
- push: the next commit, pushed when nothing else moved.

    python bench/git_steps.py                 # the figures in bench/RESULTS-git-steps.md
    python bench/git_steps.py --quick         # a small archive, seconds
    python bench/git_steps.py --write         # also rewrite bench/RESULTS-git-steps.md

The bare repository is kept in --work (default: a folder under /tmp) and reused when it
was built with the same sizes. The feeds (feeds/*.xml, rewritten on every run in a real
archive) are left out of the history, which makes a real full clone costlier than the
one timed here, never cheaper.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import synth

from newsmirror.archive.article import render_article
from newsmirror.archive.identity import key_hash
from newsmirror.archive.paths import article_path, china_time
from newsmirror.models import Article
from newsmirror.archive.git import Repo
from machine import markdown as machine

SOURCES = ("voa", "bbc", "rfi", "dw", "nytimes", "rfa", "cdt", "ftchinese")
HOUR_MS = 3_600_000
LIST_SIZE = 300
START_MS = 1_638_316_800_000  # 2021-12-01 00:00 UTC: five years before the runs timed


def git(*args: str, cwd: Path | None = None, input: bytes | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode().strip()


# -- the history ---------------------------------------------------------------------------
def plan(articles: int, commits: int):
    """Per hourly commit: its time and the (source index, item number) of its articles."""
    counters = [0] * len(SOURCES)
    turn = 0
    for c in range(commits):
        n = (c + 1) * articles // commits - c * articles // commits
        batch = []
        for _ in range(n):
            s = turn % len(SOURCES)
            turn += 1
            batch.append((s, counters[s]))
            counters[s] += 1
        yield START_MS + c * HOUR_MS, batch


def article(s: int, i: int, when_ms: int) -> tuple[str, bytes, str]:
    """(path, file bytes, list line) of one synthetic article published at `when_ms`."""
    it = synth.item(s, i)
    key = key_hash(SOURCES[s], it.guid)
    path = article_path(SOURCES[s], when_ms, it.title, key)
    day = china_time(when_ms)
    return (path, render_article(Article(when_ms, it.title, it.link, it.body)),
            f"{day.month}-{day.day} [{it.title}](/{path})\n")


def readme(counts: list[int], newest_ms: int) -> bytes:
    rows = "".join(f"| [{s}](lists/{s}.md) | {n} | {china_time(newest_ms):%Y-%m-%d %H:%M} |\n"
                   for s, n in zip(SOURCES, counts))
    return (f"# 新闻镜像\n\n{sum(counts)} articles from {len(SOURCES)} sources.\n\n"
            "| Source | Articles | Latest |\n| --- | ---: | --- |\n" + rows).encode()


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def build(bare: Path, articles: int, years: int) -> None:
    """The bare repository, through one fast-import stream. Every version of one file is
    written consecutively (all README versions, then each list's), so that fast-import
    stores each as a delta of the one before, as a repacked host would."""
    commits = years * 365 * 24
    if bare.exists():
        shutil.rmtree(bare)
    git("init", "-q", "--bare", "-b", "main", str(bare))
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--depth=50"], cwd=bare,
                            stdin=subprocess.PIPE)
    assert proc.stdin is not None
    out = proc.stdin
    started = time.monotonic()
    # Pass 1: README versions (mark 1 + commit number), then each list's versions.
    counts = [0] * len(SOURCES)
    touched: list[list[int]] = []
    for c, (when, batch) in enumerate(plan(articles, commits)):
        for s, _i in batch:
            counts[s] += 1
        touched.append(sorted({s for s, _ in batch}))
        out.write(b"blob\nmark :%d\n" % (1 + c) + _data(readme(counts, when)))
    list_marks: dict[tuple[int, int], int] = {}
    mark = 1 + commits
    for s in range(len(SOURCES)):
        lines: deque[str] = deque(maxlen=LIST_SIZE)
        for c, (when, batch) in enumerate(plan(articles, commits)):
            mine = [i for src, i in batch if src == s]
            if not mine:
                continue
            for i in mine:
                lines.appendleft(_list_line(s, i, when))
            mark += 1
            list_marks[(s, c)] = mark
            out.write(b"blob\nmark :%d\n" % mark
                      + _data((f"{SOURCES[s]}\n------\n\n" + "\n".join(lines)).encode()))
    print(f"  blobs for README and lists written in {time.monotonic() - started:.0f} s",
          file=sys.stderr)
    # Pass 2: the commits, each with its articles inline.
    for c, (when, batch) in enumerate(plan(articles, commits)):
        stamp = f"{when // 1000} +0000"
        message = f"Mirror {len(batch)} new articles\n".encode()
        out.write(f"commit refs/heads/main\nmark :{mark + 1 + c}\n"
                  f"author newsmirror <newsmirror@users.noreply.github.com> {stamp}\n"
                  f"committer newsmirror <newsmirror@users.noreply.github.com> {stamp}\n".encode()
                  + _data(message))
        for s, i in batch:
            path, data, _line = article(s, i, when)
            out.write(f"M 100644 inline {path}\n".encode() + _data(data))
        for s in touched[c]:
            out.write(f"M 100644 :{list_marks[(s, c)]} lists/{SOURCES[s]}.md\n".encode())
        out.write(f"M 100644 :{1 + c} README.md\n\n".encode())
        if c % 5000 == 0:
            print(f"  commit {c}/{commits} at {time.monotonic() - started:.0f} s", file=sys.stderr)
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    print(f"  fast-import done in {time.monotonic() - started:.0f} s; repacking", file=sys.stderr)
    git("repack", "-a", "-d", "-q", cwd=bare)  # what a host's maintenance does
    git("gc", "-q", "--prune=now", cwd=bare)
    (bare / "newsmirror-bench").write_text(f"{articles} {years}\n")
    print(f"  built in {time.monotonic() - started:.0f} s", file=sys.stderr)


def _list_line(s: int, i: int, when_ms: int) -> str:
    it = synth.item(s, i)
    path = article_path(SOURCES[s], when_ms, it.title, key_hash(SOURCES[s], it.guid))
    day = china_time(when_ms)
    return f"{day.month}-{day.day} [{it.title}](/{path})\n"


# -- the steps -------------------------------------------------------------------------------
def another_job_pushes(bare: Path, n: int) -> None:
    """A commit on the host's main branch from elsewhere (a request, the operator)."""
    stamp = f"{int(time.time())} +0000"
    stream = (f"commit refs/heads/main\nauthor other <o@example.org> {stamp}\n"
              f"committer other <o@example.org> {stamp}\n".encode() + _data(b"A request\n")
              + b"from refs/heads/main^0\n"
              + f"M 100644 inline requests/bench-{n}.md\n".encode() + _data(b"<!--0-->\n")
              + b"\n")
    subprocess.run(["git", "fast-import", "--quiet"], cwd=bare, input=stream, check=True)


def new_hour(work: Path, n: int) -> list[str]:
    """Three new articles, their list and the README, as an hourly run writes them."""
    paths = []
    when = int(time.time() * 1000)
    for k in range(3):
        path, data, _line = article(k, 10_000_000 + n * 3 + k, when)
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        paths.append(path)
    lst = work / "lists" / "voa.md"
    lst.write_bytes(lst.read_bytes() + f"\n{n}\n".encode())
    (work / "README.md").write_bytes((work / "README.md").read_bytes() + f"\n{n}\n".encode())
    return [*paths, "lists/voa.md", "README.md"]


CPU: dict[str, float] = {}
"""CPU seconds (user + system) of the git processes of the last step timed."""


def timed(fn, name: str = "") -> tuple[float, object]:
    """Wall time of `fn`; the CPU time its git processes used goes to CPU[name] (less
    sensitive than wall time to other work on the machine)."""
    before = os.times()
    start = time.perf_counter()
    value = fn()
    wall = time.perf_counter() - start
    after = os.times()
    CPU[name] = (after.children_user - before.children_user
                 + after.children_system - before.children_system)
    return wall, value


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def one_run(bare: Path, tmp: Path, shallow: bool, n: int) -> dict[str, float]:
    work = tmp / f"work-{n}"
    tip = git("rev-parse", "main", cwd=bare)
    depth = ["--depth", "1"] if shallow else []
    figures: dict[str, float] = {}
    figures["clone"], _ = timed(lambda: git("clone", "-q", *depth, "--branch", "main",
                                            bare.as_uri(), str(work)), "clone")
    figures["git_mb"] = du(work / ".git") / 2**20
    repo = Repo(work)
    another_job_pushes(bare, n)
    paths = new_hour(work, n)
    figures["commit"], _ = timed(lambda: repo.commit(paths, f"Mirror 3 new articles ({n})\n"),
                                 "commit")
    figures["push_rebase"], result = timed(lambda: repo.push("origin", "main"), "push_rebase")
    assert result.ok, result.message
    assert git("rev-parse", "HEAD~1", cwd=work) == git("rev-parse", "main~1", cwd=bare)
    paths = new_hour(work, n + 1000)
    repo.commit(paths, f"Mirror 3 new articles ({n}, again)\n")
    figures["push"], result = timed(lambda: repo.push("origin", "main"), "push")
    assert result.ok, result.message
    for step in ("clone", "commit", "push_rebase", "push"):
        figures[f"{step}_cpu"] = CPU[step]
    figures["still_shallow"] = float(repo.is_shallow())
    git("update-ref", "refs/heads/main", tip, cwd=bare)  # the next repetition starts the same
    shutil.rmtree(work)
    return figures


def built(work: Path, articles: int, years: int) -> tuple[Path, float]:
    """The bare repository of `articles` over `years` of hourly commits in `work`, built
    when missing (else reused); (its path, seconds this build took, 0 when reused)."""
    work.mkdir(parents=True, exist_ok=True)
    bare = work / f"archive-{articles}-{years}y.git"
    if (bare / "newsmirror-bench").is_file():
        return bare, 0.0
    print(f"building {bare} ({articles} articles, {years} years hourly)", file=sys.stderr)
    build_s, _ = timed(lambda: build(bare, articles, years))
    return bare, build_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "newsmirror-git-bench")
    parser.add_argument("--quick", action="store_true", help="2,000 articles over 1 year, once")
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS-git-steps.md")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.years, args.repeat = 2_000, 1, 1
    bare, build_s = built(args.work, args.articles, args.years)
    commits = git("rev-list", "--count", "main", cwd=bare)
    files = git("ls-tree", "-r", "--name-only", "main", cwd=bare).count("\n") + 1
    pack_mb = du(bare / "objects") / 2**20
    results: dict[str, list[dict[str, float]]] = {}
    for mode in ("shallow", "full"):
        runs = []
        for n in range(args.repeat):
            with tempfile.TemporaryDirectory(dir=args.work) as tmp:
                runs.append(one_run(bare, Path(tmp), mode == "shallow", n))
            print(f"  {mode} #{n + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()),
                  file=sys.stderr)
        results[mode] = runs

    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[mode])

    def cell(mode: str, key: str) -> str:
        values = ", ".join(f"{r[key]:.2f}" for r in results[mode])
        return f"{med(mode, key):.2f} s" + (f" ({values})" if len(results[mode]) > 1 else "")

    steps = (("clone", "clone (working tree included)"), ("commit", "commit (3 articles, list, README)"),
             ("push_rebase", "push after the remote moved on (refused, fetch, rebase, push)"),
             ("push", "push"))
    lines = [f"Archive: {args.articles} articles, {files} files, {commits} commits "
             f"({args.years} years hourly), {pack_mb:.0f} MB packed on the host"
             + (f"; built in {build_s:.0f} s" if build_s else "") + ".", "",
             f"Median of {args.repeat} (each figure in brackets).", "",
             "| step | shallow (`fetch-depth: 1`) | full history (`fetch-depth: 0`) |",
             "| --- | --- | --- |"]
    for key, label in steps:
        lines.append(f"| {label} | {cell('shallow', key)} | {cell('full', key)} |")
    total = {m: sum(med(m, k) for k, _ in steps) for m in results}
    lines.append(f"| **all git steps** | **{total['shallow']:.2f} s** | **{total['full']:.2f} s** |")
    cpu = {m: sum(med(m, f"{k}_cpu") for k, _ in steps) for m in results}
    lines.append(f"| CPU time of git in those steps (user + system) | {cpu['shallow']:.2f} s | "
                 f"{cpu['full']:.2f} s |")
    lines.append(f"| of which the clone | {med('shallow', 'clone_cpu'):.2f} s | "
                 f"{med('full', 'clone_cpu'):.2f} s |")
    lines.append(f"| .git after the clone | {med('shallow', 'git_mb'):.0f} MB | "
                 f"{med('full', 'git_mb'):.0f} MB |")
    lines.append(f"| still shallow after the push | "
                 f"{'yes' if med('shallow', 'still_shallow') else 'no'} | — |")
    table = "\n".join(lines)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    table += f"\n\nLoad average when the timing ended: {load:.1f} (on {os.cpu_count()} CPUs)."
    print(table)
    if args.write:
        text = ("# The workflow's git steps, shallow and full\n\n"
                "Written by `python bench/git_steps.py --write` (see its docstring for what is "
                "timed and how the archive is built).\n\n## Machine\n\n" + "\n".join(machine())
                + "\n\n## Results\n\n" + table + "\n")
        (HERE / "RESULTS-git-steps.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
