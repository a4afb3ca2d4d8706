"""The static reading site: pages, relative links, sanitised bodies, no outside requests,
pagination, Chinese search and incremental rebuilds. Archives are real article files
(written with render_article, or by the real pipeline from the demo feeds)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from newsmirror.archive.article import render_article
from newsmirror.archive.paths import article_path
from newsmirror.archive.store import open_store
from newsmirror.config import ConfigError, parse_config
from newsmirror.models import Article
from newsmirror.publish import sitesearch as ix
from newsmirror.publish.site import MANIFEST, build_site
from newsmirror.publish.sitestate import LEGACY_MANIFEST
from tests.helpers import site_tree

HOUR = 3_600_000
T0 = 1_700_000_000_000  # 2023-11-14 22:13 UTC

SAMPLES = [
    # (slug, hours after T0, title, body)
    ("voa", 0, "美朝领导人在河内举行会晤",
     '<p>两国领导人星期三在河内举行会晤，讨论无核化问题。</p>'
     '<p><img src="https://gdb.voanews.com/photo.jpg" alt="会晤现场"></p>'),
    ("voa", 1, "台湾举行地方选举",
     '<p>台湾选民星期六投票。</p><script>alert(1)</script>'
     '<img src="/local.png" onerror="alert(2)"><a href="javascript:alert(3)">点这里</a>'
     '<iframe src="https://www.youtube.com/embed/abc"></iframe>'),
    ("bbc", 2, "Trade talks 经济 news", "<p>Trade war talks resumed in Geneva. 经济前景不明。</p>"),
]
FILLERS = [("voa", 3 + i, f"天气预报第{i}期", f"<p>明天多云，第{i}期。</p>") for i in range(5)]


def key_of(slug: str, title: str) -> str:
    return hashlib.sha256(f"{slug}:{title}".encode()).hexdigest()[:12]


def write_article(root: Path, slug: str, hours: int, title: str, body: str) -> str:
    published = T0 + hours * HOUR
    link = f"https://www.example.com/{slug}/{key_of(slug, title)}.html"
    relpath = article_path(slug, published, title, key_of(slug, title))
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(render_article(Article(published, title, link, body)))
    return relpath


def make_config(tmp_path: Path):
    return parse_config(
        {"archive": {"path": "archive", "title": "新闻镜像测试"},
         "sources": [{"slug": "voa", "name": "美国之音", "url": "https://example.com/voa.xml"},
                     {"slug": "bbc", "name": "BBC 中文", "url": "https://example.com/bbc.xml"}]},
        file="t.toml", base=tmp_path)


def build(config, out: Path, **kwargs):
    with open_store(config.archive, writes=False) as store:
        return build_site(config, store, out, **kwargs)


def build_sample_site(tmp_path: Path, *, page_size: int = 3):
    """A sample archive (8 articles, 2 sources) and its site; returns (config, out, report)."""
    config = make_config(tmp_path)
    for sample in SAMPLES + FILLERS:
        write_article(config.archive, *sample)
    out = tmp_path / "site"
    return config, out, build(config, out, page_size=page_size)


@pytest.fixture
def sample(tmp_path: Path):
    return build_sample_site(tmp_path)


# -- reading the output ----------------------------------------------------------------
class Links(HTMLParser):
    """Every (tag, attribute, value) that holds an address, and the script tags."""

    URL_ATTRS = {"href", "src", "srcset", "action", "poster", "cite", "data"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.scripts: list[dict] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")
            if name in self.URL_ATTRS and value is not None:
                self.urls.append((tag, name, value))
        if tag == "script":
            self.scripts.append(dict(attrs))


def links_of(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def article_page(out: Path, title: str) -> Path:
    for path in (out / "articles").rglob("*.html"):
        if f"<h1>{title}</h1>" in path.read_text(encoding="utf-8"):
            return path
    raise AssertionError(f"no page for {title}")


def search(out: Path, query: str) -> set[str]:
    """Look `query` up the way search.js does: tokens, shard files, intersection; returns
    the titles found."""
    meta = ix.read_script_file((out / "search/meta.js").read_bytes())
    lists = []
    for token in ix.query_tokens(query):
        ids: list[int] = []
        for segment in range(meta["segments"]):
            shard = out / ix.shard_path(segment, ix.shard_of(token, meta["shards"]))
            if shard.is_file():
                ids += ix.decode_shard(ix.read_script_file(shard.read_bytes())).get(token, [])
        lists.append(set(ids))
    assert lists, f"{query!r} has no tokens"
    found = set.intersection(*lists)
    titles = set()
    for doc_id in found:
        chunk = ix.read_script_file((out / ix.docs_path(doc_id // meta["chunk"])).read_bytes())
        titles.add(chunk[str(doc_id)][0])
    return titles


# -- tests -----------------------------------------------------------------------------
def test_pages_exist_for_home_sources_articles_and_search(sample):
    config, out, report = sample
    assert report.articles == 8 and report.sources == 2
    for name in ("index.html", "search.html", "search.js", "style.css", "search/meta.js",
                 "sources/voa/index.html", "sources/voa/1.html", "sources/bbc/index.html"):
        assert (out / name).is_file(), name
    assert len(list((out / "articles").rglob("*.html"))) == 8
    assert report.index_path == out / "index.html"
    home = (out / "index.html").read_text(encoding="utf-8")
    assert "新闻镜像测试" in home and "美国之音" in home and "BBC 中文" in home
    page = article_page(out, "美朝领导人在河内举行会晤").read_text(encoding="utf-8")
    assert "美国之音" in page
    assert "2023-11-15 06:13（北京时间）" in page  # T0 is 22:13 UTC
    assert 'href="https://www.example.com/voa/' in page and "阅读原文" in page
    assert "讨论无核化问题" in page


def test_every_link_is_relative_and_resolves(sample):
    _config, out, _report = sample
    checked = 0
    for page in html_files(out):
        for tag, attr, value in links_of(page).urls:
            if re.match(r"[a-z][a-z0-9+.-]*:", value, re.I):
                continue  # an outside address (see the next test)
            assert not value.startswith("/"), f"{page}: {tag} {attr}={value} is not relative"
            target = unquote(urlsplit(value).path)
            assert (page.parent / target).resolve().is_file(), f"{page}: {value} is broken"
            checked += 1
    assert checked > 50


def test_article_bodies_are_sanitised(sample):
    _config, out, _report = sample
    for page in html_files(out):
        links = links_of(page)
        assert links.handlers == [], f"{page}: {links.handlers}"
        if page.name == "search.html":
            assert links.scripts == [{"src": "search.js"}]
        else:
            assert links.scripts == [], f"{page} has a script"
        assert "javascript:" not in page.read_text(encoding="utf-8")
    text = article_page(out, "台湾举行地方选举").read_text(encoding="utf-8")
    assert "alert(" not in text and "<iframe" not in text
    assert "点这里" in text  # the link's text stays, its javascript: address does not
    # the relative image was made absolute against the article's link
    assert 'src="https://www.example.com/local.png"' in text
    assert 'href="https://www.youtube.com/embed/abc"' in text  # the player became a link
    image = re.search(r"<img [^>]*gdb\.voanews\.com[^>]*>",
                      article_page(out, "美朝领导人在河内举行会晤").read_text(encoding="utf-8"))
    assert image and 'loading="lazy"' in image.group() and 'referrerpolicy="no-referrer"' in image.group()


def test_no_outside_request_but_article_images(sample):
    """Outside addresses appear only as images or as links to follow, never as a style
    sheet, script, frame, font or CSS url()."""
    _config, out, _report = sample
    outside = 0
    for page in html_files(out):
        for tag, attr, value in links_of(page).urls:
            if not re.match(r"(https?:)?//", value, re.I):
                continue
            outside += 1
            assert (tag, attr) in {("img", "src"), ("img", "srcset"), ("source", "srcset"),
                                   ("a", "href")}, f"{page}: {tag} {attr}={value}"
    assert outside > 0
    css = (out / "style.css").read_text(encoding="utf-8")
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    assert not re.search(r"https?://", (out / "search.js").read_text(encoding="utf-8"))
    for index_file in (out / "search").rglob("*.js"):
        assert not re.search(r"https?://", index_file.read_text(encoding="utf-8")), index_file


def test_source_pages_are_paginated_from_the_oldest(sample):
    _config, out, _report = sample
    voa = out / "sources/voa"
    # 7 VOA articles, 3 a page: 1 = the 3 oldest, 3 = the newest one alone
    assert sorted(p.name for p in voa.glob("*.html")) == ["1.html", "2.html", "3.html", "index.html"]
    first = (voa / "1.html").read_text(encoding="utf-8")
    assert "美朝领导人在河内举行会晤" in first and "天气预报第0期" in first
    last = (voa / "3.html").read_text(encoding="utf-8")
    assert "天气预报第4期" in last and "天气预报第3期" not in last
    assert 'href="2.html"' in last and 'href="index.html"' in last
    landing = (voa / "index.html").read_text(encoding="utf-8")
    titles = re.findall(r"天气预报第(\d)期", landing)
    assert titles == ["4", "3", "2"]  # the latest page_size articles, newest first
    assert all(f'href="{n}.html"' in landing for n in (1, 2, 3))


def test_search_finds_two_character_chinese_words(sample):
    _config, out, _report = sample
    assert search(out, "会晤") == {"美朝领导人在河内举行会晤"}
    assert search(out, "台湾") == {"台湾举行地方选举"}
    assert search(out, "河内举行会晤") == {"美朝领导人在河内举行会晤"}
    assert search(out, "举行") == {"美朝领导人在河内举行会晤", "台湾举行地方选举"}
    assert search(out, "TRADE") == {"Trade talks 经济 news"}  # words are lower-cased
    assert search(out, "经济") == {"Trade talks 经济 news"}
    assert search(out, "会谈") == set()


def test_tokens_are_cjk_bigrams_characters_and_words():
    assert ix.tokens("美朝会晤 Trade-War ２０２４年") == {
        "美朝", "朝会", "会晤", "美", "朝", "会", "晤", "trade", "war", "2024", "年"}
    assert ix.tokens("台") == {"台"}
    assert ix.tokens("日本語のテキスト") >= {"日本", "本语", "语の", "テキ", "の"}
    # a query looks up the bigrams of a longer run, and a lone character itself
    assert ix.query_tokens("美朝会晤 war") == {"美朝", "朝会", "会晤", "war"}
    assert ix.query_tokens("雨") == {"雨"}


def test_traditional_characters_fold_to_simplified():
    assert ix.normalise("臺灣總統調查") == "台湾总统调查"
    assert ix.normalise("台湾总统调查") == "台湾总统调查"
    assert ix.tokens("臺灣") == ix.tokens("台湾")
    source, target = ix.fold_pairs()
    assert len(source) == len(target) > 2000  # OpenCC's t2s, character by character
    assert all((ord(a) > 0xFFFF) == (ord(b) > 0xFFFF) for a, b in zip(source, target))


def test_search_finds_both_scripts_and_single_characters(sample):
    config, out, _report = sample
    write_article(config.archive, "voa", 30, "臺灣總統大選登場", "<p>選民前往投票所，調查顯示競爭激烈。</p>")
    build(config, out, page_size=3)
    both = {"台湾举行地方选举", "臺灣總統大選登場"}
    assert search(out, "台湾") == both
    assert search(out, "臺灣") == both
    assert search(out, "调查") == {"臺灣總統大選登場"}
    assert search(out, "晤") == {"美朝领导人在河内举行会晤"}
    assert search(out, "選") == {"台湾举行地方选举", "臺灣總統大選登場"}
    fold = ix.read_script_file((out / "search/fold.js").read_bytes())
    assert fold == dict(zip(("from", "to"), ix.fold_pairs()))


def test_rebuild_without_changes_writes_nothing(sample):
    config, out, _report = sample
    report = build(config, out, page_size=3)
    assert report.written == [] and report.removed == []
    assert report.unchanged > 20


def test_one_new_article_rewrites_only_what_lists_it(sample):
    config, out, _report = sample
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    relpath = write_article(config.archive, "voa", 20, "总统会晤外长", "<p>总统会晤来访外长。</p>")
    report = build(config, out, page_size=3)

    new_page = f"articles/voa/{relpath.split('/')[2]}/{relpath.split('/')[3]}/{key_of('voa', '总统会晤外长')}.html"
    # page 3 held one article and now holds two; pages 1-2, the other source and every
    # other article stay as they were
    assert sorted(report.pages_written) == sorted(
        ["index.html", "sources/voa/index.html", "sources/voa/3.html", new_page])
    wanted_shards = {ix.shard_path(0, ix.shard_of(t)) for t in ix.tokens("总统会晤外长 总统会晤来访外长。")}
    assert set(report.index_files_written) == wanted_shards | {"search/docs/0.js"}
    # … and the feeds of the site that show it
    assert set(report.written) == set(report.pages_written) | set(report.index_files_written) \
        | {"feeds/all.xml", "feeds/voa.xml"}
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    touched = {p.relative_to(out).as_posix() for p in after if before.get(p) != after[p]}
    assert touched == set(report.written) | {MANIFEST}
    assert search(out, "会晤") == {"美朝领导人在河内举行会晤", "总统会晤外长"}


def test_a_removed_article_leaves_the_site_and_the_index(sample):
    config, out, _report = sample
    victim = next(config.archive.glob("articles/bbc/*/*/*.md"))
    victim.unlink()
    report = build(config, out, page_size=3)
    assert any(p.startswith("articles/bbc/") for p in report.removed)
    assert not list((out / "articles").glob("bbc"))
    assert search(out, "trade") == set()
    assert search(out, "会晤") == {"美朝领导人在河内举行会晤"}


def test_a_damaged_index_is_rebuilt(sample):
    config, out, _report = sample
    shard = out / ix.shard_path(0, ix.shard_of("会晤"))
    shard.unlink()
    report = build(config, out, page_size=3)
    assert report.full_index
    assert search(out, "会晤") == {"美朝领导人在河内举行会晤"}


def test_a_new_site_title_rewrites_every_page(sample):
    config, out, _report = sample
    report = build(replace(config, title="另一个标题"), out, page_size=3)
    assert sorted(report.pages_written) == sorted(p.relative_to(out).as_posix() for p in html_files(out))
    assert report.index_files_written == []
    assert "另一个标题" in (out / "articles").rglob("*.html").__next__().read_text(encoding="utf-8")


def test_site_from_the_real_pipeline(tmp_path: Path):
    """Mirror the bundled demo feeds over loopback, then build the site from that archive."""
    from newsmirror.demo.server import DemoServer
    from newsmirror.jobs.mirror import run_mirror

    with DemoServer() as server:
        config = parse_config(
            {"archive": {"path": "archive"},
             "sources": [{"slug": "voa", "name": "美国之音", "url": server.base + "/voa.xml"},
                         {"slug": "bbc", "name": "BBC 中文", "url": server.base + "/bbc.xml"}]},
            file="t.toml", base=tmp_path)
        asyncio.run(run_mirror(config, push=False))
    out = tmp_path / "site"
    report = build(config, out)
    assert report.articles >= 3
    assert any("会晤" in title for title in search(out, "会晤"))
    assert any("台湾" in title for title in search(out, "台湾"))
    for page in html_files(out):
        assert links_of(page).handlers == []
    assert os.path.isfile(out / "sources/voa/index.html")


def test_images_downloaded_into_the_archive_are_shown_from_the_site(tmp_path: Path):
    """download_images links articles to assets/… relatively; the site carries the files
    to the same place, so the same relative link works in the site's article page."""
    config = make_config(tmp_path)
    asset = "assets/voa/2024/01/0123456789abcdef01234567.png"
    (config.archive / asset).parent.mkdir(parents=True)
    (config.archive / asset).write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    relpath = write_article(config.archive, "voa", 1, "有图的新闻",
                            f'<p>图片</p><img src="../../../../{asset}" alt="本地">')
    out = tmp_path / "site"
    report = build(config, out)
    assert asset in report.written
    page = next((out / "articles" / "voa").rglob("*.html"))
    html = page.read_text(encoding="utf-8")
    assert f'src="../../../../{asset}"' in html
    assert (page.parent / f"../../../../{asset}").resolve() == (out / asset).resolve()
    assert relpath.count("/") == page.relative_to(out).as_posix().count("/")
    again = build(config, out)
    assert asset not in again.written


