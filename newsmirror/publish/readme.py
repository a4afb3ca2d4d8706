"""Where the archive's index goes in README.md, so that an operator's own README survives.

A README that newsmirror wrote (its index, or the welcome page of `newsmirror init`) is
newsmirror's to rewrite. Any other README is the operator's: an older mirror's, or one
written by hand. newsmirror then adds its index once at the end, between two marker lines,
and from then on rewrites only what is between them; the operator may move the two lines
(with what is between) anywhere in the file, e.g. in place of an old, hand-kept table of
sources. Not a byte outside them is changed. Whose a README is follows from its content
or, when that does not tell (a README of newsmirror's damaged by hand), from the one last
committed.
"""

from __future__ import annotations

BEGIN = (b"<!-- newsmirror index: everything down to the closing marker is rewritten by "
         b"newsmirror; edit the rest freely -->")
END = b"<!-- end of newsmirror index -->"
_OWN = (b"| Source | Articles | Latest article (UTC+8) |",   # the index newsmirror writes
        b"`newsmirror run` then replaces this README")      # the welcome page of init


def newsmirrors(readme: bytes) -> bool:
    """Whether newsmirror wrote this README as a whole (no markers, one of its pages)."""
    return BEGIN not in readme and any(mark in readme for mark in _OWN)


def unclaimed(current: bytes | None) -> bool:
    """Whether the README's content alone does not tell (so the committed one decides)."""
    return current is not None and bool(current.strip()) and BEGIN not in current \
        and not newsmirrors(current)


def place_index(current: bytes | None, index: bytes, *, committed: bytes | None = None) -> bytes:
    """The README to write: `index` as the whole file, or in the operator's README.
    `committed`: the README of the last commit, which decides whose a README is when its
    content does not (a README of newsmirror's damaged by hand is still newsmirror's)."""
    if current is None or not current.strip():
        return index
    start = current.find(BEGIN)
    end = current.find(END, start + len(BEGIN)) if start >= 0 else -1
    if start >= 0 and end >= 0:
        return current[: start + len(BEGIN)] + b"\n" + index + current[end:]
    if newsmirrors(current) or (committed is not None and newsmirrors(committed)):
        return index
    return current.rstrip(b"\n") + b"\n\n" + BEGIN + b"\n" + index + END + b"\n"
