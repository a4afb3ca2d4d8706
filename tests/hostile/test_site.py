"""One bad article costs at most its page: `newsmirror site` over an archive holding
hostile article files, through the real command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from newsmirror.archive.article import render_article
from newsmirror.archive.paths import article_path
from newsmirror.models import Article
from newsmirror.publish.sitesearch import search_text
from tests.helpers import git

T0 = 1_764_000_000_000
YEAR_9999 = 253_402_300_799_000  # Fri, 31 Dec 9999 23:59:59 GMT: year 10000 in China time


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmirror", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def write(archive: Path, relpath: str, data: bytes) -> str:
    target = archive / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relpath


def article(archive: Path, key: str, title: str, body: str, published: int = T0) -> str:
    return write(archive, article_path("voa", published, title, key),
                 render_article(Article(published, title, f"https://news.test/{key}", body)))


def test_broken_markup_in_a_body_is_text_not_a_crash():
    assert search_text("<p>前<![>后</p>") == "前后"
    assert search_text("<p>a<![if x]>b<![endif]>c</p>") == "abc"
    assert search_text("<p>a<![CDATA[x]]>b</p><p>c<![").startswith("ab c")


def test_one_bad_article_costs_its_page_and_the_build_says_so(tmp_path: Path):
    archive = tmp_path / "archive"
    (tmp_path / "newsmirror.toml").write_text(
        '[archive]\npath = "archive"\npush = false\n[[sources]]\nslug = "voa"\nname = "美国之音"\n'
        'url = "https://news.test/voa.xml"\n', encoding="utf-8")
    good = article(archive, "aaaaaaaaaaaa", "正常文章", "<p>会晤顺利举行</p>")
    marked = article(archive, "bbbbbbbbbbbb", "奇怪标记", "<p>选举<![>结果</p>")
    corrupt = article(archive, "cccccccccccc", "将被损坏", "<p>原来的正文</p>")
    write(archive, "articles/voa/9999/12/万年-dddddddddddd.md",
                render_article(Article(YEAR_9999, "万年之后", "https://news.test/far", "<p>远</p>")))
    git("init", "-q", "-b", "main", cwd=archive)
    git("add", "-A", cwd=archive)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "articles", cwd=archive)
    first = cli("site", cwd=tmp_path)  # the catalog now knows every article
    assert first.returncode == 0, first.stderr
    site = tmp_path / "site"
    # An article dated in the year 9999 is built like any other (its date shown as given).
    far_page = next(site.rglob("dddddddddddd.html")).read_text(encoding="utf-8")
    assert "9999-12-31" in far_page
    assert "选举" in next(site.rglob("bbbbbbbbbbbb.html")).read_text(encoding="utf-8")
    # A file damaged after the catalog took it in (a disk error, a bad hand edit): a build
    # that must read it names it, builds the rest, and says so in its exit code.
    (archive / corrupt).write_bytes(b"\xff\xfe not an article")
    out = tmp_path / "fresh"
    result = cli("site", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 1, (first.stderr, result.stderr)
    assert f"{corrupt}: not built:" in result.stderr
    assert "1 of 4 articles could not be built" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    pages = {p.name for p in out.rglob("*.html")}
    assert {"aaaaaaaaaaaa.html", "bbbbbbbbbbbb.html", "dddddddddddd.html", "index.html"} <= pages
    fresh = cli("site", "--out", str(tmp_path / "fresh"), cwd=tmp_path)
    assert f"{corrupt}: not built:" in fresh.stderr, fresh.stderr  # tried again
    assert "cccccccccccc.html" not in {p.name for p in (tmp_path / "fresh").rglob("*.html")}
    # Mended, the article is built by the next build.
    (archive / corrupt).write_bytes(render_article(
        Article(T0, "将被损坏", "https://news.test/cccccccccccc", "<p>原来的正文</p>")))
    mended = cli("site", "--out", str(tmp_path / "fresh"), cwd=tmp_path)
    assert f"{corrupt}: not built:" not in mended.stderr
    assert "cccccccccccc.html" in {p.name for p in (tmp_path / "fresh").rglob("*.html")}
    assert good and marked