def test_every_page_lists_the_other_copies_and_the_feeds(sample, tmp_path: Path):
    config, out, _report = sample
    with_mirrors = parse_config(
        {"archive": {"path": "archive", "title": "新闻镜像测试",
                     "remote": "git@github.com:me/news.git",
                     "mirrors": [{"name": "codeberg", "url": "git@codeberg.org:me/news.git"},
                                 {"name": "disk", "url": "/srv/backup/news.git"}]},
         "sources": [{"slug": "voa", "name": "美国之音", "url": "https://example.com/voa.xml"},
                     {"slug": "bbc", "name": "BBC 中文", "url": "https://example.com/bbc.xml"}]},
        file="t.toml", base=tmp_path)
    report = build(with_mirrors, out, page_size=3)
    pages = html_files(out)
    # Adding mirrors changes what every page says: every page is rendered again.
    assert sorted(report.pages_written) == sorted(p.relative_to(out).as_posix() for p in pages)
    every_feed = {f"https://me.github.io/news/feeds/{name}.xml" for name in ("all", "voa", "bbc")}
    for page in pages:
        urls = {value for tag, attr, value in links_of(page).urls if tag == "a"}
        assert {"https://github.com/me/news", "https://codeberg.org/me/news",
                "https://codeberg.org/me/news/raw/branch/main/feeds/all.xml",
                "https://github.com/me/news/raw/main/feeds/all.xml",
                # the site's own combined feed, at its GitHub Pages address
                "https://me.github.io/news/feeds/all.xml"} <= urls, page
        assert not any("/srv/backup" in u for u in urls)  # a local copy is no reader's
        # The home page lists every source's feed; any other page its own source's, and
        # leads to the home page's list for the rest (one click from every page).
        shown = {u for u in urls if u.startswith("https://me.github.io/news/feeds/")}
        page_name = page.relative_to(out).as_posix()
        if page_name == "index.html":
            assert shown == every_feed
            assert 'id="feeds"' in page.read_text(encoding="utf-8")
        else:
            source = next((s for s in ("voa", "bbc") if f"/{s}/" in f"/{page_name}"), None)
            assert shown == {"https://me.github.io/news/feeds/all.xml"} | (
                {f"https://me.github.io/news/feeds/{source}.xml"} if source else set()), page
            assert any(u.endswith("index.html#feeds") for u in urls), page
    # Without any copy with a web address, the pages say nothing of it.
    build(config, out, page_size=3)
    assert "其他副本" not in (out / "index.html").read_text(encoding="utf-8")


