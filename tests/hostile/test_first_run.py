"""Two first runs on an archive that does not exist yet, as two real processes started
together: one mirrors, the other says the archive is busy (exit 3); neither meets the other
half-way through `git init` or `git remote add`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import bare_remote, git
from tests.hostile.cases import GOOD_BODY
from tests.hostile.server import HostileServer

ROUNDS = 6
# `newsmirror run` in a process that first imports everything, says it is ready and waits
# for the word to go, so that the two runs reach the archive together.
STARTER = """
import sys, time
from pathlib import Path
import newsmirror.cli, newsmirror.jobs.mirror, newsmirror.archive.store
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
deadline = time.monotonic() + 120
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
sys.argv = ["newsmirror", *sys.argv[3:]]
newsmirror.cli.main()
"""


def started_together(base: Path, args: list[str]) -> list[tuple[int, str, str]]:
    go = base / "go"
    runs = [subprocess.Popen([sys.executable, "-c", STARTER, str(base / f"ready{n}"), str(go),
                              *args], cwd=base, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for n in range(2)]
    deadline = time.monotonic() + 120  # a bound on a hang only, never a measurement
    while not all((base / f"ready{n}").exists() for n in range(2)):
        assert time.monotonic() < deadline and all(r.poll() is None for r in runs)
        time.sleep(0.01)
    go.touch()
    return [(run.wait(timeout=300), *run.communicate()) for run in runs]


def feed(server: HostileServer) -> str:
    items = "".join(
        f"<item><title>新闻{i}</title><link>{server.url(f'/a/{i}')}</link>"
        f"<pubDate>Mon, 01 Dec 2025 0{i}:00:00 GMT</pubDate>"
        f"<description><![CDATA[{GOOD_BODY}]]></description></item>" for i in range(3))
    return server.serve("/feed.xml", '<?xml version="1.0" encoding="utf-8"?><rss version="2.0">'
                        f"<channel><title>t</title>{items}</channel></rss>",
                        "application/rss+xml")


def test_two_first_runs_at_once_never_race_in_git_init(tmp_path: Path):
    with HostileServer() as server:
        url = feed(server)
        for round_ in range(ROUNDS):
            base = tmp_path / f"round{round_}"
            base.mkdir()
            remote = bare_remote(base / "remote.git")
            (base / "newsmirror.toml").write_text(
                f'[archive]\npath = "archive"\nremote = "{remote}"\n'
                f'[[sources]]\nslug = "a"\nname = "A"\nurl = "{url}"\n', encoding="utf-8")
            results = started_together(base, ["run", "--no-push"])
            codes = sorted(code for code, _out, _err in results)
            for code, out, err in results:
                assert code in (0, 3), (code, out, err)
                if code == 3:
                    assert "another newsmirror run holds the archive" in err, err
                assert "fatal" not in err and "internal error" not in err, err
            assert 0 in codes, results
            archive = base / "archive"
            git("fsck", "--strict", cwd=archive)
            assert git("remote", "get-url", "origin", cwd=archive) == str(remote)
            assert len(list((archive / "articles").rglob("*.md"))) == 3
            assert git("status", "--porcelain", cwd=archive) == ""
