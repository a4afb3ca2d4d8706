"""A full disk, for real: the archive lives on a small tmpfs that a filler file has all but
filled. The run says "disk full" in one line and exits 3; the next start, still full, says
the same (never SQLite's words as an internal error); once there is space, the next run
archives everything and commits it: nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from newsmirror.archive.article import parse_article
from tests.helpers import bare_remote, git
from tests.hostile.server import HostileServer

SIZE = 16 * 1024 * 1024
ITEMS = 60
BODY = "<p>" + "长文" * 10_000 + "</p>"  # 60 kB a file: 60 of them (3.6 MB) overflow what is left


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmirror", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
                              capture_output=True, text=True, check=False)
    except FileNotFoundError:
        pytest.skip("no mount command here: a real full disk needs a small tmpfs")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for a real full disk (needs root or "
                    f"CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path, leave_kib: int) -> Path:
    """A filler file that leaves about `leave_kib` KiB free on the tmpfs."""
    filler = mount / "filler"
    stat = os.statvfs(mount)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "wb") as handle:
        handle.truncate(0)
        handle.write(b"\0" * max(0, free - leave_kib * 1024))
    return filler


@pytest.mark.parametrize("leave_kib", [100, 1000, 3000])
def test_a_full_disk_says_so_exits_3_loses_nothing_and_is_repaired(
        tmp_path: Path, small_disk: Path, leave_kib: int):
    with HostileServer() as server:
        items = "".join(
            f"<item><title>新闻{i}</title><link>{server.url(f'/a/{i}')}</link>"
            f"<pubDate>Mon, 01 Dec 2025 08:{i:02d}:00 GMT</pubDate>"
            f"<description><![CDATA[{BODY}{i}]]></description></item>" for i in range(ITEMS))
        url = server.serve("/feed.xml", '<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
                           f"<channel><title>t</title>{items}</channel></rss>",
                           "application/rss+xml")
        remote = bare_remote(tmp_path / "remote.git")
        (tmp_path / "newsmirror.toml").write_text(
            f'[archive]\npath = "{small_disk / "archive"}"\nremote = "{remote}"\n'
            f'[[sources]]\nslug = "a"\nname = "A"\nurl = "{url}"\n', encoding="utf-8")
        filler = fill(small_disk, leave_kib)
        for attempt in ("the run", "the next start, still full"):
            result = cli("run", cwd=tmp_path)
            assert result.returncode == 3, (attempt, result.stdout, result.stderr)
            errors = [line for line in result.stderr.splitlines() if "error: " in line]
            assert errors and "error: disk full: " in errors[0], (attempt, result.stderr)
            assert "Traceback" not in result.stderr and "internal error" not in result.stderr
        filler.unlink()
        result = cli("run", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    archive = small_disk / "archive"
    links = {parse_article(p.read_bytes()).link for p in (archive / "articles").rglob("*.md")}
    assert links == {server.url(f"/a/{i}") for i in range(ITEMS)}
    assert git("status", "--porcelain", cwd=archive) == ""
    git("fsck", "--strict", cwd=archive)
    assert git("rev-parse", "HEAD", cwd=archive) == git("--git-dir", str(remote), "rev-parse",
                                                         "main", cwd=tmp_path)
    assert not list(archive.rglob(".newsmirror-tmp*"))