def feed_links(out: Path, page: str = "index.html") -> list[str]:
    html = (out / page).read_text(encoding="utf-8")
    section = re.split(r'<section class="feeds"[^>]*>', html, maxsplit=1)[1].split("</section>", 1)[0]
    return re.findall(r'href="([^"]+)"', section)


@pytest.mark.parametrize(("archive", "site", "expected"), [
    # [site] url wins over anything derived (a slash is added)
    ({"remote": "git@github.com:me/news.git"}, {"url": "https://news.example.org/mirror"},
     "https://news.example.org/mirror/"),
    # a GitHub primary: its project site; a user/organisation site repository: the root
    ({"remote": "git@github.com:Me/news-archive.git"}, None, "https://me.github.io/news-archive/"),
    ({"remote": "https://github.com/me/news"}, None, "https://me.github.io/news/"),
    ({"remote": "ssh://git@ssh.github.com:443/me/me.github.io.git"}, None, "https://me.github.io/"),
    # elsewhere (or no remote): unknown, the links stay relative
    ({"remote": "git@codeberg.org:me/news.git"}, None, None),
    ({}, None, None),
])
def test_the_sites_address_makes_its_feed_links_absolute(tmp_path: Path, archive, site, expected):
    data = {"archive": {"path": "archive", **archive},
            "sources": [{"slug": "voa", "name": "美国之音", "url": "https://example.com/voa.xml"}]}
    if site:
        data["site"] = site
    config = parse_config(data, file="t.toml", base=tmp_path)
    for sample in SAMPLES[:2]:
        write_article(config.archive, *sample)
    out = tmp_path / "site"
    build(config, out)
    article = next((out / "articles").rglob("*.html")).relative_to(out).as_posix()
    feed = (out / "feeds" / "voa.xml").read_text(encoding="utf-8")
    # The site's feeds (no history kept) carry the bodies the archive's committed feeds
    # leave out by default.
    assert '<content type="html">' in feed
    if expected:
        for page in ("index.html", article):
            assert feed_links(out, page) == [f"{expected}feeds/all.xml", f"{expected}feeds/voa.xml"]
        assert f'<link rel="self" type="application/atom+xml" href="{expected}feeds/voa.xml"/>' in feed
        assert f'<link rel="alternate" href="{expected}sources/voa/index.html"/>' in feed
        assert f'<link rel="alternate" href="{expected}articles/voa/' in feed
    else:
        assert feed_links(out) == ["feeds/all.xml", "feeds/voa.xml"]
        assert feed_links(out, article) == ["../../../../feeds/all.xml", "../../../../feeds/voa.xml"]
        assert 'rel="self"' not in feed
        assert '<link rel="alternate" href="../sources/voa/index.html"/>' in feed
    # Every link of the site's feeds leads to a page of the site.
    for href in re.findall(r'<link rel="alternate" href="([^"]+)"', feed):
        local = href.removeprefix(expected) if expected else href.removeprefix("../")
        assert (out / unquote(local)).is_file(), href


