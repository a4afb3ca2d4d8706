"""Hostile titles, links and characters, through a real run against a loopback feed server:
nothing a feed says can escape its place in the output.

- line 2 of every article is one link, to the article's original, and a catalog rebuild
  reads every title and link back exactly;
- no surface (list pages, README, Atom feeds, the site, its search index) links to a
  javascript:, vbscript: or data: address, yet the item that had one is archived;
- control characters never reach a file, and git never takes an article for binary;
- no file name is a Windows device name;
- titles stay as the feed's parser gave them (double spaces, U+3000, a double-escaped &quot;).

What a git host shows is read with markdown-it-py (tests/rendered.py), what a browser
follows with lxml.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from pytest_httpserver import HTTPServer

from newsmirror.archive.article import parse_article
from newsmirror.archive.paths import windows_reserved
from newsmirror.archive.store import open_store
from newsmirror.publish.site import build_site
from tests.helpers import git
from tests.jobs.feeds import Item, rss
from tests.rendered import MD, href_of, only_link

T0 = 1_764_000_000_000
SCRIPT_SCHEME = re.compile(r"(?:javascript|vbscript|data):", re.IGNORECASE)
LINE_BREAKS = re.compile("[\t\n\r]")

# (title, link as the feed gives it, link as line 2 must hold it)
ITEMS = [
    ("a](https://evil.example/phish) [b", "https://news.test/1", "https://news.test/1"),
    ("[视频] 拜登  会见　习近平 &quot;台湾&quot;", "https://news.test/2", "https://news.test/2"),
    ("尾巴 \\", "https://news.test/3", "https://news.test/3"),
    ("unbalanced [ bracket <a href=\"https://evil.example\">x</a>", "https://news.test/4",
     "https://news.test/4"),
    ("括号", "https://news.test/a)b c", "https://news.test/a)b%20c"),
    ("破折", "https://news.test/x](javascript:alert(1)", "https://news.test/x](javascript:alert(1)"),
    ("x]: https://evil.example/def", "https://news.test/7", "https://news.test/7"),
    ("CON.txt", "https://news.test/8", "https://news.test/8"),
    ("aux", "https://news.test/9", "https://news.test/9"),
    ("控制\x7f字符\x9b[31m", "https://news.test/10", "https://news.test/10"),
]
SCRIPT_ITEMS = [("脚本链接", "javascript:alert(1)"), ("VB", "vbscript:msgbox(1)"),
                ("数据", "data:text/html,<script>alert(1)</script>")]


def _feed() -> bytes:
    items = [Item(title, link, f"<p>正文{i}\x7f\x85\x9f</p>", guid=f"g-{i}", date_ms=T0 + i * 60_000)
             for i, (title, link, _) in enumerate(ITEMS)]
    bodies = ['<p><a href="javascript:alert(1)">点</a><a href=" JaVa&#x09;script:alert(2)">点</a></p>',
              '<p><a href="vbscript:msgbox(1)">点</a><iframe src="javascript:alert(3)"></iframe></p>',
              '<p><img src="data:image/svg+xml;base64,PHN2Zz4="><a href="data:text/html,x">点</a></p>']
    items += [Item(title, link, bodies[i], date_ms=T0 - (i + 1) * 60_000)
              for i, (title, link) in enumerate(SCRIPT_ITEMS)]
    return rss(items)


def _json_feed() -> bytes:
    # JSON can carry the controls XML 1.0 cannot (NUL, ESC).
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1", "title": "J",
        "items": [{"id": "n1", "url": "https://news.test/n1", "title": "空\u0000字\u001b[2J符",
                   "content_html": "<p>a\u0000b\u001bc\u0007d</p>", "date_published": "2025-11-24T16:00:00Z"}],
    }).encode()


@pytest.fixture
def hostile_run(mirror, httpserver: HTTPServer):
    httpserver.expect_request("/h.xml").respond_with_data(_feed(), content_type="application/rss+xml")
    httpserver.expect_request("/j.json").respond_with_data(_json_feed(), content_type="application/feed+json")
    sources = [{"slug": "h", "name": "敌意", "url": httpserver.url_for("/h.xml")},
               {"slug": "j", "name": "JSON", "url": httpserver.url_for("/j.json")}]
    report = mirror.run(sources, now_ms=T0 + 10**7, push=False)
    assert report.new == len(ITEMS) + len(SCRIPT_ITEMS) + 1, report.outcomes
    return mirror, sources, httpserver.url_for("/h.xml")


def _articles(archive: Path) -> dict[str, bytes]:
    return {p.relative_to(archive).as_posix(): p.read_bytes() for p in sorted((archive / "articles").rglob("*.md"))}


def _heading(data: bytes):
    """The link line 2 renders as, read as a git host does (the whole file, line 2 as heading)."""
    tokens = MD.parse(data.decode())
    assert [t.type for t in tokens[:4]] == ["html_block", "heading_open", "inline", "heading_close"], tokens[:4]
    return only_link(data.decode(), block=0)


def test_line_2_is_one_link_to_the_original_and_titles_are_kept(hostile_run):
    mirror, _, _ = hostile_run
    files = _articles(mirror.archive)
    by_title = {parse_article(data).title: (path, data) for path, data in files.items()}
    for title, _, link in ITEMS:
        expected_title = title.replace("\x7f", "").replace("\x9b", "")
        _, data = by_title[expected_title]
        shown = _heading(data)
        assert shown is not None, data.split(b"\n")[1]
        assert shown.href == href_of(link), data.split(b"\n")[1]
        if "&" not in title:
            assert shown.text == expected_title
        assert "evil.example" not in shown.href
    # A title that renders right as it is stays byte for byte, white space and entities too.
    _, kept = by_title["[视频] 拜登  会见　习近平 &quot;台湾&quot;"]
    assert kept.split(b"\n")[1] == "[[视频] 拜登  会见　习近平 &quot;台湾&quot;](https://news.test/2)".encode()


def test_script_links_are_archived_but_no_surface_links_to_them(hostile_run, tmp_path: Path):
    mirror, sources, feed_url = hostile_run
    files = _articles(mirror.archive)
    titles = {parse_article(data).title: parse_article(data).link for data in files.values()}
    for title, _ in SCRIPT_ITEMS:
        assert titles[title] == feed_url  # archived, linked to the feed it came from

    surfaces = [mirror.archive / "README.md", *sorted((mirror.archive / "lists").glob("*.md"))]
    for page in surfaces:
        for inline in (t for t in MD.parse(page.read_text()) if t.type == "inline"):
            for child in inline.children or []:
                if child.type == "link_open":
                    _assert_safe(child.attrGet("href"), page)
    site = tmp_path / "site"
    with open_store(mirror.archive, writes=False) as store:
        build_site(mirror.config(sources), store, site)
    atom = {"a": "http://www.w3.org/2005/Atom"}
    # The archive's committed feeds carry links only; the site's carry the bodies too.
    for folder, bodies in ((mirror.archive / "feeds", False), (site / "feeds", True)):
        feeds = sorted(folder.glob("*.xml"))
        assert feeds, folder
        for feed in feeds:
            tree = etree.parse(str(feed))
            for href in tree.xpath("//@href"):
                _assert_safe(href, feed)
            contents = tree.xpath("//a:content/text()", namespaces=atom)
            assert bool(contents) == bodies, feed
            for content in contents:
                for value in lxml_html.fragment_fromstring(content, create_parent="div").xpath(
                        "//@href | //*[not(self::img)]/@src"):
                    _assert_safe(value, feed)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > len(files)
    for page in pages:
        tree = lxml_html.parse(str(page))
        for value in tree.xpath("//@href | //@action | //@formaction | //*[not(self::img)]/@src"):
            _assert_safe(value, page)
        # An inline image is not a link: the sanitiser keeps data:image/… in <img src> only.
        for value in tree.xpath("//img/@src"):
            if not value.startswith("data:image/"):
                _assert_safe(value, page)
    docs = sorted((site / "search").rglob("*.js"))
    assert docs
    for doc in docs:
        text = doc.read_text()
        for href in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
            assert not SCRIPT_SCHEME.match(LINE_BREAKS.sub("", json.loads(f'"{href}"')).lstrip()), doc


def _assert_safe(href, where) -> None:
    probe = LINE_BREAKS.sub("", href or "").lstrip("".join(chr(c) for c in range(0x21)))
    assert not SCRIPT_SCHEME.match(probe), f"{where}: {href!r}"


def test_no_control_characters_and_git_sees_text(hostile_run):
    mirror, _, _ = hostile_run
    files = _articles(mirror.archive)
    controls = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
    for path, data in files.items():
        assert not controls.search(data.decode()), path
    numstat = git("log", "--numstat", "--format=", cwd=mirror.archive).splitlines()
    article_stats = [line for line in numstat if "\tarticles/" in line]
    assert len(article_stats) == len(files)
    assert not [line for line in article_stats if line.startswith("-\t-\t")]
    [json_article] = [data for path, data in files.items() if path.startswith("articles/j/")]
    article = parse_article(json_article)
    assert (article.title, article.body) == ("空字[2J符", "<p>abcd</p>")


def test_no_file_name_is_a_windows_device_name(hostile_run):
    mirror, _, _ = hostile_run
    for path in _articles(mirror.archive):
        assert not any(windows_reserved(part) for part in path.split("/")), path


def test_a_catalog_rebuild_reads_every_title_and_link_back(hostile_run, tmp_path: Path):
    mirror, sources, _ = hostile_run
    archive = mirror.archive
    with open_store(archive, writes=False) as store:
        before = sorted((e.path, e.title, e.link) for e in store.catalog.entries())
    feeds = {p.name: p.read_bytes() for p in (archive / "feeds").glob("*.xml")}
    lists = {p.name: p.read_bytes() for p in (archive / "lists").glob("*.md")}
    shutil.rmtree(archive / ".newsmirror" / "cache")
    for path in (archive / "feeds").glob("*.xml"):
        path.unlink()
    config = tmp_path / "n.toml"
    config.write_text(f'[archive]\npath = "{archive}"\n' + "".join(
        f'[[sources]]\nslug = "{s["slug"]}"\nname = "{s["name"]}"\nurl = "{s["url"]}"\n' for s in sources),
        encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "newsmirror", "rebuild", "--config", str(config)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    with open_store(archive, writes=False) as store:
        after = sorted((e.path, e.title, e.link) for e in store.catalog.entries())
    assert after == before
    assert {p.name: p.read_bytes() for p in (archive / "feeds").glob("*.xml")} == feeds
    assert {p.name: p.read_bytes() for p in (archive / "lists").glob("*.md")} == lists
    related = etree.parse(str(archive / "feeds" / "h.xml")).xpath(
        "//a:link[@rel='related']/@href", namespaces={"a": "http://www.w3.org/2005/Atom"})
    assert "https://news.test/x](javascript:alert(1)" in related


def test_a_script_link_in_an_archived_file_reaches_no_surface_after_a_rebuild(hostile_run, tmp_path: Path):
    mirror, sources, _ = hostile_run
    archive = mirror.archive
    # As a tampered or foreign archive may hold it.
    planted = archive / "articles/h/2025/11/手写-0123456789ab.md"
    planted.write_bytes(f"<!--{T0 + 10**6}-->\n[手写](javascript:alert(1))\n------\n\n<p>x</p>\n".encode())
    config = tmp_path / "n.toml"
    config.write_text(f'[archive]\npath = "{archive}"\n' + "".join(
        f'[[sources]]\nslug = "{s["slug"]}"\nname = "{s["name"]}"\nurl = "{s["url"]}"\n' for s in sources),
        encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "newsmirror", "rebuild", "--config", str(config)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    with open_store(archive, writes=False) as store:
        assert "javascript:alert(1)" in {e.link for e in store.catalog.entries()}  # read back as written
    atom = {"a": "http://www.w3.org/2005/Atom"}
    tree = etree.parse(str(archive / "feeds" / "h.xml"))
    [entry] = tree.xpath("//a:entry[a:title='手写']", namespaces=atom)
    assert entry.xpath("a:link[@rel='alternate']", namespaces=atom)
    for href in tree.xpath("//@href"):
        _assert_safe(href, "feeds/h.xml")
    assert "[手写](/articles/h/2025/11/手写-0123456789ab.md)" in (archive / "lists" / "h.md").read_text()
    site = tmp_path / "site"
    with open_store(archive, writes=False) as store:
        build_site(mirror.config(sources), store, site)
    for page in site.rglob("*.html"):
        for value in lxml_html.parse(str(page)).xpath("//@href"):
            _assert_safe(value, page)
