"""Extraction of pages archived on request, on small pages shaped like the real sites."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.content.extract import ExtractionError
from newsmirror.content.text import html_text
from newsmirror.content.requested import (
    extract_requested, reader_for, removal_notice,
)

PAGES = Path(__file__).with_name("pages")


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_wechat_article() -> None:
    got = extract_requested(page("wechat.html"), "https://mp.weixin.qq.com/s/AbCdEf")
    assert got.method == "wechat"
    assert got.title == "县城里的最后一家书店"  # #activity-name wins over og:title
    assert got.published_ms == 1_700_000_000_000  # var ct = "…" (epoch seconds)
    assert 'src="https://mmbiz.qpic.cn/mmbiz_jpg/abc123/640?wx_fmt=jpeg"' in got.body_html
    assert "data:image/gif" not in got.body_html
    assert "console.log" not in got.body_html and "扫码关注" not in got.body_html
    assert html_text(got.body_html).startswith("老板说，这家书店开了二十三年")
    assert "学生放学后来这里写作业" in html_text(got.body_html)


def test_site_readers_find_lazy_images_as_the_generic_extractor_does() -> None:
    """data-src, data-lazy-src and data-srcset, and the <noscript> copy of a placeholder:
    the same rules for a WeChat or Zhihu page as for any other."""
    html = ('<html><body><h1 id="activity-name">标题</h1><div id="js_content"><p>正文。</p>'
            '<img data-src="https://mmbiz.qpic.cn/a.jpg">'
            '<img src="data:image/gif;base64,R0lG" data-lazy-src="https://mmbiz.qpic.cn/b.jpg">'
            '<img data-srcset="https://mmbiz.qpic.cn/c.jpg 2x">'
            '<img src="https://x.test/blank.gif"><noscript><img src="https://mmbiz.qpic.cn/d.jpg">'
            '</noscript></div></body></html>')
    body = extract_requested(html, "https://mp.weixin.qq.com/s/abc").body_html
    for name in ("a", "b", "d"):
        assert f'src="https://mmbiz.qpic.cn/{name}.jpg"' in body, (name, body)
    assert 'srcset="https://mmbiz.qpic.cn/c.jpg 2x"' in body and "<noscript" not in body


def test_wechat_deleted_article_is_an_error_and_a_removal_notice() -> None:
    with pytest.raises(ExtractionError, match="该内容已被发布者删除"):
        extract_requested(page("wechat_deleted.html"), "https://mp.weixin.qq.com/s/gone")
    assert "该内容已被发布者删除" in removal_notice(page("wechat_deleted.html"),
                                                 "https://mp.weixin.qq.com/s/gone")
    assert removal_notice(page("wechat.html"), "https://mp.weixin.qq.com/s/AbCdEf") is None
    assert removal_notice(page("wechat_deleted.html"), "https://example.com/s/gone") is None


def test_wechat_captcha_page_is_an_error() -> None:
    html = "<html><body><div>环境异常</div><p>完成验证后即可继续访问</p></body></html>"
    with pytest.raises(ExtractionError, match="captcha"):
        extract_requested(html, "https://mp.weixin.qq.com/s/x")


def test_zhihu_column() -> None:
    got = extract_requested(page("zhihu.html"), "https://zhuanlan.zhihu.com/p/640000001")
    assert got.method == "zhihu"
    assert got.title == "城中村的夏天"
    # "发布于 2023-07-15 21:30" is China time: 13:30 UTC.
    assert got.published_ms == 1_689_427_800_000
    assert 'src="https://pic1.zhimg.com/v2-aaa_r.jpg"' in got.body_html
    assert "社会学研究生" not in html_text(got.body_html)
    assert "一、谁住在这里" in html_text(got.body_html)


def test_zhihu_date_from_page_json() -> None:
    got = extract_requested(page("zhihu_json_date.html"), "https://zhuanlan.zhihu.com/p/640000001")
    assert got.published_ms == 1_689_427_800_000


def test_matters_post() -> None:
    for host in ("matters.town", "matters.news"):
        got = extract_requested(page("matters.html"), f"https://{host}/@chenliu/12345-slug")
        assert got.method == "matters"
        assert got.title == "在邊境小鎮等一場雨"
        assert got.published_ms == 1_709_864_100_000  # JSON-LD datePublished
        assert "小鎮在山的背面" in html_text(got.body_html) and "等待本身也是一種記錄" in html_text(got.body_html)
        assert "讚賞" not in html_text(got.body_html) and "搜尋" not in html_text(got.body_html)
        assert 'src="https://assets.matters.news/embed/rain.jpeg"' in got.body_html


def test_other_pages_use_generic_extraction_with_page_facts() -> None:
    got = extract_requested(page("generic.html"), "https://news.example.com/2024/02/river.html")
    assert got.method in ("trafilatura", "readability")
    assert got.title == "河流改道之后的村庄"
    assert got.published_ms == 1_706_745_600_000  # 2024-02-01T08:00+08:00
    assert "补偿款" in html_text(got.body_html) and "版权所有" not in html_text(got.body_html)
    assert "https://news.example.com/images/river.jpg" in got.body_html


def test_a_site_rule_selector_is_used_for_other_sites() -> None:
    got = extract_requested(page("generic.html"), "https://news.example.com/a.html",
                            selector="div.story-body", remove=("h1",))
    assert got.method == "selector"
    assert "河流改道之后的村庄" not in html_text(got.body_html) and html_text(got.body_html).startswith("去年夏天的洪水过后")


def test_site_reader_without_body_falls_back_to_generic() -> None:
    got = extract_requested(page("generic.html"), "https://zhuanlan.zhihu.com/p/1")
    assert got.method in ("trafilatura", "readability")
    assert got.title == "河流改道之后的村庄"


def test_reader_for_hosts() -> None:
    assert reader_for("https://mp.weixin.qq.com/s?__biz=x")[0] == "wechat"
    assert reader_for("https://zhuanlan.zhihu.com/p/1")[0] == "zhihu"
    assert reader_for("https://www.matters.town/@a/1")[0] == "matters"
    assert reader_for("https://notmatters.town/x") is None
    assert reader_for("https://www.zhihu.com/question/1") is None


def test_page_facts_fallbacks() -> None:
    import lxml.html

    from newsmirror.content.extract import declared_facts

    doc = lxml.html.document_fromstring(
        '<html><head><meta property="og:title" content=" 标题 ">'
        '<meta property="article:published_time" content="2024-01-02T03:04:05Z">'
        '<script type="application/ld+json">{"@type":"NewsArticle","author":["甲",{"name":"乙"}]}'
        "</script></head><body><p>x</p></body></html>")
    facts = declared_facts(doc)
    assert (facts.title, facts.published_ms) == ("标题", 1_704_164_645_000)
    # A stated time that does not read as a date gives way to the next one stated.
    doc = lxml.html.document_fromstring(
        '<html><head><meta property="article:published_time" content="昨天">'
        '<script type="application/ld+json">{"headline":" 两行\\n标题 ","datePublished":"2024-01-02 11:04"}'
        "</script></head><body><h1>别的</h1></body></html>")
    facts = declared_facts(doc)
    assert (facts.title, facts.published_ms) == ("两行 标题", 1_704_164_640_000)


def test_empty_page_is_an_error() -> None:
    with pytest.raises(ExtractionError):
        extract_requested("  ", "https://mp.weixin.qq.com/s/x")