@pytest.mark.parametrize("url", ["news.example.org", "ftp://news.example.org/", "https://",
                                 "https://news example.org/"])
def test_a_bad_site_address_names_the_file_and_key(tmp_path: Path, url: str):
    with pytest.raises(ConfigError) as caught:
        parse_config({"site": {"url": url},
                      "sources": [{"slug": "voa", "name": "美国之音", "url": "https://example.com/v.xml"}]},
                     file="newsmirror.toml", base=tmp_path)
    assert str(caught.value).startswith(f"newsmirror.toml: site.url: {url!r}")


def test_an_incremental_build_equals_a_full_build(sample, tmp_path: Path):
    """New articles, an edited one: the site built over the last one is the site built
    from nothing, file for file, byte for byte."""
    config, out, _report = sample
    for hours in (20, 21, 22, 23):  # page 3 fills and page 4 begins
        write_article(config.archive, "voa", hours, f"新闻第{hours}条", f"<p>正文{hours}。</p>")
    edited = next(config.archive.glob("articles/bbc/*/*/*.md"))
    edited.write_bytes(edited.read_bytes().replace(b"Geneva", "日内瓦".encode()))
    build(config, out, page_size=3)
    fresh = tmp_path / "fresh"
    build(config, fresh, page_size=3)
    assert site_tree(out) == site_tree(fresh)
    assert search(out, "日内瓦") == {"Trade talks 经济 news"}


