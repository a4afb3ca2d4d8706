"""Per-source list pages and the archive's README, rendered from catalog entries.

Both are pure functions of what is archived, never of the clock, so an hour with no news
leaves them byte for byte unchanged and makes no commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from newsmirror.archive.paths import china_time
from newsmirror.models import ArchivedEntry


@dataclass(frozen=True)
class ListedSource:
    slug: str
    name: str
    articles: int
    newest_ms: int | None


def link_target(path: str) -> str:
    """An archive path as a root-relative Markdown link target (safe for any file name)."""
    return "/" + quote(path, safe="/-_.~!$&'*+,;=:@") if any(c in path for c in " ()<>") else "/" + path


def escape_text(title: str) -> str:
    """Markdown link text: brackets and backslashes escaped so a title cannot break the link."""
    return title.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def render_list(name: str, entries: Sequence[ArchivedEntry]) -> bytes:
    """The list page of one source: newest first, `M-D [title](/path)` in China time."""
    lines = [name, "------", ""]
    for entry in entries:
        when = china_time(entry.published_ms)
        lines.append(f"{when.month}-{when.day} [{escape_text(entry.title)}]({link_target(entry.path)})")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


def render_index(title: str, sources: Sequence[ListedSource], *, extra: Sequence[str] = ()) -> bytes:
    """The archive README: every source's list with its article count and newest article."""
    total = sum(s.articles for s in sources)
    lines = [
        f"# {title}",
        "",
        f"{total} articles from {len(sources)} sources, mirrored by newsmirror. "
        "Each source's list shows its latest articles, newest first (dates in UTC+8).",
        "",
        "| Source | Articles | Latest article (UTC+8) |",
        "| --- | ---: | --- |",
    ]
    for source in sources:
        newest = f"{china_time(source.newest_ms):%Y-%m-%d %H:%M}" if source.newest_ms else "—"
        lines.append(f"| [{escape_text(source.name)}](lists/{source.slug}.md) | {source.articles} | {newest} |")
    lines.append("")
    lines.extend(extra)
    if extra:
        lines.append("")
    return "\n".join(lines).encode("utf-8")
