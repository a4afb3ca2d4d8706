"""Atomic file writes: a crash never leaves a half-written file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_PREFIX = ".newsmirror-tmp-"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


# mkstemp creates files readable by their owner only; archive files are ordinary files.
FILE_MODE = 0o666 & ~_umask()


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` through a temporary file in the same folder and a rename.

    Returns False (and writes nothing) when the file already holds exactly these bytes.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def remove_stray_temp_files(root: Path) -> int:
    """Delete temporary files a killed run left behind; returns how many."""
    removed = 0
    for stray in root.rglob(f"{TEMP_PREFIX}*"):
        if ".git" in stray.relative_to(root).parts:
            continue
        stray.unlink(missing_ok=True)
        removed += 1
    return removed