def test_after_a_removal_only_the_search_ids_differ_from_a_full_build(sample, tmp_path: Path):
    """The index keeps every article's id across builds (a removed one leaves a gap that
    a full build closes), so after a removal its files differ from a full build's in the
    ids alone: every other file is the same, and so is every answer."""
    config, out, _report = sample
    next(config.archive.glob("articles/bbc/*/*/*.md")).unlink()
    write_article(config.archive, "voa", 30, "总统会晤外长", "<p>总统会晤来访外长。</p>")
    build(config, out, page_size=3)
    fresh = tmp_path / "fresh"
    build(config, fresh, page_size=3)
    ours, full = site_tree(out), site_tree(fresh)
    assert {p: d for p, d in ours.items() if not p.startswith("search/")} \
        == {p: d for p, d in full.items() if not p.startswith("search/")}
    for query in ("会晤", "trade", "天气", "台湾"):
        assert search(out, query) == search(fresh, query)


def test_after_removals_and_an_older_article_the_pages_equal_a_full_build(sample, tmp_path: Path):
    """A source's every article removed, another's newest removed and one added older
    than all the others (so every page of that source moves): every page, feed and file
    but the search ids is the full build's, and every answer is the same."""
    config, out, _report = sample
    for victim in config.archive.glob("articles/bbc/*/*/*.md"):
        victim.unlink()
    next(config.archive.glob("articles/voa/*/*/*.md")).unlink()
    write_article(config.archive, "voa", -5, "更早的会晤", "<p>更早的一次会晤。</p>")
    report = build(config, out, page_size=3)
    assert "sources/voa/1.html" in report.written and not (out / "sources/bbc").exists()
    fresh = tmp_path / "fresh"
    build(config, fresh, page_size=3)
    ours, full = site_tree(out), site_tree(fresh)
    assert {p: d for p, d in ours.items() if not p.startswith("search/")} \
        == {p: d for p, d in full.items() if not p.startswith("search/")}
    for query in ("会晤", "trade", "天气", "台湾", "更早"):
        assert search(out, query) == search(fresh, query)


