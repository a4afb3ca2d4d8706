"""What a run shows: each source's line once, on a terminal (a real pseudo-terminal) and
through pipes; progress that counts feeds, pages and images and names the source; what
Ctrl-C says."""

from __future__ import annotations

import asyncio
import fcntl
import io
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from rich.console import Console
from werkzeug import Request, Response

from newsmirror.cli.output import RunProgress, out
from newsmirror.models import SourceOutcome
from newsmirror.jobs.mirror import Reporter, run_mirror
from tests.cli.test_run_cli import serve_feed, toml_str, write_config
from tests.helpers import Mirror, bare_remote, git
from tests.jobs.feeds import Item, rss

T0 = 1_764_000_000_000
PAGE = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>{n}</title></head><body>"
        "<div class='story'><p>第{n}篇的全文：记者在现场采访了多位当事人，了解事件的来龙去脉。</p>"
        "</div></body></html>")
ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][A-Z0-9])")


def page_source(httpserver: HTTPServer, slug: str, count: int, handler=None) -> str:
    """A feed of `count` summaries whose full text is on pages of the same server."""
    items = [Item(f"{slug}报道{i}", httpserver.url_for(f"/{slug}/page{i}.html"), "<p>摘要</p>",
                  guid=f"{slug}{i}", date_ms=T0 + i * 60_000) for i in range(count)]
    httpserver.expect_request(f"/{slug}.xml").respond_with_data(rss(items),
                                                                 content_type="application/rss+xml")
    for i in range(count):
        if handler is None:
            httpserver.expect_request(f"/{slug}/page{i}.html").respond_with_data(
                PAGE.format(n=i), content_type="text/html; charset=utf-8")
        else:
            httpserver.expect_request(f"/{slug}/page{i}.html").respond_with_handler(
                lambda request, i=i: handler(request, i))
    return httpserver.url_for(f"/{slug}.xml")


