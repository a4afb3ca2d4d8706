"""Per-source list pages and the archive's README, rendered from catalog entries.

Both are pure functions of what is archived, never of the clock, so an hour with no news
leaves them byte for byte unchanged and makes no commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from newsmirror.archive.article import normalise_title
from newsmirror.archive.mdlink import markdown_link
from newsmirror.archive.paths import source_list_path
from newsmirror.dates import china_time
from newsmirror.models import ArchivedEntry
from newsmirror.publish.links import quote_path, safe_href
from newsmirror.publish.mirrors import Copy


@dataclass(frozen=True)
class ListedSource:
    slug: str
    name: str
    articles: int
    newest_ms: int | None
    state: str | None = None
    """"dead" or "stale" when readers should be told (see STATE_LABELS); else None."""
    page: str | None = None
    """The archive path of its list page, when not lists/<slug>.md (`list_path`)."""


STATE_LABELS = {
    "dead": ("已失效", "原网站连续七天以上无法访问或已下线，本镜像暂时无法收录它的新文章（仍每天重试）。"),
    "stale": ("停止更新", "原网站仍可访问，但已很久没有新文章（可能已停更或改版），最新文章的时间见表。"),
}
"""How the archive README marks a source that is dead or stale, for readers (Chinese)."""


def link_target(path: str) -> str:
    """An archive path as a root-relative Markdown link target (safe for any file name)."""
    return "/" + quote(path, safe="/-_.~!$&'*+,;=:@") if any(c in path for c in " ()<>") else "/" + path


def escape_text(title: str) -> str:
    """Markdown link text: brackets and backslashes escaped so a name cannot break the link."""
    return title.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def table_cell(text: str) -> str:
    """`text` as one cell of a table row: a `|` in it is escaped, so that it cannot end the cell."""
    return text.replace("|", "\\|")


def list_link(title: str, path: str) -> str:
    """`[title](/path)` for a list line, by the rule of an article's line 2: as the old
    mirrors wrote it wherever that renders as one link, escaped only where it must be."""
    target = safe_href(link_target(path))
    return markdown_link(normalise_title(title), target) if target else escape_text(normalise_title(title))


def entry_link(entry: ArchivedEntry, away: Callable[[ArchivedEntry], str | None] | None = None) -> str:
    """An entry's link on a list line: `list_link` for a file of this repository; for one
    a shard holds, the address `away` gives (the shard's web page of the file), else
    the title with the shard's year (no relative link reaches another repository)."""
    if not entry.shard or away is None:
        return list_link(entry.title, entry.path)
    title = normalise_title(entry.title)
    target = safe_href(away(entry))
    return markdown_link(title, target) if target else f"{escape_text(title)}（分卷 {entry.shard}）"


def render_list(name: str, entries: Sequence[ArchivedEntry],
                away: Callable[[ArchivedEntry], str | None] | None = None) -> bytes:
    """The list page of one source: newest first, `M-D [title](/path)` in China time
    (`entry_link`, with `away` for the files shards hold)."""
    lines = [name, "------", ""]
    for entry in entries:
        when = china_time(entry.published_ms)
        lines.append(f"{when.month}-{when.day} {entry_link(entry, away)}")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


def render_shards(main: tuple[str, int], shards: Sequence[tuple[str, int, str | None, int]]) -> list[str]:
    """The README's table of the repositories a sharded archive spans (Chinese, for
    readers): the main one (name, articles), then each shard (name, year, web page or
    None, articles)."""
    lines = ["## 分卷 Shards", "",
             "文章较多，按年份分卷保存：每年的新文章存放在当年的分卷仓库中，列表、订阅和本页涵盖所有分卷。", "",
             "| 仓库 Repository | 年份 Year | 文章 Articles |", "| --- | --- | ---: |",
             f"| {table_cell(escape_text(main[0]))}（本仓库） | — | {main[1]} |"]
    for name, year, web, articles in shards:
        shown = markdown_link(name, web) if web and safe_href(web) else escape_text(name)
        lines.append(f"| {table_cell(shown)} | {year} | {articles} |")
    lines.append("")
    return lines


def _page_link(source: ListedSource) -> str:
    """The README's (relative) link to a source's list page."""
    return quote_path(source.page) if source.page else source_list_path(source.slug)


def render_copies(copies: Sequence[Copy], feeds: Sequence[tuple[str, str]],
                  full_feed: str | None = None) -> list[str]:
    """The README's lines that tell readers where else the archive is and how to subscribe
    (Chinese, for readers): every copy with its web address and its combined feed, then the
    feeds as (name, path in the archive); `full_feed`: the address of the combined feed
    with the articles' text, when the archive's own feeds carry titles and links only."""
    lines: list[str] = []
    if copies:
        lines += ["## 其他副本", "",
                  "本镜像同时保存在以下网站。某个网站打不开或被封锁时，请换一个地址访问；每个副本的内容都相同。",
                  ""]
        for copy in copies:
            feed = f" · [订阅（Atom）]({copy.feed})" if copy.feed else ""
            lines.append(f"- {markdown_link(copy.name, copy.web)}{feed}")
        lines.append("")
    if feeds:
        lines += ["## 订阅", "",
                  "用任何 RSS / Atom 阅读器订阅最新文章：", ""]
        lines += [f"- {markdown_link(name, link_target(path)[1:])}" for name, path in feeds]
        lines.append("")
        if full_feed:
            lines += ["这些订阅只含标题和链接。含全文的订阅在阅读网站上："
                      f"{markdown_link('全部文章（全文）', full_feed)}", ""]
    return lines


def render_index(title: str, sources: Sequence[ListedSource], *, extra: Sequence[str] = (),
                 copies: Sequence[Copy] = (), feeds: Sequence[tuple[str, str]] = (),
                 full_feed: str | None = None, shards: Sequence[str] = ()) -> bytes:
    """The archive README: every source's list with its article count and newest article,
    then the table of its shards (`render_shards`' lines), the other copies of the archive
    (`copies`) and its feeds (name, path)."""
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
        mark = f"（{STATE_LABELS[source.state][0]}）" if source.state in STATE_LABELS else ""
        lines.append(f"| {table_cell(markdown_link(source.name, _page_link(source)))}{mark} | {source.articles} | {newest} |")
    lines.append("")
    shown = [state for state in STATE_LABELS if any(s.state == state for s in sources)]
    for state in shown:
        label, meaning = STATE_LABELS[state]
        lines.append(f"- **{label}**：{meaning}")
    if shown:
        lines.append("")
    lines.extend(extra)
    if extra:
        lines.append("")
    lines.extend(shards)
    lines.extend(render_copies(copies, feeds, full_feed))
    return "\n".join(lines).encode("utf-8")
