"""The archive's git repository, driven through the real `git` binary."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from newsmirror import crashpoints
from newsmirror.errors import ARCHIVE, NewsmirrorError

DEFAULT_AUTHOR = ("newsmirror", "newsmirror@users.noreply.github.com")


class GitError(NewsmirrorError, RuntimeError):
    """A git command failed; the message carries the command and git's own words."""

    exit_code = ARCHIVE

    def lines(self) -> list[str]:
        if "No space left on device" not in str(self):
            return [str(self)]
        return ["disk full: git could not write (No space left on device). Nothing archived "
                "is lost: the next run, once there is space, commits it", str(self)]


@dataclass(frozen=True)
class PushResult:
    ok: bool
    message: str


class Repo:
    def __init__(self, root: Path, *, author: tuple[str, str] = DEFAULT_AUTHOR,
                 env: dict[str, str] | None = None):
        """`env`: variables every git command here runs with (credentials passed as
        GIT_CONFIG_* settings, say, which no file ever holds)."""
        self.root = root
        self.author = author
        self.env = dict(env or {})
        self._packer: subprocess.Popen[bytes] | None = None
        self._packing = True
        self._pending = bytearray()

    # -- plumbing -----------------------------------------------------------------------
    def _environ(self, env: dict[str, str] | None = None) -> dict[str, str]:
        environ = dict(os.environ)
        environ.update({
            "GIT_AUTHOR_NAME": self.author[0], "GIT_AUTHOR_EMAIL": self.author[1],
            "GIT_COMMITTER_NAME": self.author[0], "GIT_COMMITTER_EMAIL": self.author[1],
            "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C",
        })
        environ.update(self.env)
        environ.update(env or {})
        return environ

    def git(self, *args: str, check: bool = True, input: bytes | None = None,
            timeout: float = 600, env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[bytes]:
        """Run git here; `env`: variables to set for this command only."""
        name = next((a for a in args if not a.startswith("-")), "")
        try:
            proc = subprocess.Popen(["git", *args], cwd=self.root, env=self._environ(env),
                                    stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise GitError("the git program is not installed (it must be on PATH)") from None
        with proc:
            crashpoints.reached(f"git-{name}")
            try:
                out, err = proc.communicate(input, timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise GitError(f"git {' '.join(args)}: no answer after {timeout:.0f} s") from None
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        if check and done.returncode != 0:
            words = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
            raise GitError(f"git {' '.join(args)} failed: {words}")
        return done

    def out(self, *args: str, input: bytes | None = None) -> str:
        return self.git(*args, input=input).stdout.decode("utf-8", "replace").strip()

    # -- set-up -------------------------------------------------------------------------
    def ensure(self, branch: str = "main") -> None:
        """Create the repository when the folder is not one yet."""
        self.root.mkdir(parents=True, exist_ok=True)
        git_dir = self.root / ".git"
        # `git init` on an existing repository only adds what is missing, so a repository
        # whose creation was cut short (a killed first run) is completed, never lost.
        if not all((git_dir / part).exists() for part in ("HEAD", "config", "objects", "refs")):
            self.git("init", "-q", "-b", branch)

    def set_remote(self, name: str, url: str) -> None:
        current = self.git("remote", "get-url", name, check=False)
        if current.returncode != 0:
            self.git("remote", "add", name, url)
        elif current.stdout.decode().strip() != url:
            self.git("remote", "set-url", name, url)

    def remote_url(self, name: str) -> str | None:
        """The address of the remote `name` (None when there is no such remote, or no
        repository yet)."""
        if not (self.root / ".git").exists():
            return None
        done = self.git("remote", "get-url", name, check=False)
        return done.stdout.decode("utf-8", "replace").strip() or None if done.returncode == 0 else None

    def has_remote(self, name: str) -> bool:
        return self.git("remote", "get-url", name, check=False).returncode == 0

    def clear_stale_locks(self, *, wait_s: float = 30) -> list[str]:
        """Remove the lock files a killed git left behind (index.lock, HEAD.lock, a branch's
        or remote ref's .lock, packed-refs.lock, shallow.lock, …); returns their paths.
        Call only while holding the archive's run lock, so that no other newsmirror command
        is running git here. A git process still working in the repository (the orphan of
        a killed run, or a background gc) may hold a lock rightly: it is given `wait_s` to
        finish, and its locks are left alone if it does not."""
        git_dir = self.root / ".git"
        if not _lock_files(git_dir):
            return []
        deadline = time.monotonic() + wait_s
        while _git_processes_in(self.root) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _git_processes_in(self.root):
            return []
        removed = []
        for lock in _lock_files(git_dir):
            try:
                lock.unlink()
            except FileNotFoundError:
                continue
            removed.append(lock.relative_to(git_dir).as_posix())
        return removed

    # -- state --------------------------------------------------------------------------
    def head(self) -> str | None:
        done = self.git("rev-parse", "--verify", "-q", "HEAD", check=False)
        return done.stdout.decode().strip() or None if done.returncode == 0 else None

    def is_shallow(self) -> bool:
        """A shallow clone (`git clone --depth`, the workflow's checkout): commits older
        than its first are not here."""
        done = self.git("rev-parse", "--is-shallow-repository", check=False)
        return done.returncode == 0 and done.stdout.strip() == b"true"

    def branch(self) -> str:
        return self.out("symbolic-ref", "--short", "HEAD")

    def changed_between(self, old: str, new: str, *paths: str) -> list[str]:
        done = self.git("diff", "--name-only", "--no-renames", "-z", old, new, "--", *paths,
                        check=False)
        if done.returncode != 0:
            raise GitError(f"cannot compare {old[:12]} with {new[:12]}")
        return [p for p in done.stdout.decode("utf-8").split("\0") if p]

    def has_commit(self, rev: str) -> bool:
        """Whether this repository has the commit `rev`."""
        return self.git("cat-file", "-e", f"{rev}^{{commit}}", check=False).returncode == 0

    def dirty(self, *paths: str) -> list[str]:
        """Paths with uncommitted changes (untracked included), one entry per file."""
        out = self.git("status", "--porcelain", "-z", "--untracked-files=all", "--no-renames",
                       "--", *paths).stdout.decode("utf-8")
        return [item[3:] for item in out.split("\0") if len(item) > 3]

    # -- writing ------------------------------------------------------------------------
    def pack(self, data: bytes) -> None:
        """Hand git the bytes of a file written for the next commit, ahead of it.

        Once they pass 1 MiB they stream, a MiB at a time, to one `git fast-import`
        running beside the run, which writes them into a single pack. Staging then hashes
        each file as before, finds its object already stored and writes none: a cold run
        of 10,000 articles no longer writes 10,000 loose objects, nor starts the
        `gc --auto` that packs them again. A run that writes less (an ordinary hour)
        starts no packer: staging writes its few objects loose, as it always did.

        Only a shortcut: the commit stages the files themselves, so whatever the packer
        did not store (it failed, the run was killed) is written by staging as before, and
        what it stored that no commit takes is an unreachable object gc prunes in time."""
        if not self._packing:
            return
        self._pending += b"blob\ndata %d\n%s\n" % (len(data), data)
        if len(self._pending) >= _PACK_CHUNK:
            self._send_pending()

    def _send_pending(self) -> None:
        # A MiB per write into a pipe that holds one: the run wakes the packer a few dozen
        # times, not once per file (each wake-up cost ~0.3 ms on a busy machine).
        if self._packer is None:
            try:
                self._packer = subprocess.Popen(
                    ["git", "fast-import", "--quiet", "--depth=0"], cwd=self.root,
                    env=self._environ(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)
            except OSError:
                self._packing = False
                self._pending.clear()
                return
            try:
                fcntl.fcntl(self._packer.stdin.fileno(), fcntl.F_SETPIPE_SZ, _PACK_CHUNK)  # type: ignore[union-attr]
            except (OSError, AttributeError):
                pass
        assert self._packer.stdin is not None
        try:
            self._packer.stdin.write(self._pending)
        except OSError:  # it stopped (a full disk): staging writes what it lacks
            self._packing = False
            self._pending.clear()
            self.finish_pack()
            return
        self._pending.clear()

    def finish_pack(self) -> None:
        """Let the packer store what it was given and wait for it (before staging, or at
        the end). Bytes held back for a packer never started are left to staging."""
        if self._packer is not None and self._pending:
            self._send_pending()
        self._pending.clear()
        packer, self._packer = self._packer, None
        if packer is None:
            return
        try:
            assert packer.stdin is not None
            packer.stdin.close()
        except OSError:
            pass
        packer.wait()

    def commit(self, paths: list[str], message: str) -> str | None:
        """Stage `paths` and commit; None when nothing changed. Folders are staged whole
        (new, changed and deleted files in them); plain files are handed to git one by
        one, which on a large archive is far cheaper than matching pathspecs against
        every file git tracks. What was handed to `pack` is stored by then."""
        self.finish_pack()
        folders = [p for p in paths if os.path.isdir(os.path.join(self.root, p))]  # no Path per file
        files = [p for p in paths if p not in folders]
        if folders:
            self.git("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul",
                     input="\0".join(folders).encode("utf-8"))
        if files:
            # --remove: a listed file that no longer exists leaves the index too.
            self.git("update-index", "--add", "--remove", "-z", "--stdin",
                     input="".join(f"{p}\0" for p in files).encode("utf-8"))
        # Plumbing rather than `git commit`, which would first re-check every tracked file.
        tree = self.out("write-tree")
        parent = self.head()
        if parent and self.out("rev-parse", f"{parent}^{{tree}}") == tree:
            return None
        commit = self.out("commit-tree", tree, *(("-p", parent) if parent else ()), "-F", "-",
                          input=message.encode("utf-8"))
        # The old value makes the update fail rather than lose a commit made meanwhile.
        self.git("update-ref", "-m", "newsmirror: commit", "HEAD", commit, parent or "")
        # What `git commit` would do: pack loose objects once there are many (in the
        # background, so the run does not wait for it).
        self.git("gc", "--auto", "--quiet", check=False)
        return commit

    def unpushed(self, remote: str, branch: str) -> int | None:
        """Commits not yet on the remote branch; None when the remote branch is unknown."""
        done = self.git("rev-list", "--count", f"{remote}/{branch}..HEAD", check=False)
        return int(done.stdout) if done.returncode == 0 else None

    def push(self, remote: str, branch: str, *, attempts: int = 3) -> PushResult:
        """Push without ever forcing. When the remote moved on, fetch, rebase our commits on
        top and try again; any other refusal (no such repository, unreachable host, a hook
        that declined) fails at once with git's own words. A failure loses nothing: the
        commits stay in the archive."""
        where = self._remote_address(remote)
        reason = ""
        for _attempt in range(attempts):
            done = self.git("push", "-q", remote, f"HEAD:refs/heads/{branch}", check=False,
                            timeout=300)
            if done.returncode == 0:
                self.git("fetch", "-q", remote, branch, check=False, timeout=300)
                return PushResult(True, f"pushed to {remote}/{branch}")
            reason = git_reason(done)
            fetched = self.git("fetch", "-q", remote, branch, check=False, timeout=300)
            moved = fetched.returncode == 0 and self.git(
                "merge-base", "--is-ancestor", f"{remote}/{branch}", "HEAD",
                check=False).returncode != 0
            if not moved:
                # The remote did not move on: trying again would fail the same way.
                return PushResult(False, f"git push to {where} ({remote}/{branch}) failed:\n"
                                         f"{reason}")
            if not self._rebase_onto(f"{remote}/{branch}"):
                return PushResult(False, f"the remote {where} has changes that conflict with "
                                         "ours; our commits are kept, not pushed")
        return PushResult(False, f"git push to {where} ({remote}/{branch}) failed after "
                                 f"{attempts} attempts (the remote kept moving on):\n{reason}")

    def _remote_address(self, remote: str) -> str:
        """The remote's address as the user wrote it, without any password in it."""
        done = self.git("remote", "get-url", remote, check=False)
        url = done.stdout.decode("utf-8", "replace").strip() if done.returncode == 0 else ""
        return re.sub(r"(?<=://)[^/@]*@", "", url) or remote

    def _rebase_onto(self, upstream: str) -> bool:
        # Our side wins where both touched a generated file (lists, README, feeds): the
        # next run regenerates them from the articles of both sides anyway.
        # --autostash: an idle run leaves the health file modified but uncommitted.
        done = self.git("rebase", "-q", "--autostash", "-X", "theirs", upstream, check=False)
        if done.returncode != 0:
            self.git("rebase", "--abort", check=False)
            return False
        return True


_PACK_CHUNK = 1 << 20
"""Bytes of files held back before they go to the packer (Repo.pack)."""

_TOP_LOCKS = ("index.lock", "HEAD.lock", "ORIG_HEAD.lock", "FETCH_HEAD.lock", "packed-refs.lock",
              "shallow.lock", "config.lock")


def _lock_files(git_dir: Path) -> list[Path]:
    """Lock files git may leave when killed: the fixed ones at the top, and one per ref."""
    found = [git_dir / name for name in _TOP_LOCKS if (git_dir / name).exists()]
    for folder in ("refs", "logs"):
        top = git_dir / folder
        if top.is_dir():
            found.extend(p for p in top.rglob("*.lock") if p.is_file())
    return found


def _git_processes_in(root: Path) -> list[int]:
    """Live git processes working in the repository at `root` (none found where /proc is
    not there to ask), and a background gc that git records in gc.pid."""
    pids = []
    resolved = root.resolve()
    git_dir = resolved / ".git"
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = []
    for entry in entries:
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if not os.readlink(f"/proc/{entry}/exe").rsplit("/", 1)[-1].startswith("git"):
                continue
            cwd = Path(os.readlink(f"/proc/{entry}/cwd"))
        except OSError:
            continue
        if cwd == resolved or cwd == git_dir or git_dir in cwd.parents:
            pids.append(int(entry))
    try:
        gc_pid = int((git_dir / "gc.pid").read_text().split()[0])
        os.kill(gc_pid, 0)
        pids.append(gc_pid)
    except (OSError, ValueError, IndexError):
        pass
    return pids


_REASON_PREFIXES = ("fatal:", "error:", "remote:", "ssh:", "!")


def config_env(settings: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """The GIT_CONFIG_COUNT/KEY/VALUE variables that give git `settings` for one command
    (after any the environment already gives), as `git -c` would but without the value
    on a command line that `ps` shows."""
    given = (os.environ if environ is None else environ).get("GIT_CONFIG_COUNT", "0")
    try:
        start = int(given or 0)
    except ValueError:
        start = 0
    env = {"GIT_CONFIG_COUNT": str(start + len(settings))}
    for i, (key, value) in enumerate(settings.items(), start):
        env[f"GIT_CONFIG_KEY_{i}"], env[f"GIT_CONFIG_VALUE_{i}"] = key, value
    return env


def git_reason(done: subprocess.CompletedProcess[bytes], limit: int = 20) -> str:
    """git's own explanation of a failure: its fatal:, error:, remote: (what the remote's
    hooks said) and ! [rejected] lines, each indented, at most `limit` of them; all of its
    lines when none has such a prefix."""
    lines = [line.rstrip() for line in (done.stderr or b"").decode("utf-8", "replace").splitlines()
             if line.strip()]
    chosen = [line for line in lines if line.lstrip().startswith(_REASON_PREFIXES)] or lines
    if not chosen:
        return f"  git exited with status {done.returncode} and said nothing"
    if len(chosen) > limit:
        chosen = chosen[:limit] + [f"(and {len(chosen) - limit} more lines)"]
    return "\n".join(f"  {line.strip()}" for line in chosen)
