"""Archives as the mirrors before newsmirror left them, built file by file for the tests:
the later layout articles/<abbr>/<id>.md (ids counting down from 0xFFFFF), the earlier
articles/<站名>/<id>_<title>.md, their list pages and a README of the operator's own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsmirror.archive.article import parse_article
from newsmirror.archive.paths import china_time
from tests.helpers import git

TOP_ID = 0xFFFFF
OLD_README = "# 我的新闻镜像\n\n本仓库由志愿者维护。联系：mirror@example.org\n\n- [美国之音](lists/美国之音.md)\n"


@dataclass(frozen=True)
class Old:
    """One article as an older mirror archived it."""

    old_id: int
    title: str
    link: str
    body: str
    ms: int

    def data(self) -> bytes:
        # Written out by hand, as the old mirror did, not through newsmirror's renderer.
        return f"<!--{self.ms}-->\n[{self.title}]({self.link})\n------\n\n{self.body}\n".encode()


def numbered_name(article: Old) -> str:
    return f"{article.old_id}.md"


def titled_name(article: Old) -> str:
    return f"{article.old_id}_{article.title.replace('/', '--')}.md"


def write_folder(root: Path, folder: str, articles: list[Old], *, titled: bool = False) -> dict[str, bytes]:
    """The article files of one old folder; returns path -> bytes."""
    base = root / "articles" / folder
    base.mkdir(parents=True, exist_ok=True)
    written = {}
    for article in articles:
        name = titled_name(article) if titled else numbered_name(article)
        data = article.data()
        assert parse_article(data)  # a well-formed old file
        (base / name).write_bytes(data)
        written[f"articles/{folder}/{name}"] = data
    return written


def old_list(heading: str, folder: str, files: dict[str, bytes]) -> bytes:
    """A list page as the old mirror kept it (its own order: by file name)."""
    lines = [heading, "------", ""]
    for path in sorted(files):
        article = parse_article(files[path])
        when = china_time(article.published_ms)
        lines += [f"{when.month}-{when.day} [{article.title}](/{path})", ""]
    return "\n".join(lines).encode()


def commit_all(root: Path, message: str = "old mirror") -> None:
    git("add", "-A", cwd=root)
    git("-c", "user.name=old", "-c", "user.email=old@example.org", "commit", "-q", "-m", message, cwd=root)


def init_repo(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "main", cwd=root)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every article file's bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "articles").rglob("*.md"))}