def test_a_site_an_older_version_built_is_taken_over(sample, tmp_path: Path):
    """A folder built with the JSON manifest of every file: the first build with the state
    is a full one, removes what that manifest listed and no build makes any more, keeps
    what it never listed, and drops the old manifest."""
    config, out, _report = sample
    (out / MANIFEST).unlink()
    (out / "sources/voa/9.html").write_text("an old page", encoding="utf-8")
    (out / "notes.txt").write_text("the owner's", encoding="utf-8")
    (out / LEGACY_MANIFEST).write_text(json.dumps(
        {"format": 1, "files": {"sources/voa/9.html": "k", "index.html": "k"}}), encoding="utf-8")
    report = build(config, out, page_size=3)
    assert report.full_index and report.removed == ["sources/voa/9.html"]
    assert (out / "notes.txt").is_file() and not (out / LEGACY_MANIFEST).exists()
    (out / "notes.txt").unlink()
    fresh = tmp_path / "fresh"
    build(config, fresh, page_size=3)
    assert site_tree(out) == site_tree(fresh)


def test_search_ids_given_in_batches_are_those_given_at_once(sample, tmp_path: Path, monkeypatch):
    """A full build numbers the articles batch by batch (it keeps no list of them all):
    the ids, and so the whole site, are the same as in one batch; ties in time go by path."""
    import newsmirror.publish.site as site

    config, _out, _report = sample
    for n in range(3):  # three more at the same minute as one already there
        write_article(config.archive, "bbc", 2, f"同一时刻{n}", f"<p>同时{n}。</p>")
    at_once = tmp_path / "at_once"
    build(config, at_once, page_size=3)
    monkeypatch.setattr(site, "NUMBER_BATCH", 2)
    batched = tmp_path / "batched"
    build(config, batched, page_size=3)
    assert site_tree(batched) == site_tree(at_once)
    assert search(batched, "同时") == {f"同一时刻{n}" for n in range(3)}


