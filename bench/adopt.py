"""How long continuing a large old archive takes: `python bench/adopt.py [--files N]`.

Builds an archive as the older mirrors left it (default 180,000 article files: the later
layout articles/<abbr>/<id>.md with ids counting down from 0xFFFFF, six-digit ids among
seven-digit ones, and a folder in the earlier articles/<站名>/<id>_<title>.md layout, with
the old list pages and README), commits it, and then times, each as its own
`python -m newsmirror` process:

1. `adopt`: the survey of every file;
2. the first `run` (no cache: the catalog is built from every file; the feeds, served
   from a loopback server, repeat 20 old items per source and add 5);
3. a second `run` on the same feeds (an ordinary hour);
4. `rebuild`.

It prints a Markdown table; without --no-write it also writes bench/RESULTS-adopt.md.
Figures depend on the machine (it is recorded) and are never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
from machine import markdown as machine

HERE = Path(__file__).resolve().parent
TOP_ID = 0xFFFFF
T0 = 1_500_000_000_000  # 2017-07-14
STEP_MS = 600_000
WORDS = ["中国", "美国", "台湾", "香港", "经济", "贸易", "会晤", "政府", "官员", "表示", "记者", "报道", "发布", "政策", "选举", "人权"]
# folder, layout, share of the files, source slug, name
FOLDERS = [("voa", "numbered", 0.40, "voa", "美国之音"),
           ("rfi", "numbered", 0.30, "rfi", "法广"),
           ("bbc", "numbered", 0.15, "bbc", "BBC 中文"),
           ("德国之声", "titled", 0.15, "dw", "德国之声")]
REPEAT, NEW = 20, 5


def body(n: int) -> str:
    text = "".join(WORDS[(n * 7 + i) % len(WORDS)] for i in range(60))
    return (f"<p>{text}。</p><img src=\"https://images.weserv.nl?url=img.test/{n}.jpg\" width=\"100%\">"
            f"<p>{text[::-1]}。</p>" * 3)


def article(folder: str, k: int) -> tuple[str, str, str, int]:
    """(title, link, body, ms) of the k-th oldest article of a folder."""
    return (f"{folder}第{k}篇：{WORDS[k % len(WORDS)]}/{WORDS[(k + 3) % len(WORDS)]}",
            f"https://news.test/{folder}/{k}.html", body(k), T0 + k * STEP_MS)


def build(root: Path, total: int) -> dict[str, int]:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    counts = {}
    (root / "lists").mkdir(parents=True)
    for folder, layout, share, _slug, name in FOLDERS:
        count = max(1, int(total * share))
        counts[folder] = count
        base = root / "articles" / folder
        base.mkdir(parents=True)
        # Ids count down from a start that makes the rfi folder cross 1,000,000.
        start = 1_000_000 + count // 2 if folder == "rfi" else TOP_ID
        lines = [name, "------", ""]
        for k in range(count):
            title, link, text, ms = article(folder, k)
            old_id = start - k
            file = f"{old_id}.md" if layout == "numbered" else f"{old_id}_{title.replace('/', '--')}.md"
            (base / file).write_text(f"<!--{ms}-->\n[{title}]({link})\n------\n\n{text}\n", encoding="utf-8")
            if k >= count - 300:
                when = datetime.fromtimestamp(ms / 1000 + 8 * 3600, tz=UTC)
                lines[3:3] = [f"{when.month}-{when.day} [{title}](/articles/{folder}/{file})", ""]
        (root / "lists" / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")
    (root / "README.md").write_text("# 新闻镜像\n\n志愿者维护的镜像。\n", encoding="utf-8")
    env = dict(os.environ, GIT_AUTHOR_NAME="old", GIT_AUTHOR_EMAIL="old@example.org",
               GIT_COMMITTER_NAME="old", GIT_COMMITTER_EMAIL="old@example.org")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "-c", "gc.auto=0", "commit", "-q", "-m", "old mirror"], cwd=root, check=True, env=env)
    # Packed, as a clone of the old mirror's repository is.
    subprocess.run(["git", "gc", "-q"], cwd=root, check=True)
    return counts


def feed(folder: str, count: int) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>']
    for k in [*range(count + NEW - 1, count - 1, -1), *range(count - 1, count - 1 - REPEAT, -1)]:
        title, link, text, ms = article(folder, k)
        when = format_datetime(datetime.fromtimestamp(ms / 1000, tz=UTC), usegmt=True)
        parts.append(f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
                     f"<pubDate>{when}</pubDate><description>{escape(text)}</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def serve(feeds: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            data = feeds.get(self.path.strip("/"))
            self.send_response(200 if data else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def timed(args: list[str], cwd: Path) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds, peak resident MB and stdout of one newsmirror process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "newsmirror", *args], cwd=cwd, stdout=out, stderr=err)
        # wait4 gives this process's own usage (its git subprocesses included), where
        # RUSAGE_CHILDREN would add up every child so far.
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"newsmirror {' '.join(args)} exited {proc.returncode}:\n{stderr[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=180_000)
    parser.add_argument("--quick", action="store_true", help="2,000 files (a smoke test)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--keep", action="store_true", help="keep the archive folder")
    opts = parser.parse_args()
    total = 2_000 if opts.quick else opts.files
    work = Path(tempfile.mkdtemp(prefix="newsmirror-adopt-bench-"))
    try:
        root = work / "archive"
        started = time.perf_counter()
        counts = build(root, total)
        built = time.perf_counter() - started
        files = sum(counts.values())
        server = serve({slug: feed(folder, counts[folder]) for folder, _l, _s, slug, _n in FOLDERS})
        port = server.server_address[1]
        config = work / "newsmirror.toml"
        lines = ['[archive]', 'path = "archive"', 'push = false', "[fetch]", "timeout = 60"]
        for folder, _layout, _share, slug, name in FOLDERS:
            lines += ["[[sources]]", f'slug = "{slug}"', f'name = "{name}"',
                      f'url = "http://127.0.0.1:{port}/{slug}"', f'list_path = "lists/{name}.md"']
            if folder != slug:
                lines.append(f'folder = "{folder}"')
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        rows = []
        wall, cpu, rss, out = timed(["adopt", "--config", str(config)], work)
        rows.append(("adopt (survey)", f"{files} files: {wall:.1f} s", cpu, rss))
        wall, cpu, rss, out = timed(["run", "--config", str(config), "-q"], work)
        new = len(FOLDERS) * NEW
        if f"{new} new, 0 updated" not in out:  # a repeated item written again would show here
            raise SystemExit(f"the first run did not find exactly {new} new articles:\n{out}")
        rows.append(("first run, no cache", f"{files} files cataloged, {new} new: {wall:.1f} s", cpu, rss))
        wall, cpu, rss, out = timed(["run", "--config", str(config), "-q"], work)
        if "0 new, 0 updated" not in out:
            raise SystemExit(f"the second run found something to write:\n{out}")
        rows.append(("second run (an hour)", f"{wall:.1f} s", cpu, rss))
        wall, cpu, rss, out = timed(["rebuild", "--config", str(config)], work)
        rows.append(("rebuild", f"{out.split(';')[0]}: {wall:.1f} s", cpu, rss))
        server.shutdown()
        table = ["| Step | Figure | CPU s | Peak memory |", "|---|---|---|---|"]
        table += [f"| {name} | {figure} | {cpu:.1f} | {rss} MB |" for name, figure, cpu, rss in rows]
        text = "\n".join(table)
        print(f"built {files} old files in {built:.0f} s (not timed below)\n")
        print(text)
        if not opts.no_write and not opts.quick:
            results = HERE / "RESULTS-adopt.md"
            results.write_text(
                "# Continuing an old archive\n\n"
                "Written by `python bench/adopt.py`; rerun it to refresh this file. The archive "
                f"has {files} article files as the older mirrors wrote them: "
                + ", ".join(f"{counts[f]} in articles/{f}/ ({layout})" for f, layout, *_ in FOLDERS)
                + ", with their list pages (kept through `list_path`) and README, committed. "
                "Bodies are about 1.6 kB. Each step is its own `python -m newsmirror` process; "
                f"the feeds, on a loopback server, repeat {REPEAT} old items each and add {NEW}. "
                "Peak memory is the largest resident set of the process (or of a git it ran); "
                "CPU is its user and system time, git's included.\n\n## Machine\n\n" + "\n".join(machine())
                + "\n\n## Results\n\n" + text + "\n", encoding="utf-8")
            print(f"\nwrote {results}")
    finally:
        if opts.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
