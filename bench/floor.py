"""The floor of a cold ingest: what the configuration needs and nothing more, as one script,
for bench/run.py (issue 16, item 1).

    python bench/floor.py REPORT.json ARCHIVE [--sanitize] URL...

Fetches every feed URL (8 at a time, the loopback server's host count), parses each with
fastfeedparser, runs `nh3.clean` (its defaults) on each body when the sources sanitise,
writes one file per article atomically (temporary file + rename) and makes one commit with
plumbing (`update-index --add --stdin`, `write-tree`, `commit-tree`, `update-ref`). No
catalog, no lists, no feeds, no image proxy. Writes REPORT.json: wall seconds of each part,
the articles written, this process's and git's peak memory.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import json
import os
import resource
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fastfeedparser
import nh3

GIT_ENV = {"GIT_AUTHOR_NAME": "floor", "GIT_AUTHOR_EMAIL": "floor@example.invalid",
           "GIT_COMMITTER_NAME": "floor", "GIT_COMMITTER_EMAIL": "floor@example.invalid"}


def fetch(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=60) as response:
        return response.read()


def main() -> int:
    args = sys.argv[1:]
    report, root = Path(args[0]), Path(args[1])
    sanitize = "--sanitize" in args
    urls = [a for a in args[2:] if not a.startswith("--")]
    parts: dict[str, float] = {}
    imported = time.perf_counter()
    parts["interpreter + imports"] = imported - STARTED

    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        documents = list(pool.map(fetch, urls))
    parts["fetch"] = time.perf_counter() - t

    paths: list[str] = []
    parse_s = clean_s = write_s = 0.0
    made: set[Path] = set()
    for n, data in enumerate(documents):
        t = time.perf_counter()
        feed = fastfeedparser.parse(data)
        t2 = time.perf_counter()
        parse_s += t2 - t
        for i, entry in enumerate(feed.entries):
            content = entry.get("content")
            body = content[0]["value"] if content else entry.get("description", "")
            t = time.perf_counter()
            if sanitize:
                body = nh3.clean(body)
            t2 = time.perf_counter()
            clean_s += t2 - t
            rel = f"articles/s{n:03d}/{i:04d}.md"
            path = root / rel
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            data_out = f"# {entry.get('title', '')}\n\n{entry.get('link', '')}\n\n{body}\n".encode()
            tmp = path.with_name(f".tmp-{i}")
            with open(tmp, "wb") as handle:
                handle.write(data_out)
            os.replace(tmp, path)
            paths.append(rel)
            write_s += time.perf_counter() - t2
    parts["fastfeedparser"] = parse_s
    parts["nh3.clean"] = clean_s
    parts["atomic writes"] = write_s

    t = time.perf_counter()

    def git(*argv: str, stdin: str | None = None) -> str:
        done = subprocess.run(["git", *argv], cwd=root, env=env, input=stdin, capture_output=True,
                              text=True, check=True)
        return done.stdout.strip()

    git("update-index", "--add", "-z", "--stdin", stdin="\0".join(paths) + "\0")
    tree = git("write-tree")
    commit = git("commit-tree", tree, "-m", f"{len(paths)} articles")
    git("update-ref", "refs/heads/main", commit)
    parts["git (one plumbing commit)"] = time.perf_counter() - t
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    report.write_text(json.dumps({
        "articles": len(paths), "parts": parts,
        "python_maxrss_mb": own.ru_maxrss / 1024, "git_maxrss_mb": children.ru_maxrss / 1024,
        "python_cpu_s": own.ru_utime + own.ru_stime, "git_cpu_s": children.ru_utime + children.ru_stime,
    }, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