@pytest.mark.parametrize("state", [None, b"{not json", b'{"format": 0, "files": {}}'])
def test_a_missing_or_damaged_manifest_means_a_full_build(sample, tmp_path: Path, state):
    """Without a manifest it can trust (gone, unreadable, another format) the build starts
    over and still makes the site a full build makes."""
    config, out, _report = sample
    write_article(config.archive, "voa", 20, "新闻第20条", "<p>正文20。</p>")
    if state is None:
        (out / MANIFEST).unlink()
    else:
        (out / MANIFEST).write_bytes(state)
    report = build(config, out, page_size=3)
    assert report.full_index
    fresh = tmp_path / "fresh"
    build(config, fresh, page_size=3)
    assert site_tree(out) == site_tree(fresh)


def test_a_report_names_the_first_files_written_and_counts_them_all():
    """A full build of a large archive writes hundreds of thousands of files: the report
    lists the first WRITTEN_LISTED (for --verbose) and counts every one, so a build's
    memory does not grow with the files it writes."""
    from newsmirror.publish.site import WRITTEN_LISTED, SiteReport

    report = SiteReport(out_dir=Path("site"))
    for n in range(WRITTEN_LISTED + 5):
        report.wrote(f"articles/a/{n}.html" if n % 2 else f"search/0/{n:02x}.js")
    assert report.files_written == WRITTEN_LISTED + 5 and len(report.written) == WRITTEN_LISTED
    assert report.pages_count == (WRITTEN_LISTED + 5) // 2
    assert report.index_files_count == WRITTEN_LISTED + 5 - report.pages_count


