"""The README's configuration examples and the command it gives for them work as printed."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.conftest import PROJECT
from tests.helpers import git
from tests.jobs.feeds import Item, rss

README = (PROJECT / "README.md").read_text(encoding="utf-8")
TOML_BLOCKS = re.findall(r"```toml\n(.*?)```", README, re.DOTALL)


def newsmirror(command: str, cwd: Path) -> subprocess.CompletedProcess:
    words = shlex.split(command)
    assert words[0] == "newsmirror"
    return subprocess.run([sys.executable, "-m", "newsmirror", *words[1:]], cwd=cwd,
                          check=False, capture_output=True, text=True, timeout=120)


def test_the_smallest_configuration_runs_with_the_command_the_readme_gives(
        tmp_path: Path, httpserver: HTTPServer):
    smallest = TOML_BLOCKS[0]
    url = re.search(r'url = "(.*)"', smallest).group(1)
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([Item("标题", "https://news.test/1", "<p>正文</p>", guid="1")]),
        content_type="application/rss+xml")
    (tmp_path / "newsmirror.toml").write_text(smallest.replace(url, httpserver.url_for("/feed.xml")),
                                              encoding="utf-8")
    [command] = re.findall(r"`(newsmirror run --config newsmirror.toml --archive DIR[^`]*)` then "
                           r"mirrors into DIR", README)
    done = newsmirror(command, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "voa: 1 new" in done.stdout
    assert len(git("ls-files", "articles", cwd=tmp_path / "DIR").splitlines()) == 1
    assert git("log", "--format=%an", cwd=tmp_path / "DIR") == "newsmirror"


def test_the_full_example_passes_the_check(tmp_path: Path):
    full = TOML_BLOCKS[1]
    assert "[alerts]" in full and "[requests]" in full
    (tmp_path / "newsmirror.toml").write_text(full, encoding="utf-8")
    done = newsmirror("newsmirror check --config newsmirror.toml", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("newsmirror.toml: ok (")
