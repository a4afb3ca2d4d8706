"""What an archive holds before newsmirror continues it: `newsmirror adopt`.

A survey reads every file under articles/ once (nothing is written): how many files of
each layout (archive/legacy.py), per folder and per configured source, the files it could
not read and why, and the links held by more than one file. From it come the
`[[sources]]` entries for folders no source covers yet, appended to the configuration as
text, so that the operator's comments and layout stay as they were.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from newsmirror.archive.catalog import read_entry
from newsmirror.archive.identity import normalise_link
from newsmirror.archive.legacy import LAYOUTS, locate, walk_articles
from newsmirror.archive.paths import LISTS_DIR, SLUG_RE, china_time, source_list_path

_LIST_LINK = re.compile(r"\]\(/?articles/([^/)]+)/")
MARK = "# newsmirror adopt: articles/"
"""Starts the comment above each entry `adopt --write-config` writes (and finds again)."""


@dataclass
class Folder:
    """One folder under articles/."""

    name: str
    slug: str
    """The source its files are cataloged under (the folder's name unless a source names
    the folder with `folder`)."""
    files: int = 0
    layouts: Counter = field(default_factory=Counter)
    oldest_ms: int | None = None
    newest_ms: int | None = None
    list_page: str | None = None
    """An old list page whose links lead into this folder."""
    list_heading: str | None = None

    def add(self, layout: str, published_ms: int) -> None:
        self.files += 1
        self.layouts[layout] += 1
        self.oldest_ms = published_ms if self.oldest_ms is None else min(self.oldest_ms, published_ms)
        self.newest_ms = published_ms if self.newest_ms is None else max(self.newest_ms, published_ms)


@dataclass
class Survey:
    files: int = 0
    """Article files read."""
    layouts: Counter = field(default_factory=Counter)
    folders: dict[str, Folder] = field(default_factory=dict)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    """(path, why) of files under articles/ that are not article files newsmirror can use."""
    shared: list[tuple[str, list[str]]] = field(default_factory=list)
    """(link, paths): links held by more than one file of one source."""


def survey(root: Path, folders: dict[str, str] | None = None) -> Survey:
    """Read every file under `root`/articles once."""
    found = Survey()
    holders: dict[tuple[str, str], list[str]] = {}
    for relpath in walk_articles(root):
        entry, problem = read_entry(root, relpath, folders)
        if entry is None:
            found.unreadable.append((relpath, problem or _not_an_article(relpath)))
            continue
        folder_name = relpath.split("/")[1]
        folder = found.folders.get(folder_name)
        if folder is None:
            folder = found.folders[folder_name] = Folder(folder_name, entry.slug)
        where = locate(relpath)
        layout = where.layout if where else "?"
        folder.add(layout, entry.published_ms)
        found.layouts[layout] += 1
        found.files += 1
        holders.setdefault((entry.slug, normalise_link(entry.link) or entry.link), []).append(relpath)
    found.shared = sorted((link, paths) for (_slug, link), paths in holders.items() if len(paths) > 1)
    _old_list_pages(root, found)
    return found


def _not_an_article(relpath: str) -> str:
    if not relpath.endswith(".md"):
        return "not a Markdown file"
    return ("its name is in none of the known layouts (articles/<abbr>/<id>.md, "
            "articles/<站名>/<id>_<title>.md, articles/<slug>/<YYYY>/<MM>/<title>-<hash>.md)")


def _old_list_pages(root: Path, found: Survey) -> None:
    """Which list page under lists/ leads into each folder (by the most of its links)."""
    lists = root / LISTS_DIR
    if not lists.is_dir():
        return
    for page in sorted(lists.glob("*.md")):
        try:
            text = page.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        targets = Counter(unquote(m.group(1)) for m in _LIST_LINK.finditer(text))
        if not targets:
            continue
        name, _count = targets.most_common(1)[0]
        folder = found.folders.get(name)
        if folder is not None and folder.list_page is None:
            folder.list_page = page.relative_to(root).as_posix()
            lines = text.split("\n", 2)
            if len(lines) >= 2 and lines[1] == "------" and lines[0].strip():
                folder.list_heading = lines[0]


def day(epoch_ms: int | None) -> str:
    return f"{china_time(epoch_ms):%Y-%m-%d}" if epoch_ms is not None else "—"


def describe_layouts(layouts: Counter) -> str:
    return ", ".join(f"{layouts[name]} {name}" for name in LAYOUTS if layouts[name])


# -- the configuration entries -------------------------------------------------------------
def _toml(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(ch if ord(ch) >= 32 else f"\\u{ord(ch):04x}" for ch in escaped) + '"'


def config_entries(found: Survey, sources: Iterable, bundled: list[dict], existing_text: str
                   ) -> list[tuple[str, str, bool]]:
    """For each folder no configured source covers: (folder, TOML text, complete). Text
    that is incomplete (no feed address known, or no slug) is written commented out, with
    what to fill in. Folders already written by an earlier `--write-config` are skipped."""
    sources = list(sources)
    covered = {s.slug for s in sources} | {s.folder for s in sources if s.folder}
    by_slug = {s["slug"]: s for s in bundled}
    by_name = {s["name"]: s for s in bundled}
    taken = {s.slug for s in sources}
    entries = []
    for name, folder in sorted(found.folders.items()):
        if name in covered or folder.slug in taken or f"{MARK}{name}/ " in existing_text:
            continue
        known = by_slug.get(name) or by_name.get(name) or (
            by_name.get(folder.list_heading) if folder.list_heading else None)
        slug = name if SLUG_RE.match(name) else (known["slug"] if known else None)
        lines = [(f"{MARK}{name}/ ({folder.files} files: {describe_layouts(folder.layouts)}; "
                  f"{day(folder.oldest_ms)} … {day(folder.newest_ms)})")]
        problems = []
        if slug is None:
            problems.append("choose a slug (a-z, 0-9, '-', '_') for this source")
        elif slug in taken:
            problems.append(f"source {slug!r} is configured already: add folder = "
                            f"{_toml(name)} to it instead")
        url = known.get("url") if known else None
        if not url:
            problems.append("fill in the feed's address (url)")
        display = (known["name"] if known else None) or folder.list_heading or name
        body = ["[[sources]]", f"slug = {_toml(slug or 'CHOOSE-A-SLUG')}", f"name = {_toml(display)}",
                f"url = {_toml(url or 'https://FEED-ADDRESS')}"]
        if slug != name:
            body.append(f"folder = {_toml(name)}")
        if folder.list_page and (slug is None or folder.list_page != source_list_path(slug)):
            body.append(f"list_path = {_toml(folder.list_page)}")
        if problems:
            lines += [f"# to use it: {'; '.join(problems)}; then remove the '# ' of the lines below"]
            lines += ["# " + line for line in body]
        else:
            lines += body
        if slug:
            taken.add(slug)
        entries.append((name, "\n".join(lines) + "\n", not problems))
    return entries
