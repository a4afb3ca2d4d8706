"""The archive's git handling, against real repositories and a bare remote."""

from pathlib import Path

import pytest

from newsmirror.publish.git import Repo
from tests.helpers import bare_remote, git


@pytest.fixture
def setup(tmp_path: Path):
    remote = tmp_path / "remote.git"
    bare_remote(remote)
    repo = Repo(tmp_path / "archive")
    repo.ensure()
    repo.set_remote("origin", str(remote))
    return repo, remote


def write(repo: Repo, path: str, text: str):
    (repo.root / path).parent.mkdir(parents=True, exist_ok=True)
    (repo.root / path).write_text(text)


def test_commit_only_when_something_changed(setup):
    repo, _ = setup
    write(repo, "lists/voa.md", "a\n")
    first = repo.commit(["lists", "articles"], "first")
    assert first and repo.head() == first
    assert repo.commit(["lists", "articles"], "again") is None


def test_push_and_unpushed_count(setup):
    repo, remote = setup
    write(repo, "README.md", "x\n")
    repo.commit(["README.md"], "one")
    assert repo.unpushed("origin", "main") is None  # the remote branch is unknown yet
    result = repo.push("origin", "main")
    assert result.ok, result.message
    assert repo.unpushed("origin", "main") == 0
    assert git("rev-parse", "main", cwd=remote).strip() == repo.head()


def test_push_rebases_when_the_remote_moved(setup, tmp_path: Path):
    repo, remote = setup
    write(repo, "README.md", "x\n")
    repo.commit(["README.md"], "one")
    assert repo.push("origin", "main").ok
    other = tmp_path / "other"
    git("clone", "-q", str(remote), str(other), cwd=tmp_path)
    (other / "articles").mkdir()
    (other / "articles/theirs.md").write_text("theirs\n")
    (other / "README.md").write_text("their readme\n")
    git("add", "-A", cwd=other)
    git("-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qm", "theirs", cwd=other)
    git("push", "-q", "origin", "main", cwd=other)

    write(repo, "articles/ours.md", "ours\n")
    write(repo, "README.md", "our readme\n")
    repo.commit(["articles", "README.md"], "ours")
    result = repo.push("origin", "main")
    assert result.ok, result.message
    files = git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
    assert {"articles/ours.md", "articles/theirs.md"} <= set(files)
    # Never forced: the remote's commit is still in the history.
    assert "theirs" in git("log", "--format=%s", "main", cwd=remote)
    assert git("show", "main:README.md", cwd=remote) == "our readme"


def test_unreachable_remote_loses_nothing(setup, tmp_path: Path):
    repo, remote = setup
    repo.set_remote("origin", str(tmp_path / "missing.git"))
    write(repo, "README.md", "x\n")
    head = repo.commit(["README.md"], "one")
    result = repo.push("origin", "main")
    assert not result.ok
    # git's own reason, every line of it that says why, not just the last.
    assert f"fatal: '{tmp_path / 'missing.git'}' does not appear to be a git repository" in result.message
    assert "fatal: Could not read from remote repository." in result.message
    assert repo.head() == head
    repo.set_remote("origin", str(remote))
    assert repo.push("origin", "main").ok
    assert git("rev-parse", "main", cwd=remote).strip() == head


def test_rejected_push_is_kept_for_the_next_run(setup):
    repo, remote = setup
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'rejected by policy' >&2\nexit 1\n")
    hook.chmod(0o755)
    write(repo, "README.md", "x\n")
    head = repo.commit(["README.md"], "one")
    result = repo.push("origin", "main")
    assert not result.ok
    assert "remote: rejected by policy" in result.message
    assert "pre-receive hook declined" in result.message
    assert repo.head() == head
    hook.unlink()
    assert repo.push("origin", "main").ok


def test_stale_index_lock_is_cleared(setup):
    repo, _ = setup
    (repo.root / ".git" / "index.lock").write_text("")
    assert repo.clear_stale_lock()
    write(repo, "README.md", "x\n")
    assert repo.commit(["README.md"], "after a crash")
