"""Runs one `newsmirror` command (run, rebuild) the way `python -m newsmirror` does, with
light instrumentation, for bench/run.py.

    python bench/child.py REPORT.json [--profile FILE.prof] -- run --config C --archive A --no-push

Writes REPORT.json: time spent in each stage (inclusive wall seconds and calls; the stages
nest, e.g. "feeds: read+sanitise bodies" is inside "regenerate lists+feeds"), every git
subcommand's time, the Python process's own peak memory, git's peak memory, how many
article files (articles/**.md) Python opened, and the exit code. The product code is not changed:
functions are wrapped from outside.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()
STARTED_EPOCH = time.time()

import functools  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections import defaultdict  # noqa: E402

STAGES: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0.0])
"""Per stage: wall seconds, calls, CPU seconds of this process (not counted for async
stages, nor for those wrapped with cpu=False)."""
OPENS = {"articles": set(), "articles_calls": 0}


def _audit(event: str, args: tuple) -> None:
    if event == "open" and args and isinstance(args[0], (str, bytes)):
        path = args[0] if isinstance(args[0], str) else args[0].decode("utf-8", "replace")
        if ("/articles/" in path or path.startswith("articles/")) and path.endswith(".md"):
            OPENS["articles_calls"] += 1
            OPENS["articles"].add(path)


def _wrap(owner, name: str, stage: str | None = None, *, by_arg: bool = False,
          cpu: bool = True) -> None:
    """`cpu=False` for what runs once per item: CLOCK_PROCESS_CPUTIME_ID is a system call,
    not the vDSO, and two per call cost a cold ingest ~0.35 s of its wall time (63,000
    calls at load 5), which the floor does not pay."""
    original = getattr(owner, name)
    label = stage or name

    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def timed_async(*args, **kwargs):
            t = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                STAGES[label][0] += time.perf_counter() - t
                STAGES[label][1] += 1
        setattr(owner, name, timed_async)
        return

    if not cpu:
        @functools.wraps(original)
        def timed_wall(*args, **kwargs):
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                STAGES[label][0] += time.perf_counter() - t
                STAGES[label][1] += 1
        setattr(owner, name, timed_wall)
        return

    @functools.wraps(original)
    def timed(*args, **kwargs):
        key = label
        if by_arg:  # Repo.git(self, subcommand, ...)
            key = f"git {args[1]}" if len(args) > 1 else "git"
        t, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            STAGES[key][0] += time.perf_counter() - t
            STAGES[key][1] += 1
            STAGES[key][2] += time.process_time() - cpu
    setattr(owner, name, timed)


def instrument() -> None:
    import newsmirror.archive.catalog as catalog
    import newsmirror.archive.store as store
    import newsmirror.jobs.mirror as pipeline
    import newsmirror.publish.derived as derived
    import newsmirror.publish.feeds as feeds
    import newsmirror.archive.git as git
    from newsmirror.fetch.client import Fetcher

    _wrap(pipeline, "run_mirror", "run_mirror (all)")
    _wrap(store, "sync_catalog", "open: catalog sync")
    _wrap(store, "remove_stray_temp_files", "open: look for stray temp files")
    _wrap(catalog.Catalog, "rebuild", "catalog: read every article file")
    _wrap(catalog.Catalog, "reindex", "catalog: reindex changed files")
    _wrap(Fetcher, "fetch", "fetch (overlapping, per request)")
    _wrap(pipeline, "parse_feed", "parse feeds")
    _wrap(pipeline, "transform_body", "clean bodies (transform_body)", cpu=False)
    _wrap(pipeline, "render_article", "render articles", cpu=False)
    _wrap(pipeline._Run, "items", "process items (incl. clean/render/write)")
    _wrap(store.Store, "write", "write files (articles, lists, feeds)", cpu=False)
    _wrap(pipeline, "regenerate", "regenerate lists+feeds")
    _wrap(derived, "regenerate", "regenerate lists+feeds")
    _wrap(derived, "write_lists", "lists + README")
    _wrap(derived, "write_feeds", "feeds")
    _wrap(derived, "render_list", "lists: render")
    _wrap(derived, "render_index", "lists: render")
    _wrap(catalog.Catalog, "latest", "catalog: latest/stats queries")
    _wrap(catalog.Catalog, "stats", "catalog: latest/stats queries")
    _wrap(feeds._Bodies, "get", "feeds: bodies (cache or read+sanitise)")
    _wrap(feeds, "sanitised_body", "feeds: read+sanitise bodies not cached")
    _wrap(feeds, "render_atom", "feeds: render atom")
    _wrap(catalog.Catalog, "commit", "catalog: sqlite commit")
    _wrap(git.Repo, "git", by_arg=True)
    # Waiting at the commit for `git fast-import` to store what it was streamed: what of
    # the packing did not overlap with the run's own work.
    _wrap(git.Repo, "finish_pack", "wait for the packer (fast-import)")


def main() -> int:
    argv = sys.argv[1:]
    split = argv.index("--")
    own, command = argv[:split], argv[split + 1:]
    report_path = own[0]
    profile = own[own.index("--profile") + 1] if "--profile" in own else None
    sys.addaudithook(_audit)
    import newsmirror.cli as cli

    imported = time.perf_counter()
    instrument()
    code = 0

    def call() -> None:
        nonlocal code
        try:
            cli.app(command, prog_name="newsmirror")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)

    begun = time.perf_counter()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(call)
        profiler.dump_stats(profile)
    else:
        call()
    ended = time.perf_counter()
    own_usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = {
        "exit": code,
        "started_epoch": STARTED_EPOCH,
        "ended_epoch": time.time(),
        "imports_s": imported - STARTED,
        "command_s": ended - begun,
        "stages": {k: {"s": round(v[0], 4), "calls": v[1], "cpu": round(v[2], 4)}
                   for k, v in STAGES.items()},
        "python_maxrss_mb": own_usage.ru_maxrss / 1024,
        "python_cpu_s": own_usage.ru_utime + own_usage.ru_stime,
        "git_maxrss_mb": children.ru_maxrss / 1024,
        "git_cpu_s": children.ru_utime + children.ru_stime,
        "article_files_opened": len(OPENS["articles"]),
        "article_opens": OPENS["articles_calls"],
    }
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=1)
    return code


if __name__ == "__main__":
    sys.exit(main())
