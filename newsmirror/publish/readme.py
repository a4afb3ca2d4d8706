"""Where the archive's index goes in README.md, so that an operator's own README survives.

A README that newsmirror wrote (its index, or the welcome page of `newsmirror init`) is
newsmirror's to rewrite. Any other README is the operator's: an older mirror's, or one
written by hand. newsmirror then adds its index once at the end, between two marker lines,
and from then on rewrites only what is between them; the operator may move the two lines
(with what is between) anywhere in the file, e.g. in place of an old, hand-kept table of
sources. Not a byte outside them is changed.
"""

from __future__ import annotations

BEGIN = (b"<!-- newsmirror index: everything down to the closing marker is rewritten by "
         b"newsmirror; edit the rest freely -->")
END = b"<!-- end of newsmirror index -->"
_OWN = (b"| Source | Articles | Latest article (UTC+8) |",   # the index newsmirror writes
        b"`newsmirror run` then replaces this README")      # the welcome page of init


def place_index(current: bytes | None, index: bytes) -> bytes:
    """The README to write: `index` as the whole file, or in the operator's README."""
    if current is None or not current.strip():
        return index
    start = current.find(BEGIN)
    end = current.find(END, start + len(BEGIN)) if start >= 0 else -1
    if start >= 0 and end >= 0:
        return current[: start + len(BEGIN)] + b"\n" + index + current[end:]
    if BEGIN not in current and any(mark in current for mark in _OWN):
        return index
    return current.rstrip(b"\n") + b"\n\n" + BEGIN + b"\n" + index + END + b"\n"
