"""The archive folder as a whole: its git repository, run lock, catalog and health file.

Opening it makes it consistent again after whatever happened to the last run: a stale git
lock is removed, the catalog is brought in step with the commits (rebuilt in full after a
fresh clone) and, when the last writer did not end cleanly, stray temporary files are
removed and uncommitted article files re-read. A marker file tells the two apart so that an
ordinary hour does not walk the whole archive: every command that writes into the archive
sets it, and only a mirror run that has committed everything clears it.
"""

from __future__ import annotations

import fcntl
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from newsmirror.archive.paths import ARTICLES_DIR, CACHE_DIR, CATALOG_FILE, HEALTH_FILE, SHARDS_DIR
from newsmirror import __version__
from newsmirror.archive.catalog import Catalog
from newsmirror.archive.files import remove_stray_temp_files, write_atomic
from newsmirror.errors import ARCHIVE, NewsmirrorError
from newsmirror.archive.git import GitError, Repo
from newsmirror.models import ArchivedEntry

GITIGNORE = f"/{CACHE_DIR}/\n"
RUNNING = "run-in-progress"


def commit_message(subject: str, details: Sequence[str] = ()) -> str:
    """A commit message of the archive: its subject, the details one per line after a
    blank line, and the newsmirror version that wrote it (every command's commits alike)."""
    body = "\n\n" + "\n".join(details) if details else ""
    return f"{subject}{body}\n\nnewsmirror {__version__}\n"


class ArchiveBusyError(NewsmirrorError, RuntimeError):
    """Another newsmirror process is working on this archive."""

    exit_code = ARCHIVE


@dataclass
class Store:
    root: Path
    repo: Repo
    catalog: Catalog
    repaired: list[str]
    """What opening had to repair, in words (empty on a clean start)."""
    clean_start: bool = True
    """False when the last writer did not end cleanly (or was not a mirror run): files it
    wrote may still be uncommitted, and derived pages may be stale."""
    stale: set[str] | None = field(default_factory=set)
    """Sources whose articles changed outside this run (pulled commits, re-read files), so
    their lists and feeds need regenerating; None when that may be every source."""
    lost: set[str] = field(default_factory=set)
    """Sources with articles the cached catalog knew and this checkout does not have: the
    commits that held them never reached the remote (a push that failed on a runner that
    is gone). Their conditional-request validators must go, or a 304 would keep those
    articles from ever coming back."""

    @property
    def cache(self) -> Path:
        return self.root / CACHE_DIR

    @property
    def health_path(self) -> Path:
        return self.root / HEALTH_FILE

    def shard_root(self, shard: str) -> Path:
        """The clone of a shard repository ('' is the archive's own)."""
        return self.root / SHARDS_DIR / shard if shard else self.root

    def file(self, entry: ArchivedEntry) -> Path:
        """Where the file of a catalog entry is, in whichever repository holds it."""
        return self.shard_root(entry.shard) / entry.path

    def write(self, relpath: str, data: bytes, *, new: bool = False, shard: str = "") -> bool:
        """`write_atomic` of a file the next commit takes; `new=True` when the catalog says
        nothing is at `relpath`; `shard`: into that shard's repository rather than the
        archive's own. The archive's own files have their bytes handed to git ahead of the
        commit (Repo.pack); a shard's hour writes too little for that to pay."""
        if not write_atomic(os.path.join(self.shard_root(shard), relpath), data, new=new):
            return False
        if not shard:
            self.repo.pack(data)
        return True

    def commit(self, paths: list[str], message: str) -> str | None:
        """Commit `paths` (see Repo.commit) and record the new commit in the catalog as the
        one its entries agree with, so that the next opening compares from there; the
        commit, None when nothing changed. Every command commits through this."""
        return commit_into(self.repo, self.catalog, paths, message)

    def mark_clean(self) -> None:
        """Everything written is committed: the next start needs no repair."""
        (self.cache / RUNNING).unlink(missing_ok=True)

    def resync(self) -> set[str] | None:
        """Take in commits that arrived (a push that rebased); returns the sources whose
        articles changed, None for all."""
        sync = sync_catalog(self.root, self.repo, self.catalog, check_uncommitted=False)
        return sync.slugs


def commit_into(repo: Repo, catalog: Catalog, paths: list[str], message: str, shard: str = "") -> str | None:
    """Commit `paths` into `repo` (the archive's, or the shard `shard`'s) and record the
    commit in the catalog as the one its entries of that repository agree with."""
    commit = repo.commit(paths, message)
    if commit:
        catalog.set_meta(head_meta(shard), commit)
    return commit


@contextmanager
def archive_lock(root: Path) -> Iterator[None]:
    """Hold the archive's lock for one command: every command that writes into the
    archive takes it, so two never write (or run git) in it at once; a second one fails
    with ArchiveBusyError at once instead of waiting."""
    cache = root / CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveBusyError(f"{root}: another newsmirror run holds the archive") from None
        yield


