"""The archive's git handling, against real repositories and a bare remote."""

import contextlib
import subprocess
from pathlib import Path

import pytest

from newsmirror.archive.git import GitError, Repo
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


STALE_LOCKS = ["index.lock", "HEAD.lock", "refs/heads/main.lock", "packed-refs.lock", "shallow.lock",
               "refs/remotes/origin/main.lock"]


@pytest.mark.parametrize("lock", STALE_LOCKS)
def test_a_lock_a_killed_git_left_is_cleared_and_the_commit_goes_through(setup, lock):
    repo, _ = setup
    write(repo, "README.md", "before\n")
    repo.commit(["README.md"], "before")
    (repo.root / ".git" / lock).parent.mkdir(parents=True, exist_ok=True)
    (repo.root / ".git" / lock).write_text("")
    with pytest.raises(GitError) if lock in ("index.lock", "HEAD.lock", "refs/heads/main.lock") \
            else contextlib.nullcontext():
        write(repo, "README.md", "blocked\n")
        repo.commit(["README.md"], "blocked by the lock")
    assert repo.clear_stale_locks() == [lock]
    assert not (repo.root / ".git" / lock).exists()
    write(repo, "README.md", "after\n")
    assert repo.commit(["README.md"], "after a crash")
    assert repo.clear_stale_locks() == []


def test_a_lock_held_by_a_live_git_process_is_left_alone(setup):
    repo, _ = setup
    lock = repo.root / ".git" / "HEAD.lock"
    lock.write_text("")
    # A git process working in the repository (here one waiting on its standard input).
    live = subprocess.Popen(["git", "hash-object", "--stdin"], cwd=repo.root, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL)
    try:
        assert repo.clear_stale_locks(wait_s=0.3) == []
        assert lock.exists()
    finally:
        live.communicate(b"x")
    assert repo.clear_stale_locks(wait_s=0.3) == ["HEAD.lock"]


def test_a_repository_whose_creation_was_cut_short_is_completed(tmp_path):
    root = tmp_path / "archive"
    (root / ".git" / "objects").mkdir(parents=True)  # what a `git init` killed early leaves
    repo = Repo(root)
    repo.ensure("main")
    write(repo, "README.md", "x\n")
    assert repo.commit(["README.md"], "first")
    assert repo.branch() == "main"


# -- files handed to the packer ahead of the commit --------------------------------------
def _git(repo: Repo, *args: str) -> str:
    return git(*args, cwd=repo.root)


def _write_and_pack(repo: Repo, count: int, size: int) -> list[str]:
    paths = []
    for n in range(count):
        path = f"articles/s{n % 7}/{n:05d}.md"
        data = f"# {n}\n\n".encode() + bytes([65 + n % 26]) * size + f"\n{n}\n".encode()
        write(repo, path, data.decode())
        repo.pack(data)
        paths.append(path)
    return paths


def _loose_objects(repo: Repo) -> int:
    counts = dict(line.split(": ") for line in _git(repo, "count-objects", "-v").splitlines())
    return int(counts["count"])


def _packed_objects(repo: Repo) -> int:
    counts = dict(line.split(": ") for line in _git(repo, "count-objects", "-v").splitlines())
    return int(counts["in-pack"])


def test_a_large_commit_finds_its_files_packed_and_writes_no_loose_blob(setup):
    repo, _ = setup
    paths = _write_and_pack(repo, 1200, 2000)  # 2.4 MB: streamed to the packer
    commit = repo.commit(paths, "many")
    assert commit and _git(repo, "status", "--porcelain") == ""
    assert _packed_objects(repo) >= 1200
    assert _loose_objects(repo) < 20  # the trees and the commit
    assert _git(repo, "ls-files", "articles").count("\n") == 1199
    subprocess.run(["git", "fsck", "--strict"], cwd=repo.root, check=True, capture_output=True)
    for path in (paths[0], paths[-1]):  # the commit holds the files' own bytes
        assert _git(repo, "show", f"HEAD:{path}") == (repo.root / path).read_text().rstrip("\n")


def test_a_small_commit_starts_no_packer(setup):
    repo, _ = setup
    paths = _write_and_pack(repo, 40, 2000)
    assert repo._packer is None
    repo.commit(paths, "few")
    assert _packed_objects(repo) == 0 and _loose_objects(repo) >= 40
    assert _git(repo, "status", "--porcelain") == ""


def test_a_packer_that_died_costs_nothing_but_the_shortcut(setup):
    repo, _ = setup
    paths = _write_and_pack(repo, 700, 2000)
    assert repo._packer is not None
    repo._packer.kill()
    repo._packer.wait()
    paths += _write_and_pack(repo, 700, 2000)[600:]  # more after it died
    commit = repo.commit(paths, "despite the packer")
    assert commit and _git(repo, "status", "--porcelain") == ""
    subprocess.run(["git", "fsck", "--strict"], cwd=repo.root, check=True, capture_output=True)
