"""The archive folder as a whole: its git repository, run lock, catalog and health file.

Opening it makes it consistent again after whatever happened to the last run: a stale git
lock is removed, the catalog is brought in step with the commits (rebuilt in full after a
fresh clone) and, when the last run did not end cleanly, stray temporary files are removed
and uncommitted article files re-read. A marker file, present while a run works and
removed when it ends, tells a clean end from a killed process, so an ordinary hour does not
walk the whole archive.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from newsmirror.archive.catalog import Catalog
from newsmirror.archive.files import remove_stray_temp_files, write_atomic
from newsmirror.publish.git import GitError, Repo

STATE_DIR = ".newsmirror"
CACHE_DIR = f"{STATE_DIR}/cache"
HEALTH_FILE = f"{STATE_DIR}/health.json"
GITIGNORE = f"/{CACHE_DIR}/\n"
RUNNING = "run-in-progress"


class ArchiveBusyError(RuntimeError):
    """Another newsmirror process is working on this archive."""


@dataclass
class Store:
    root: Path
    repo: Repo
    catalog: Catalog
    repaired: list[str]
    """What opening had to repair, in words (empty on a clean start)."""
    clean_start: bool = True
    """False when the last run did not end cleanly: files it wrote may still be uncommitted."""

    @property
    def cache(self) -> Path:
        return self.root / CACHE_DIR

    @property
    def health_path(self) -> Path:
        return self.root / HEALTH_FILE

    def write(self, relpath: str, data: bytes) -> bool:
        return write_atomic(self.root / relpath, data)


@contextmanager
def open_store(root: Path, *, branch: str = "main", remote: tuple[str, str] | None = None) -> Iterator[Store]:
    """Open (creating when needed) the archive at `root` for one run, holding its lock."""
    repo = Repo(root)
    repo.ensure(branch)
    if remote:
        repo.set_remote(*remote)
    cache = root / CACHE_DIR
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / "lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveBusyError(f"{root}: another newsmirror run holds the archive") from None
        marker = cache / RUNNING
        clean_start = not marker.exists()
        marker.touch()
        repaired: list[str] = []
        if repo.clear_stale_lock():
            repaired.append("removed a stale git index.lock")
        if (root / ".git" / "rebase-merge").exists() or (root / ".git" / "rebase-apply").exists():
            repo.git("rebase", "--abort", check=False)
            repaired.append("aborted an interrupted rebase")
        if not clean_start and (strays := remove_stray_temp_files(root)):
            repaired.append(f"removed {strays} unfinished temporary file(s)")
        write_atomic(root / ".gitignore", _gitignore(root))
        catalog = Catalog(cache / "catalog.sqlite")
        try:
            repaired.extend(sync_catalog(root, repo, catalog, check_uncommitted=not clean_start))
            yield Store(root=root, repo=repo, catalog=catalog, repaired=repaired,
                        clean_start=clean_start)
        finally:
            catalog.close()
        # Reached only when the work ended without an exception.
        marker.unlink(missing_ok=True)


def _gitignore(root: Path) -> bytes:
    try:
        current = (root / ".gitignore").read_bytes()
    except FileNotFoundError:
        return GITIGNORE.encode()
    if GITIGNORE.strip().encode() in current.splitlines():
        return current
    return current.rstrip(b"\n") + b"\n" + GITIGNORE.encode() if current.strip() else GITIGNORE.encode()


def sync_catalog(root: Path, repo: Repo, catalog: Catalog, *, check_uncommitted: bool = True) -> list[str]:
    """Make the catalog agree with the article files: reindex what changed since the commit
    it last saw and (when asked) whatever is uncommitted; rebuild in full when it knows
    nothing."""
    notes: list[str] = []
    head = repo.head()
    seen = catalog.get_meta("head")
    catalog.begin()
    if seen is None or (seen != head and not _reindex_between(root, repo, catalog, seen, head)):
        count = catalog.rebuild(root)
        if count:
            notes.append(f"rebuilt the catalog from {count} article files")
    if (seen is None or check_uncommitted) and (dirty := repo.dirty("articles")):
        catalog.reindex(root, dirty)
        notes.append(f"re-read {len(dirty)} uncommitted article file(s)")
    catalog.set_meta("head", head or "")
    catalog.commit()
    return notes


def _reindex_between(root: Path, repo: Repo, catalog: Catalog, old: str, new: str | None) -> bool:
    if not old or not new:
        return False
    try:
        catalog.reindex(root, repo.changed_between(old, new, "articles"))
    except GitError:
        return False
    return True