@contextmanager
def open_store(root: Path, *, branch: str = "main", remote: tuple[str, str] | None = None,
               writes: bool = True, folders: Mapping[str, str] | None = None) -> Iterator[Store]:
    """Open (creating when needed) the archive at `root` for one command, holding its lock.
    `writes=False` for commands that only read it (the site). `folders`: old article
    folders that belong to a source of another slug (Config.folders)."""
    repo = Repo(root)
    cache = root / CACHE_DIR
    with archive_lock(root):
        # Only with the lock held: two first runs would otherwise race in `git init` and
        # `git remote add`.
        repo.ensure(branch)
        if remote:
            repo.set_remote(*remote)
        marker = cache / RUNNING
        clean_start = not marker.exists()
        if writes:
            marker.touch()
        repaired = repair(repo, clean_start)
        write_atomic(root / ".gitignore", _gitignore(root))
        catalog = Catalog(root / CATALOG_FILE, folders)
        try:
            sync = sync_catalog(root, repo, catalog, check_uncommitted=not clean_start)
            repaired.extend(sync.notes)
            yield Store(root=root, repo=repo, catalog=catalog, repaired=repaired,
                        clean_start=clean_start, stale=None if not clean_start else sync.slugs,
                        lost=sync.lost)
        finally:
            catalog.close()
            repo.finish_pack()


def repair(repo: Repo, clean_start: bool) -> list[str]:
    """Undo what a killed run left in the repository (the archive's, or a shard's): stale
    git locks, an interrupted rebase and, after an unclean start, unfinished temporary
    files. Returns what was done, in words."""
    repaired: list[str] = []
    if locks := repo.clear_stale_locks():
        repaired.append(f"removed stale git lock(s) a killed git left: {', '.join(locks)}")
    if (repo.root / ".git" / "rebase-merge").exists() or (repo.root / ".git" / "rebase-apply").exists():
        repo.git("rebase", "--abort", check=False)
        repaired.append("aborted an interrupted rebase")
    if not clean_start and (strays := remove_stray_temp_files(repo.root)):
        repaired.append(f"removed {strays} unfinished temporary file(s)")
    return repaired


def head_meta(shard: str = "") -> str:
    """The catalog's name for the commit of a repository its entries agree with."""
    return f"head:{shard}" if shard else "head"


def _gitignore(root: Path) -> bytes:
    try:
        current = (root / ".gitignore").read_bytes()
    except FileNotFoundError:
        return GITIGNORE.encode()
    if GITIGNORE.strip().encode() in current.splitlines():
        return current
    return current.rstrip(b"\n") + b"\n" + GITIGNORE.encode() if current.strip() else GITIGNORE.encode()


@dataclass
class Sync:
    notes: list[str]
    slugs: set[str] | None
    """Sources whose article files were (re)read; None after a full rebuild."""
    lost: set[str] = field(default_factory=set)
    """Sources with catalogued articles that the checkout lacks (see Store.lost)."""


def sync_catalog(root: Path, repo: Repo, catalog: Catalog, *, check_uncommitted: bool = True,
                 shard: str = "") -> Sync:
    """Make the catalog agree with the article files: reindex what changed since the commit
    it last saw and (when asked) whatever is uncommitted; rebuild in full when it knows
    nothing. `shard`: the repository at `root` is that shard's (only its entries change)."""
    sync = Sync(notes=[], slugs=set())
    head = repo.head()
    seen = catalog.get_meta(head_meta(shard))
    catalog.begin()
    # Without any commit yet there is nothing to compare with; such an archive is small.
    changed = [] if head and seen == head else _changed_between(repo, seen, head)
    known: dict[str, tuple[str, str]] = {}
    if seen and seen != head and (not head or not repo.has_commit(seen)):
        # The commit the catalog last saw does not exist here: this is a fresh clone with
        # the cache of a run whose commits never reached the remote (a shard's remote may
        # have no commit at all yet). Read everything again and see what the catalog had
        # that is gone. (A commit that exists but was rebased away, as a push that found
        # the remote moved on does, compares as usual.)
        changed = None
        known = {e.path: (e.slug, e.digest) for e in catalog.entries() if e.shard == shard}
    if seen is None or changed is None:
        count = catalog.rebuild(root, shard)
        if known:
            now = {e.path: (e.slug, e.digest) for e in catalog.entries() if e.shard == shard}
            sync.lost = {slug for path, (slug, digest) in known.items()
                         if now.get(path) != (slug, digest)}
        sync.slugs = None
        if count:
            sync.notes.append(f"rebuilt the catalog from {count} article files")
    else:
        catalog.reindex(root, changed, shard)
        sync.slugs = _slugs(catalog, changed)
    if (seen is None or check_uncommitted) and (dirty := repo.dirty(ARTICLES_DIR)):
        catalog.reindex(root, dirty, shard)
        if sync.slugs is not None:
            sync.slugs.update(_slugs(catalog, dirty))
        sync.notes.append(f"re-read {len(dirty)} uncommitted article file(s)")
    catalog.set_meta(head_meta(shard), head or "")
    catalog.commit()
    return sync


def _slugs(catalog: Catalog, relpaths: list[str]) -> set[str]:
    return {where.slug for where in map(catalog.locate, relpaths) if where is not None}


def _changed_between(repo: Repo, old: str | None, new: str | None) -> list[str] | None:
    """Article paths changed between two commits; None when they cannot be compared."""
    if not old or not new:
        return None
    try:
        return repo.changed_between(old, new, ARTICLES_DIR)
    except GitError:
        pass
    # A shallow clone (the workflow's checkout) lacks the commit the catalog last saw when
    # the remote moved on since: fetch that one commit (a diff needs no history), rather
    # than rebuild the catalog from every file.
    if not repo.is_shallow() or not re.fullmatch(r"[0-9a-f]{40,64}", old):
        return None
    for remote in repo.out("remote").split():
        if repo.git("fetch", "-q", "--no-tags", "--depth=1", remote, old, check=False,
                    timeout=300).returncode == 0:
            try:
                return repo.changed_between(old, new, ARTICLES_DIR)
            except GitError:
                return None
    return None