def page_config(folder: Path, sources: dict[str, str], remote: Path, *, pages: set[str]) -> None:
    lines = ["[archive]", 'path = "archive"', f"remote = {toml_str(str(remote))}"]
    for slug, url in sources.items():
        lines += ["[[sources]]", f'slug = "{slug}"', f'name = "源{slug}"', f"url = {toml_str(url)}"]
        if slug in pages:
            lines += ['full_text = "page"', 'selector = "div.story"']
    (folder / "newsmirror.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_in_pty(args: list[str], cwd: Path, on_output=None, timeout: float = 120) -> tuple[int, str]:
    """Run the CLI with standard output and error on a real pseudo-terminal; its exit
    code and everything it showed, control sequences removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 220, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI", "TERM")}
    env.update(TERM="xterm-256color", COLUMNS="220", LINES="50")
    proc = subprocess.Popen([sys.executable, "-m", "newsmirror", *args], cwd=cwd, stdin=slave,
                            stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    raw = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            assert ready, f"no output for {timeout} s: {raw[-2000:]!r}"
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            raw += chunk
            if on_output is not None:
                on_output(ANSI.sub("", raw.decode("utf-8", "replace")))
    finally:
        os.close(master)
        code = proc.wait(timeout=timeout)
    return code, ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r", "")


def test_each_source_line_once_on_a_terminal_with_progress_naming_the_page(tmp_path, httpserver):
    release = threading.Event()

    def slow_page(request: Request, i: int) -> Response:
        if i == 1:
            release.wait(60)  # until the progress display has shown what it fetches
        return Response(PAGE.format(n=i), content_type="text/html; charset=utf-8")

    sources = {"p": page_source(httpserver, "p", 3, slow_page), "f": serve_feed(httpserver, "f"),
               "x": httpserver.url_for("/missing.xml")}
    page_config(tmp_path, sources, bare_remote(tmp_path / "remote.git"), pages={"p"})
    seen = []

    def watch(text: str) -> None:
        # The bar counts 3 feeds, then each page as it is found, and names the source.
        if not release.is_set() and re.search(r"mirroring: p page.*\b\d+/[4-9]\b", text):
            seen.append(text)
            release.set()

    try:
        code, text = run_in_pty(["run"], tmp_path, watch)
    finally:
        release.set()
    assert code == 0, text
    assert seen, "the progress display never named the page being fetched"
    for line in ("p: 3 new, 0 updated, 0 unchanged", "f: 2 new, 0 updated, 0 unchanged",
                 "x: FAILED"):
        assert text.count(line) == 1, (line, text)
    assert "pushed to origin/main" in text


def test_each_source_line_once_through_pipes(tmp_path, httpserver):
    sources = {"a": serve_feed(httpserver, "a"), "b": serve_feed(httpserver, "b"),
               "x": httpserver.url_for("/missing.xml")}
    write_config(tmp_path, sources, remote=bare_remote(tmp_path / "remote.git"))
    for options in ([], ["-v"]):
        done = subprocess.run([sys.executable, "-m", "newsmirror", "run", *options],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr
        both = done.stdout + done.stderr
        new, x = ("2 new", "x: FAILED") if not options else ("0 new", "x: skipped, backing off")
        for line in (f"a: {new}", f"b: {new}", x):
            assert both.count(line) == 1, (options, line, both)
        assert "\x1b[" not in done.stderr  # plain log lines, no terminal codes
        if options:
            # -v: time-stamped detail lines on standard error, none of them a source line.
            assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d a: finished$", done.stderr, re.MULTILINE)


def test_ctrl_c_says_what_was_kept_and_the_next_run_repairs_it(tmp_path, httpserver):
    arrived, release = threading.Event(), threading.Event()

    def page(request: Request, i: int) -> Response:
        if i == 1 and not release.is_set():
            arrived.set()
            release.wait(60)
        return Response(PAGE.format(n=i), content_type="text/html; charset=utf-8")

    remote = bare_remote(tmp_path / "remote.git")
    page_config(tmp_path, {"p": page_source(httpserver, "p", 2, page)}, remote, pages={"p"})
    # The run stops itself right after it wrote its first article (newsmirror.crashpoints),
    # so the interrupt lands there on a fast machine and on a slow one alike.
    stopped = tmp_path / "stopped"
    env = dict(os.environ, NEWSMIRROR_STOP_AT="article-written", NEWSMIRROR_STOP_FILE=str(stopped))
    proc = subprocess.Popen([sys.executable, "-m", "newsmirror", "run"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):
            if stopped.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert stopped.exists(), "the run never wrote an article"
        proc.send_signal(signal.SIGINT)  # waits, pending, while the process is stopped
        proc.send_signal(signal.SIGCONT)
        _stdout, stderr = proc.communicate(timeout=120)
    finally:
        release.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Aborted" not in stderr
    # The interrupt was asked for right after the first article; the second may still be
    # written before the run notices (its page can time out while the run is stopped).
    kept = re.search(r"interrupted: (\d+) file\(s\) written so far are kept, not committed; "
                     r"the next run re-reads and commits them", stderr)
    assert kept, stderr
    archive = tmp_path / "archive"
    assert len(list((archive / "articles").rglob("*.md"))) == int(kept.group(1)) >= 1
    again = subprocess.run([sys.executable, "-m", "newsmirror", "run"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    files = sorted((archive / "articles").rglob("*.md"))
    assert len(files) == 2 and all("全文" in f.read_text() for f in files)
    assert git("status", "--porcelain", "--", "articles", cwd=archive) == ""
    assert git("rev-parse", "main", cwd=remote) == git("rev-parse", "HEAD", cwd=archive)


def test_progress_counts_what_takes_time(monkeypatch):
    """The display's arithmetic, on a real (in-memory) terminal console."""
    monkeypatch.setattr(out, "err", Console(file=io.StringIO(), force_terminal=True, width=200))
    monkeypatch.setattr(out, "quiet", False)
    progress = RunProgress("mirroring")
    progress.start(2)
    task = progress.progress.tasks[0]
    progress.working("a", "feed")
    progress.working("b", "feed")
    assert task.total == 2 and task.description == "mirroring: b feed, a feed"
    progress.working("a", "page")
    progress.working("a", "page")
    assert task.total == 4 and task.description == "mirroring: a pages 0/2, b feed"
    progress.worked("a", "page")
    progress.source_done(SourceOutcome("b", "B"))
    # Pages go several at a time: the source's count stays until the last is in.
    assert task.completed == 2 and task.description == "mirroring: a pages 1/2"
    progress.working("a", "images")
    assert task.description == "mirroring: a images"
    progress.worked("a", "images")
    assert task.description == "mirroring: a pages 1/2"
    progress.worked("a", "page")
    assert task.description == "mirroring: a …"
    progress.source_done(SourceOutcome("a", "A"))
    assert task.completed == task.total == 5
    progress.stop()


class Recorder(Reporter):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def working(self, slug: str, what: str) -> None:
        self.calls.append(("working", slug, what))

    def worked(self, slug: str, what: str) -> None:
        self.calls.append(("worked", slug, what))


def test_the_pipeline_reports_every_feed_page_and_image(tmp_path: Path, httpserver: HTTPServer):
    httpserver.expect_request("/img/1.jpg").respond_with_data(b"\xff\xd8\xff" + b"0" * 64,
                                                              content_type="image/jpeg")
    image = httpserver.url_for("/img/1.jpg")
    items = [Item(f"图{i}", f"https://news.test/{i}", f'<p>正文</p><img src="{image}">',
                  guid=str(i), date_ms=T0) for i in range(2)]
    httpserver.expect_request("/img.xml").respond_with_data(rss(items),
                                                            content_type="application/rss+xml")
    mirror = Mirror(tmp_path)
    config = mirror.config([
        {"slug": "p", "name": "P", "url": page_source(httpserver, "p", 3), "full_text": "page",
         "selector": "div.story"},
        {"slug": "i", "name": "I", "url": httpserver.url_for("/img.xml"), "download_images": True},
    ])
    recorder = Recorder()
    asyncio.run(run_mirror(config, push=False, reporter=recorder))
    calls = recorder.calls
    assert sorted(c for c in calls if c[2] == "feed") == [("working", "i", "feed"),
                                                          ("working", "p", "feed")]
    assert calls.count(("working", "p", "page")) == calls.count(("worked", "p", "page")) == 3
    assert calls.count(("working", "i", "images")) == calls.count(("worked", "i", "images")) == 2