def _script_sources(page: str) -> list[str]:
    """The script-src of a page's Content-Security-Policy."""
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy, page[:400]
    directive = next(d for d in policy.group(1).split(";") if d.split()[0] == "script-src")
    return directive.split()[1:]


@pytest.mark.parametrize(("site_url", "shard_site", "allowed"), [
    # `[site] url` at the root of its own host: the shards' sites are GitHub Pages' (another
    # origin), which the search page must be allowed to load scripts from.
    ("https://news.example.org/", "https://someone.github.io/news-2027/",
     ["'self'", "https://someone.github.io"]),
    # `[site] url` in a folder: each shard's site is a sibling folder on the same host, which
    # is named too: the page may be read from another ('self' is then a mirror's host, the
    # address of `newsmirror serve` or a folder on disk).
    ("https://news.example.org/mirror/", "https://news.example.org/mirror-2027/",
     ["'self'", "https://news.example.org"]),
])
def test_the_search_page_may_load_the_search_files_of_the_shards_sites(tmp_path, site_url, shard_site, allowed):
    config = parse_config(
        {"archive": {"path": "archive", "title": "新闻镜像测试", "remote": "https://github.com/someone/news.git"},
         "site": {"url": site_url},
         "sources": [{"slug": "voa", "name": "美国之音", "url": "https://example.com/voa.xml"}]},
        file="t.toml", base=tmp_path)
    for sample in SAMPLES[:2]:
        write_article(config.archive, *sample)
    (config.archive / "shards.json").write_text('{"first_year": 2027, "shards": [{"year": 2027}]}', "utf-8")
    out = tmp_path / "site"
    build(config, out)
    meta = ix.read_script_file((out / "search/meta.js").read_bytes())
    assert meta["parts"] == [{"year": "2027", "url": shard_site}]
    assert _script_sources((out / "search.html").read_text("utf-8")) == allowed
    # Only the search page loads other sites' files; every other page stays at 'self'.
    assert _script_sources((out / "index.html").read_text("utf-8")) == ["'self'"]
