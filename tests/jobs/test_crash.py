"""Kill a run (SIGKILL, the process alone or its whole process group, as the OOM killer, a CI
cancel, `systemd stop` or `timeout -s KILL` do) at points defined by the run's own progress,
never by the clock: after the Nth article file, while a git child is running, during the
push and its rebase, between the commit and the catalog update. The run stops itself at the
point named in NEWSMIRROR_STOP_AT (newsmirror/crashpoints.py) and the test kills it there,
so every point is reached on a fast machine and on a slow one. Each re-run must repair: every
file parseable, no duplicate, no lost article, `git fsck --strict` clean, nothing left
uncommitted, HEAD equal to the remote, and a further run with nothing new commits nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newsmirror.archive.article import parse_article
from newsmirror.archive.paths import key_from_path
from tests.helpers import bare_remote, git
from tests.jobs.feeds import Item, rss

FEEDS, ITEMS = 3, 40
T0 = 1_764_000_000_000


def feed_for(source: int, round_: int) -> bytes:
    """Each round adds five items and edits a fifth of the others."""
    items = []
    for i in range(ITEMS + 5 * round_):
        edited = f"<p>第{round_}版</p>" if i % 5 == round_ % 5 else ""
        items.append(Item(f"源{source}新闻{i}", f"https://news.test/{source}/{i}",
                          f"<p>正文{source}-{i}</p>{edited}", guid=f"{source}-{i}",
                          date_ms=T0 + i * 60_000))
    return rss(items)


class CrashLab:
    """An archive, its bare remote, a loopback feed server and a way to run and kill."""

    def __init__(self, tmp: Path, server: HTTPServer):
        self.tmp = tmp
        self.round = 0
        self.kills = 0
        self.moves = 0
        for s in range(FEEDS):
            server.expect_request(f"/s{s}.xml").respond_with_handler(self._feed)
        self.remote = bare_remote(tmp / "remote.git")
        self.archive = tmp / "archive"
        self.config = tmp / "newsmirror.toml"
        self.config.write_text(f'[archive]\nremote = "{self.remote}"\n' + "".join(
            f'[[sources]]\nslug = "s{s}"\nname = "源{s}"\nurl = "{server.url_for(f"/s{s}.xml")}"\n'
            for s in range(FEEDS)), encoding="utf-8")

    def _feed(self, request: Request) -> Response:
        source = int(request.path.strip("/").split(".")[0][1:])
        return Response(feed_for(source, self.round), content_type="application/rss+xml")

    def _start(self, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
        log = self.tmp / f"run-{time.monotonic_ns()}.log"
        with open(log, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "newsmirror", "-q", "run", "--config", str(self.config),
                 "--archive", str(self.archive)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                env={**os.environ, **env}, start_new_session=True)
        return proc, log

    def run(self) -> None:
        proc, log = self._start({})
        assert proc.wait(timeout=300) == 0, log.read_text("utf-8", "replace")

    @property
    def stop_file(self) -> Path:
        return self.tmp / "stopped"

    def crash(self, point: str | None, whole_group: bool) -> None:
        """Run until `point`, then kill the run there (alone, or with its process group).
        With no point, something else (a git hook) stops the run and writes the stop file."""
        stop = self.stop_file
        stop.unlink(missing_ok=True)
        proc, log = self._start({"NEWSMIRROR_STOP_AT": point, "NEWSMIRROR_STOP_FILE": str(stop)}
                                if point else {})
        deadline = time.monotonic() + 300
        while not stop.exists():
            if proc.poll() is not None:
                pytest.fail(f"the run ended (exit {proc.returncode}) without reaching {point}:\n"
                            + log.read_text("utf-8", "replace"))
            assert time.monotonic() < deadline, f"{point} not reached in 300 s"
            time.sleep(0.005)
        if whole_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            os.kill(proc.pid, signal.SIGKILL)
            # Its children go on as orphans do (they were stopped with it).
            os.killpg(proc.pid, signal.SIGCONT)
        assert proc.wait(timeout=60) == -signal.SIGKILL
        self.kills += 1
        self._wait_for_group(proc.pid)

    @staticmethod
    def _wait_for_group(pgid: int) -> None:
        """Orphaned git children finish before the next run, as they would in an hour."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)
        pytest.fail("the killed run's children did not end")

    def move_remote(self) -> None:
        """Another runner pushed meanwhile: our next push is refused and must rebase."""
        other = self.tmp / "other"
        if not other.exists():
            subprocess.run(["git", "clone", "-q", str(self.remote), str(other)], check=True)
        if subprocess.run(["git", "rev-parse", "-q", "--verify", "origin/main"], cwd=other,
                          capture_output=True).returncode == 0 or git("ls-remote", "origin", "main", cwd=other):
            git("pull", "-q", "--rebase", "origin", "main", cwd=other)
        self.moves += 1
        (other / "notes").mkdir(exist_ok=True)
        (other / "notes" / f"{self.moves}.txt").write_text(f"pushed from elsewhere {self.moves}\n")
        git("add", "notes", cwd=other)
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "elsewhere", cwd=other)
        git("push", "-q", "origin", "HEAD:main", cwd=other)

    def assert_repaired(self) -> None:
        """The archive holds every article of the last round once, as the feed gives it,
        and everything is committed and pushed."""
        archive = self.archive
        files = sorted((archive / "articles").rglob("*.md"))
        count = ITEMS + 5 * self.round
        assert len(files) == FEEDS * count
        keys = set()
        for path in files:
            article = parse_article(path.read_bytes(), name=str(path))
            source, item = article.link.rsplit("/", 2)[-2:]
            assert f"<p>正文{source}-{item}</p>" in article.body
            assert (f"<p>第{self.round}版</p>" in article.body) == (int(item) % 5 == self.round % 5)
            keys.add((path.relative_to(archive).parts[1], key_from_path(path.name)))
        assert len(keys) == len(files), "an article was written twice"
        assert not list(archive.rglob(".newsmirror-tmp-*"))
        assert not [p for p in (archive / ".git").rglob("*.lock")]
        fsck = subprocess.run(["git", "fsck", "--strict"], cwd=archive, capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        dirty = git("status", "--porcelain", cwd=archive).split("\n")
        assert [line for line in dirty if line] == []
        assert git("rev-parse", "HEAD", cwd=archive) == git("rev-parse", "main", cwd=self.remote)
        for s in range(FEEDS):
            assert (archive / "lists" / f"s{s}.md").read_text().count("\n\n") == count
        for n in range(1, self.moves + 1):
            assert (archive / "notes" / f"{n}.txt").exists(), "a commit pushed from elsewhere was lost"
        # The catalog agrees with the files: nothing new means no commit.
        head = git("rev-parse", "HEAD", cwd=archive)
        self.run()
        assert git("rev-parse", "HEAD", cwd=archive) == head


@pytest.fixture
def lab(tmp_path: Path, httpserver: HTTPServer) -> CrashLab:
    return CrashLab(tmp_path, httpserver)


FIRST_RUN = [
    ("git-init", True), ("article-written#50", True), ("article-written#50", False),
    ("git-update-ref", True), ("git-push", True),
]


@pytest.mark.parametrize("point,whole_group", FIRST_RUN,
                         ids=[f"{p}-{'group' if g else 'process'}" for p, g in FIRST_RUN])
def test_a_first_run_killed_anywhere_is_repaired_by_the_next(lab: CrashLab, point: str, whole_group: bool):
    lab.crash(point, whole_group)
    assert lab.kills == 1
    lab.run()
    lab.assert_repaired()


LATER_RUN = [
    ("article-written#30", True), ("article-written#30", False),
    ("git-update-index", True), ("git-write-tree", False), ("git-commit-tree", True),
    ("git-update-ref", True), ("git-update-ref", False),
    ("committed", False), ("committed", True),
    ("git-push", True), ("git-fetch", True), ("git-rebase", True), ("git-rebase", False),
    ("pushed", True), ("cataloged", False),
]


@pytest.mark.parametrize("point,whole_group", LATER_RUN,
                         ids=[f"{p}-{'group' if g else 'process'}" for p, g in LATER_RUN])
def test_a_run_killed_anywhere_is_repaired_by_the_next(lab: CrashLab, point: str, whole_group: bool):
    lab.run()
    lab.round = 1
    lab.move_remote()
    lab.crash(point, whole_group)
    assert lab.kills == 1
    lab.run()
    lab.assert_repaired()


CHAIN = [  # (feed round, pushed from elsewhere first, point, whole group)
    (0, False, "article-written#20", True), (0, False, "git-add", False),
    (1, True, "article-written#30", True), (1, False, "git-update-ref", True),
    (2, True, "git-rebase", True), (3, False, "committed", False),
    (3, True, "git-push", True), (4, False, "git-update-index", True),
]


def test_kills_one_after_another_are_repaired_by_one_run(lab: CrashLab):
    """Several runs in a row die before one gets through, at different points, while the
    feeds change and others push to the remote."""
    for round_, move, point, whole_group in CHAIN:
        lab.round = round_
        if move:
            lab.move_remote()
        lab.crash(point, whole_group)
    assert lab.kills == len(CHAIN)
    lab.round = 5
    lab.run()
    lab.assert_repaired()


def test_a_git_killed_while_it_holds_the_branch_and_head_locks_is_repaired(lab: CrashLab):
    """git's reference-transaction hook runs while git holds the locks of the refs it is
    updating: stopping the run's process group there and killing it leaves the locks
    exactly as a kill during `git update-ref` does (today that blocked every later run)."""
    lab.run()
    lab.round = 1
    hook = lab.archive / ".git" / "hooks" / "reference-transaction"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"""#!/bin/sh
[ "$1" = prepared ] || exit 0
grep -q " refs/heads/main$" || exit 0
rm -f "$0"
echo stopped > "{lab.stop_file}"
kill -STOP 0
""")
    hook.chmod(0o755)
    lab.crash(None, whole_group=True)
    assert (lab.archive / ".git" / "refs" / "heads" / "main.lock").exists()
    lab.run()
    lab.assert_repaired()
