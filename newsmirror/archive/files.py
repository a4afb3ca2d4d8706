"""Atomic file writes: a crash never leaves a half-written file behind."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

TEMP_PREFIX = ".newsmirror-tmp-"
BAD_SUFFIX = ".bad"
"""A state file that could not be read whole is copied beside itself with this suffix."""


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# Archive files are ordinary files, readable by all as the umask allows.
FILE_MODE = 0o666 & ~_umask()


_counter = itertools.count()


def write_atomic(path: str | os.PathLike[str], data: bytes, *, new: bool = False) -> bool:
    """Write `data` to `path` through a temporary file in the same folder and a rename, so
    a killed process leaves either the old file or the new one, never a torn one.

    Returns False (and writes nothing) when the file already holds exactly these bytes.
    No fsync per file: a process kill cannot lose written data, and what a power cut could
    lose is found by the next run (the file no longer matches its catalog entry or git)
    and written again.

    `new=True` says the caller knows of no file at `path` (the catalog has no entry for
    it): the read-back is skipped and the bytes are written, still through the temporary
    file and the rename, so a file a killed run left there is replaced whole, and True is
    returned even if it held these bytes already.

    A cold run writes thousands of files through here, so it works on the path as a
    string and writes through the descriptor itself: no Path objects, and no file object
    (whose opening asks the kernel twice more about the descriptor) per file.
    """
    target = os.fspath(path)
    if not new:
        try:
            with open(target, "rb") as handle:
                if handle.read() == data:
                    return False
        except FileNotFoundError:
            pass
    folder = os.path.dirname(target)
    tmp = os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{next(_counter)}")
    try:
        fd = os.open(tmp, _CREATE, FILE_MODE)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, _CREATE, FILE_MODE)
    try:
        try:
            view, done = memoryview(data), 0
            while done < len(view):
                done += os.write(fd, view[done:])
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError as err:
        _unlink(tmp)
        if err.filename is None:  # a write to an open file names none: say which one
            raise OSError(err.errno, err.strerror, target) from err
        raise
    except BaseException:
        _unlink(tmp)
        raise
    return True


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def remove_stray_temp_files(root: Path) -> int:
    """Delete temporary files a killed run left behind; returns how many. The .git folder
    is not walked (git may be packing it in the background)."""
    removed = 0
    for folder, dirs, files in os.walk(root):
        if folder == str(root) and ".git" in dirs:
            dirs.remove(".git")
        for name in files:
            if name.startswith(TEMP_PREFIX):
                Path(folder, name).unlink(missing_ok=True)
                removed += 1
    return removed


def keep_bad_copy(path: Path) -> str:
    """Copy a state file that could not be read whole (a bad merge, a hand edit, a newer
    version) to `<name>.bad` beside it, so what it held survives the next write of the
    file. Returns what to add to the warning: where the copy is, or why there is none."""
    bad = path.with_name(path.name + BAD_SUFFIX)
    try:
        write_atomic(bad, path.read_bytes())
    except OSError as err:
        return f"no copy of it could be kept: {err.strerror or err}"
    return f"the file as it was is kept as {bad}"


_READ_CHUNK = 1 << 16


def read_in(folder_fd: int, name: str) -> bytes:
    """The bytes of the file `name` in the folder open as `folder_fd` (os.open with
    O_DIRECTORY). For a walk that reads every file: opening by name relative to an open
    folder spares the kernel the whole path, and a bare descriptor spares Python a file
    object, which together cost more than reading a small file."""
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=folder_fd)
    try:
        data = os.read(fd, _READ_CHUNK)
        if len(data) < _READ_CHUNK:
            # A regular file reads short only at its end: no second read to see it.
            return data
        chunks = [data]
        while chunk := os.read(fd, _READ_CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
