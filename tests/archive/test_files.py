"""write_atomic: the read-back that spares a rewrite, and `new=True` that skips it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from newsmirror.archive.files import TEMP_PREFIX, write_atomic


def _temps(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(TEMP_PREFIX)]


def test_the_same_bytes_are_not_written_again(tmp_path: Path):
    path = tmp_path / "a" / "x.md"
    assert write_atomic(path, b"one\n") is True
    inode = path.stat().st_ino
    assert write_atomic(path, b"one\n") is False
    assert path.stat().st_ino == inode  # not replaced
    assert write_atomic(path, b"two\n") is True
    assert path.read_bytes() == b"two\n"
    assert _temps(path.parent) == []


def test_new_skips_the_read_back_and_replaces_whatever_is_there(tmp_path: Path):
    path = tmp_path / "b" / "x.md"
    assert write_atomic(path, b"article\n", new=True) is True  # creates the folder too
    inode = path.stat().st_ino
    # A file a killed run left at a path the catalog does not know: replaced whole by a
    # rename (a new inode), even when it holds the same bytes.
    assert write_atomic(path, b"article\n", new=True) is True
    assert path.stat().st_ino != inode
    path.write_bytes(b"torn half of an artic")
    assert write_atomic(path, b"article\n", new=True) is True
    assert path.read_bytes() == b"article\n"
    assert _temps(path.parent) == []


def test_a_failed_rename_leaves_no_temporary_file_and_says_which_path(tmp_path: Path):
    target = tmp_path / "c" / "x.md"
    target.mkdir(parents=True)
    (target / "inside").write_text("keep")
    with pytest.raises(OSError) as raised:
        write_atomic(target, b"data", new=True)
    assert str(target) in str(raised.value)
    assert _temps(target.parent) == []
    assert (target / "inside").read_text() == "keep"
