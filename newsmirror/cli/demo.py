"""`newsmirror demo`: the whole job on bundled sample feeds, with no network."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import typer

from newsmirror.archive.paths import ARTICLES_DIR
from newsmirror.errors import CONFIG
from newsmirror.cli.output import out, plural, push_failed
from newsmirror.cli.run import execute, print_summary

MARKER = ".newsmirror-demo"
DEMO_CONFIG = """\
# The demo's configuration, written by `newsmirror demo`. A real one looks the same,
# with the outlets' real feed addresses (see the README).
[archive]
path = "archive"
title = "新闻镜像（演示） newsmirror demo"
remote = "{remote}"

# Images go through the default image proxy (images.weserv.nl, wsrv.nl as the
# fallback); [images] proxy = [] would leave their addresses as the feeds give them.

[[sources]]
slug = "voa"
name = "美国之音（演示）"
url = "{base}/voa.xml"

[[sources]]
slug = "bbc"
name = "BBC 中文（演示）"
url = "{base}/bbc.xml"

[[sources]]
slug = "rfi"
name = "法广（演示）"
url = "{base}/rfi.xml"
full_text = "auto"
selector = "div.article-body"

[[sources]]
slug = "broken"
name = "故障演示（总是失败）"
url = "{base}/broken.xml"
"""


def _prepare(folder: Path) -> None:
    if folder.exists():
        if not (folder / MARKER).exists() and any(folder.iterdir()):
            raise out.fail(f"{folder} exists and is not a demo folder; choose another --dir", CONFIG)
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by `newsmirror demo`; safe to delete\n")
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(folder / "remote.git")],
                   check=True)


def demo(
    folder: Path = typer.Option(Path("demo-archive"), "--dir", "-d",
                                help="Where to put the demo archive and its bare remote (replaced if it is an earlier demo)."),
) -> None:
    """Mirror the bundled sample feeds from a loopback server into a local archive with a
    local bare remote: a first run, a run after one article was edited, and a run with
    nothing new. Needs no network."""
    from newsmirror.config import load_config
    from newsmirror.demo.server import DemoServer

    folder = folder.resolve()
    _prepare(folder)
    with DemoServer() as server:
        config_file = folder / "newsmirror.toml"
        config_file.write_text(DEMO_CONFIG.format(base=server.base, remote=folder / "remote.git"),
                               encoding="utf-8")
        config = load_config(config_file)
        steps = [
            (1, "Run 1: the first mirror of four sample sources (one of them always broken)"),
            (2, "Run 2: the publisher edited one article since"),
            (2, "Run 3: nothing changed (the feeds answer 304 Not Modified)"),
        ]
        for number, (round_, title) in enumerate(steps, 1):
            server.round = round_
            out.stdout.print(f"\n== {title}", markup=False)
            report = execute(config, push=True, label=f"run {number}")
            print_summary(report)
            if (failed_push := push_failed(report.push)) is not None:
                raise failed_push
            if not report.ok:
                raise out.fail(f"demo run {number} failed")
    archive = config.archive
    log = subprocess.run(["git", "-C", str(archive), "log", "--format=%h %s"],
                         capture_output=True, text=True, check=True).stdout
    out.stdout.print("\n== The archive's history\n" + log.rstrip(), markup=False)
    articles = sorted(p.relative_to(archive).as_posix() for p in (archive / ARTICLES_DIR).rglob("*.md"))
    out.stdout.print(f"\n== {plural(len(articles), 'article')} in {archive}", markup=False)
    for path in articles:
        out.stdout.print(f"  {path}", markup=False)
    from newsmirror.archive.store import open_store
    from newsmirror.publish.site import build_site

    with open_store(archive, branch=config.branch, writes=False) as store:
        site = build_site(config, store, folder / "site")
    out.stdout.print(f"\n== The reading site: {site.files_written} files in {folder / 'site'}", markup=False)
    out.stdout.print(f"\nOpen {archive / 'README.md'} to browse the archive as a git host shows it, "
                     f"or {site.index_path} in a browser (or `newsmirror serve --out {folder / 'site'}`). "
                     f"The bare remote it pushed to is {folder / 'remote.git'}.", markup=False)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
