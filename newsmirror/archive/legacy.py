"""The layouts of the archives newsmirror continues, recognised where they are.

Mirrors that came before newsmirror wrote the same four-part article files (FORMAT.md)
under other names. newsmirror takes them in as they are, never renaming, moving or
rewriting one unless the operator asks:

``numbered``
    ``articles/<abbr>/<id>.md``: the later scheme. Ids count down from 0xFFFFF, so a
    newer article has a smaller id, and six-digit ids (``999999``) sit among seven-digit
    ones; the order of the names says nothing about the order of the articles (the
    ``<!--ms-->`` stamp does).
``titled``
    ``articles/<站名>/<id>_<title>.md``: the earlier scheme, the folder named after the
    station and the title in the name with ``/`` written as ``--``.
``newsmirror``
    ``articles/<slug>/<YYYY>/<MM>/<title>-<hash>.md``: newsmirror's own.

A source's articles may sit in any of them at once: its own folder ``articles/<slug>/``
and, with ``folder = "…"`` in its configuration, an old folder of another name. The
identity of an old file is what it holds (its link, line 2); its catalog key is derived
from its path, so that two old files that hold the same link both stay known.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from newsmirror.archive.paths import ARTICLES_DIR, NAME_RE
from newsmirror.content.text import page_text
from newsmirror.archive.article import ArticleFormatError, parse_article
from newsmirror.archive.identity import normalise_link

NEWSMIRROR = "newsmirror"
NUMBERED = "numbered"
TITLED = "titled"
LAYOUTS = (NEWSMIRROR, NUMBERED, TITLED)
LAYOUT_NAMES = {
    NEWSMIRROR: "articles/<slug>/<YYYY>/<MM>/<title>-<hash>.md (newsmirror)",
    NUMBERED: "articles/<abbr>/<id>.md (the later old layout)",
    TITLED: "articles/<站名>/<id>_<title>.md (the earlier old layout)",
}
_NUMBERED = re.compile(r"(\d+)\.md\Z")
_TITLED = re.compile(r"(\d+)_(.+)\.md\Z", re.DOTALL)
_YEAR, _MONTH = re.compile(r"\d{4}\Z"), re.compile(r"\d{2}\Z")


@dataclass(frozen=True)
class Located:
    """What an article file's path says of it."""

    layout: str
    folder: str
    """The folder under articles/ that holds it."""
    slug: str
    """The source it belongs to: the folder, or the source that names it with `folder`."""
    key: str
    """Its catalog key: the hash in the name (newsmirror), else one derived from the path."""
    old_id: int | None = None
    """The number an old layout gave it."""


def legacy_key(relpath: str) -> str:
    """The catalog key of an old file: stable for its path, shaped like newsmirror's own."""
    return hashlib.sha256(f"legacy\n{relpath}".encode()).hexdigest()[:12]


def locate(relpath: str, folders: Mapping[str, str] | None = None) -> Located | None:
    """The layout, source and key of an archive-relative path; None when it is not an
    article file of any known layout."""
    folder, _, name = relpath.rpartition("/")
    return folder_locator(folder, folders)(name)


def _nothing(_name: str) -> None:
    return None


def folder_locator(folder: str, folders: Mapping[str, str] | None = None
                   ) -> Callable[[str], Located | None]:
    """locate() for the files right inside `folder` (archive-relative), given a file's
    name: what the folder's own path says is worked out once, so that a walk of the
    archive pays for each file's name only."""
    parts = folder.split("/")
    if len(parts) not in (2, 4) or parts[0] != ARTICLES_DIR or not parts[1]:
        return _nothing
    top = parts[1]
    slug = (folders or {}).get(top, top)
    if len(parts) == 4:
        if not (_YEAR.match(parts[2]) and _MONTH.match(parts[3])):
            return _nothing

        def own(name: str) -> Located | None:
            match = NAME_RE.search(name)  # which also asks for the .md
            return Located(NEWSMIRROR, top, slug, match.group(1)) if match else None
        return own

    def old(name: str) -> Located | None:
        if match := _NUMBERED.match(name):
            return Located(NUMBERED, top, slug, legacy_key(f"{folder}/{name}"), int(match.group(1)))
        if match := _TITLED.match(name):
            return Located(TITLED, top, slug, legacy_key(f"{folder}/{name}"), int(match.group(1)))
        return None
    return old


def is_legacy(relpath: str) -> bool:
    found = locate(relpath)
    return found is not None and found.layout != NEWSMIRROR


def encode_folders(folders: Mapping[str, str]) -> str:
    """The folder map as the catalog remembers it (a change means reading the files again)."""
    return json.dumps(dict(sorted(folders.items())), ensure_ascii=False)


def walk_articles(root: Path) -> Iterator[str]:
    """Every file under articles/, as an archive-relative path, in a stable order."""
    for folder, names in walk_folders(root):
        for name in names:
            yield f"{folder}/{name}"


def walk_folders(root: Path) -> Iterator[tuple[str, list[str]]]:
    """Every folder under articles/ (archive-relative) with the names of the files right
    in it, sorted, in walk_articles' order."""
    top = root / ARTICLES_DIR
    if not top.is_dir():
        return
    for dirpath, dirs, files in os.walk(top):
        dirs.sort()
        yield Path(dirpath).relative_to(root).as_posix(), sorted(files)


def same_as_old_file(root: Path, relpath: str, data: bytes) -> bool:
    """Whether the old-layout file at `relpath` already holds the article `data` renders,
    as an older mirror wrote it: the same title, link and text (white space aside), where
    only the markup may differ (image addresses, attributes, cleaning). Such a file is kept
    as it is; an article whose title, link or text changed is an edit, written over it.
    A file in newsmirror's own layout is kept only when it differs from `data` in how
    line 2 spells the same title and link: an older newsmirror wrote every title raw, as
    the old mirrors did. Used only while the feed item it was written from is unknown
    (first sight, or a catalog rebuilt from the files); from then on the item's own
    changes decide."""
    try:
        held = (root / relpath).read_bytes()
        old = parse_article(held, name=relpath)
        new = parse_article(data)
    except (OSError, ArticleFormatError):
        return False
    if not is_legacy(relpath):
        old_lines, new_lines = held.split(b"\n"), data.split(b"\n")
        return (old.title == new.title and old.link == new.link
                and old_lines[:1] + old_lines[2:] == new_lines[:1] + new_lines[2:])

    return (old.title == new.title and (normalise_link(old.link) or old.link) == new.link
            and page_text(old.body) == page_text(new.body))
