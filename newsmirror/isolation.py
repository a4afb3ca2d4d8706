"""One bad item costs at most that item: what the per-item guards of a run, a request
and a watch record when one item fails, and which errors are not the item's at all.

A failure that belongs to the machine (a full disk, a read-only or failing file system,
the catalog database) is never recorded against an item: it would fail every item after
it too, so it stops the command, which says so and loses nothing.
"""

from __future__ import annotations

import errno
import sqlite3
import traceback

from newsmirror.models import ItemFailure

_MACHINE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG})
BUG = "internal error (a bug in newsmirror; please report it)"


def disk_full(err: BaseException) -> bool:
    """Whether `err` says that the disk (or the user's quota, or the file-size limit) is
    full, from the file system or from SQLite."""
    if isinstance(err, OSError):
        return err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
    if isinstance(err, sqlite3.Error):
        return getattr(err, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or \
            "database or disk is full" in str(err)
    return False


def disk_full_message(err: BaseException) -> str:
    """One line that says the disk is full, what could not be written and that nothing
    is lost."""
    filename = getattr(err, "filename", None)
    what = f"cannot write {filename}" if filename else (
        "cannot write the catalog" if isinstance(err, sqlite3.Error) else "cannot write")
    cause = getattr(err, "strerror", None) or str(err)
    return (f"disk full: {what} ({cause}). Nothing archived is lost: files written so far "
            "are kept, and the next run, once there is space, takes them in and finishes")


def machine_error(err: BaseException) -> bool:
    """Whether `err` is the machine's, not one item's: it must stop the command."""
    if isinstance(err, OSError):
        return err.errno in _MACHINE_ERRNOS
    return isinstance(err, (sqlite3.Error, MemoryError))


def item_failure(item: str, step: str, err: Exception) -> ItemFailure:
    """What to record when `step` failed for `item` with `err` (not a machine error)."""
    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        return ItemFailure(item, step, f"cannot write {where}{err.strerror or err}")
    return ItemFailure(item, step, f"{BUG}: {type(err).__name__}: {err}", bug=True,
                       traceback="".join(traceback.format_exception(err)))


def item_name(link: str | None, title: str | None) -> str:
    """How a failure names an item: its link when it has one, else its title."""
    name = link or (repr(title[:80]) if title else "an item without link or title")
    return name[:300]
