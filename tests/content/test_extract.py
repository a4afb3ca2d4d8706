"""Tests of full-text extraction and site rules (pure functions only)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from newsmirror.content.extract import ExtractionError, extract_article, needs_page
from newsmirror.content.siterules import SiteRule, SiteRulesError, load_rules, rules_for
from newsmirror.content.text import html_text

CORPUS = "chinese-news-pages"
PARA = "这是一段足够长的新闻正文，用来让提取器相信这里真的有一篇文章。" * 4


def page(body: str, head: str = "<title>标题</title>") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


# -- selector path ----------------------------------------------------------

def test_selector_takes_the_element_minus_removals():
    html = page(
        "<nav>首页 | 新闻</nav>"
        "<div class='story'><h2>小标题</h2><p>第一段。</p>"
        "<div class='share'>分享到微信</div><p>第二段。</p>"
        "<ul class='related'><li>相关文章</li></ul><script>var x = 1;</script></div>"
        "<footer>版权所有</footer>"
    )
    got = extract_article(html, "https://example.com/a/1.html", selector="div.story",
                          remove=(".share", ".related"))
    assert got.method == "selector"
    assert html_text(got.body_html) == "小标题\n第一段。\n第二段。"
    assert "<h2>小标题</h2>" in got.body_html and "<p>第一段。</p>" in got.body_html
    for junk in ("分享", "相关", "var x", "首页", "版权"):
        assert junk not in got.body_html


def test_selector_that_does_not_match_falls_back_to_generic_extraction():
    html = page(f"<article><p>{PARA}</p><p>{PARA}</p></article>")
    got = extract_article(html, "https://example.com/a", selector="div.nothing-here")
    assert got.method in ("trafilatura", "readability")
    assert PARA in html_text(got.body_html).replace("\n", "")


def test_bad_selector_raises_extraction_error():
    with pytest.raises(ExtractionError):
        extract_article(page("<p>x</p>"), "https://example.com/", selector="div[[")


# -- images and links -------------------------------------------------------

def test_lazy_images_are_made_real_and_urls_absolute():
    html = page(
        "<div class='body'>"
        "<p>正文<a href='/news/2.html'>链接</a></p>"
        "<img src='data:image/gif;base64,R0lGOD' data-src='/img/a.jpg' alt='甲'>"
        "<img class='lazy' src='/static/blank.gif' data-original='b.jpg' alt='乙'>"
        "<img data-lazy-src='//cdn.example.com/c.jpg'>"
        "<img src='/static/placeholder.png' data-srcset='/img/d-320.jpg 320w, /img/d-1024.jpg 1024w'>"
        "<img src='/static/grey.gif'><noscript><img src='/img/e.jpg' alt='戊'></noscript>"
        "</div>"
    )
    got = extract_article(html, "https://example.com/news/1.html", selector="div.body")
    srcs = re.findall(r'<img src="([^"]+)"', got.body_html)
    assert srcs == [
        "https://example.com/img/a.jpg",
        "https://example.com/news/b.jpg",
        "https://cdn.example.com/c.jpg",
        "https://example.com/img/d-1024.jpg",
        "https://example.com/img/e.jpg",
    ]
    assert 'alt="甲"' in got.body_html and 'alt="戊"' in got.body_html
    assert 'href="https://example.com/news/2.html"' in got.body_html


def test_generic_extraction_keeps_absolute_images():
    html = page(f"<nav><a href='/'>首页</a></nav><article><h1>标题</h1><p>{PARA}</p>"
                f"<figure><img data-src='pics/1.jpg' src='data:,'><figcaption>图片说明</figcaption></figure>"
                f"<p>{PARA}</p></article>")
    got = extract_article(html, "https://example.com/2024/a.html")
    assert "https://example.com/2024/pics/1.jpg" in got.body_html


# -- real pages from the shared corpus --------------------------------------

def _references(testdata_dir: Path) -> dict[str, dict]:
    text = (testdata_dir / CORPUS / "result.txt").read_text("utf-8")
    blocks = re.finditer(r"^>{3,}(.+?)>{3,}\s*$\n(.*?)^<{3,}\s*$", text, re.M | re.S)
    return {m.group(1).strip(): json.loads(m.group(2)) for m in blocks}


@pytest.mark.parametrize("key", [
    "tests/163/2.html", "tests/guancha/3.html", "tests/sina/sina.html",
    "tests/toutiao/3.html", "tests/ifeng/2.html",
])
def test_real_page_body_contains_reference_first_sentence(testdata_dir, key):
    ref = _references(testdata_dir)[key]
    html = (testdata_dir / CORPUS / key).read_bytes().decode("utf-8")
    got = extract_article(html, "https://news.example.com/a.html")
    first = re.split(r"[。！？\n]", ref["content"].strip())[0].strip()
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    assert squash(first) in squash(html_text(got.body_html))
    assert got.title and got.method in ("trafilatura", "readability")
    assert "网友评论仅供其表达个人看法" not in html_text(got.body_html)  # 163's comment box stays out
    assert "\n" in html_text(got.body_html) and not html_text(got.body_html).startswith(("\n", " "))


def test_real_page_date_is_read_from_meta(testdata_dir):
    html = (testdata_dir / CORPUS / "tests/163/2.html").read_bytes().decode("utf-8")
    got = extract_article(html, "https://news.163.com/19/0907/09/x.html")
    assert got.published_ms is not None and got.published_ms > 1_500_000_000_000


# -- no article -------------------------------------------------------------

def test_page_without_article_raises():
    with pytest.raises(ExtractionError):
        extract_article(page("<nav><a href='/'>首页</a></nav>"), "https://example.com/")
    with pytest.raises(ExtractionError):
        extract_article("", "https://example.com/")


# -- needs_page -------------------------------------------------------------

def test_needs_page_counts_text_not_markup():
    short = "<p>" + "<b style='color:red'>摘要</b>" * 50 + "</p>"  # 100 characters of text
    assert needs_page(short)
    assert not needs_page(short, min_chars=100)
    assert needs_page("")
    assert not needs_page("<p>" + "字" * 500 + "</p>")


# -- site rules -------------------------------------------------------------

@pytest.mark.parametrize("url,name", [
    ("https://www.voachinese.com/a/story-123.html", "voa"),
    ("https://www.bbc.com/zhongwen/simp/world-1", "bbc-zhongwen"),
    ("https://www.rfi.fr/cn/中国/20240101-x", "rfi-cn"),
    ("https://www.dw.com/zh/title/a-123", "dw-zh"),
    ("https://cn.nytimes.com/world/20240101/x/", "nytimes-cn"),
    ("https://www.rfa.org/mandarin/yataibaodao/x.html", "rfa-mandarin"),
    ("https://chinadigitaltimes.net/chinese/123.html", "chinadigitaltimes"),
    ("https://www.ftchinese.com/story/001100000", "ftchinese"),
])
def test_default_rules_match_bundled_outlets(url, name):
    rule = rules_for(url)
    assert rule is not None and rule.name == name and rule.selector


@pytest.mark.parametrize("url", [
    "https://www.bbc.com/news/world-1",       # wrong path prefix
    "https://www.rfa.org/english/x.html",
    "https://notvoachinese.com/a/1.html",     # suffix is not a subdomain
    "https://example.com/zhongwen/",
])
def test_rules_do_not_match_other_pages(url):
    assert rules_for(url) is None


def test_user_rules_merge_over_defaults(tmp_path):
    f = tmp_path / "rules.toml"
    f.write_text('[voa]\nhosts = ["voachinese.com"]\nselector = "div.new-body"\n'
                 '[mysite]\nhosts = ["example.org"]\npath_prefix = "/news"\n'
                 'selector = "article"\nremove = [".ad"]\n', "utf-8")
    rules = load_rules(f)
    assert rules_for("https://www.voachinese.com/a/1.html", rules).selector == "div.new-body"
    assert rules_for("https://example.org/news/1", rules) == SiteRule(
        "article", (".ad",), name="mysite", hosts=("example.org",), path_prefix="/news")
    assert rules_for("https://example.org/about", rules) is None
    assert rules_for("https://www.dw.com/zh/x", rules).name == "dw-zh"


@pytest.mark.parametrize("content,key,problem", [
    ('[a]\nhosts = ["x.com"]\n', "[a].selector", "required"),
    ('[a]\nhosts = []\nselector = "div"\n', "[a].hosts", "non-empty"),
    ('[a]\nhosts = ["https://x.com/"]\nselector = "div"\n', "[a].hosts", "bare host"),
    ('[a]\nhosts = ["x.com"]\nselector = "div[["\n', "[a].selector", "invalid CSS"),
    ('[a]\nhosts = ["x.com"]\nselector = "div"\nremove = ["ok", "p[["]\n', "[a].remove[1]", "invalid CSS"),
    ('[a]\nhosts = ["x.com"]\nselector = "div"\nselectr = "p"\n', "[a].selectr", "unknown key"),
    ('[a]\nhosts = ["x.com"]\nselector = "div"\npath_prefix = "news"\n', "[a].path_prefix", "'/'"),
    ('[a]\nhosts = ["x.com"]\nselector = "div"\nremove_text = ["ok", "(分享"]\n', "[a].remove_text[1]",
     "invalid regular expression"),
    ('[a]\nhosts = ["x.com"]\nselector = "div"\nremove_text = "分享"\n', "[a].remove_text",
     "list of regular expressions"),
    ('a = 1\n', "[a]", "must be a table"),
    ('[a\n', "", "not valid TOML"),
])
def test_invalid_rules_file_message_names_file_key_and_problem(tmp_path, content, key, problem):
    f = tmp_path / "bad.toml"
    f.write_text(content, "utf-8")
    with pytest.raises(SiteRulesError) as info:
        load_rules(f)
    message = str(info.value)
    assert str(f) in message and key in message and problem in message


def test_bundled_rules_file_is_valid():
    assert {r.name for r in load_rules()} >= {
        "voa", "bbc-zhongwen", "rfi-cn", "dw-zh", "nytimes-cn", "rfa-mandarin",
        "chinadigitaltimes", "ftchinese"}


def test_wechat_rule_extracts_the_article_generic_extractors_miss(testdata_dir):
    html = (testdata_dir / CORPUS / "tests/wechat/1.html").read_bytes().decode("utf-8")
    url = "https://mp.weixin.qq.com/s/abc"
    rule = rules_for(url)
    got = extract_article(html, url, selector=rule.selector, remove=rule.remove)
    assert got.method == "selector" and len(html_text(got.body_html)) > 1500
    assert html_text(got.body_html).startswith("今天凌晨，三星在美国旧金山举行发布会")
    assert got.body_html.count('<img src="https://mmbiz.qpic.cn/') >= 5


def test_metadata_from_meta_tags():
    head = ('<meta property="og:title" content="新闻标题">'
            '<meta property="article:published_time" content="2024-03-01T08:30:00+08:00">')
    got = extract_article(page(f"<article><p>{PARA}</p></article>", head), "https://example.com/a")
    assert got.title == "新闻标题"
    assert got.published_ms == 1709253000000  # 2024-03-01T00:30:00Z


# -- pages without a body ---------------------------------------------------

@pytest.mark.parametrize("html", [
    '<html><head><meta http-equiv="refresh" content="0; url=https://news.test/a"></head></html>',
    "<!DOCTYPE html><html><head><meta charset=utf-8><title>被截断的",  # cut off in <head>
    "<html><head><script>location.href = '/a'</script></head></html>",
    '<?xml version="1.0"?><html/>',
    "<html><frameset><frame src='/a'></frameset></html>",
])
def test_a_page_without_a_body_is_no_body_not_a_crash(html):
    for selector in (None, "div.story"):
        with pytest.raises(ExtractionError, match="no body"):
            extract_article(html, "https://news.test/a", selector=selector)


def test_a_rules_file_is_read_once_per_version_of_it(tmp_path: Path):
    """The configuration, the feed cleaning and the page fetcher share one parse; a file
    edited since (another size or time) is read again."""
    import os

    from newsmirror.content import siterules

    path = tmp_path / "rules.toml"
    path.write_text('[a]\nhosts = ["a.test"]\nselector = "div.a"\n', encoding="utf-8")
    first = load_rules(path)
    parsed = siterules._parse_file.cache_info().misses
    assert load_rules(path) == first and siterules._parse_file.cache_info().misses == parsed
    path.write_text('[a]\nhosts = ["a.test"]\nselector = "div.b, div.c"\n', encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert rules_for("https://a.test/x", load_rules(path)).selector == "div.b, div.c"
    path.unlink()
    with pytest.raises(SiteRulesError, match="cannot read site rules"):
        load_rules(path)
