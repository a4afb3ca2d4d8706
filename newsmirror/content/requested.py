"""Extracting a page archived on request: title, publication time and body.

Pages people ask to archive are mostly WeChat public-account articles, Zhihu columns and
Matters posts, which often vanish after publication; each gets its own reader. Every other
page goes through the generic `extract_article` (with the site's CSS rule when one is
bundled). The page's og:title, article:published_time and JSON-LD datePublished
fill in whatever a reader did not find.

Everything here is pure: HTML text and URL in, `RequestedPage` out (or ExtractionError).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import lxml.html
from lxml import etree

from newsmirror.content.extract import (
    ExtractionError, declared_facts, extract_article, realize_lazy_images,
)
from newsmirror.content.text import html_text, one_line
from newsmirror.dates import page_date_ms


# What WeChat shows instead of an article it no longer serves (status is still 200).
WECHAT_GONE = ("该内容已被发布者删除", "此内容因违规无法查看", "此内容被多人投诉",
               "该公众号已迁移", "内容已被删除")
WECHAT_CAPTCHA = ("环境异常", "完成验证后即可继续访问")


@dataclass(frozen=True)
class RequestedPage:
    title: str | None
    published_ms: int | None
    body_html: str
    method: str
    """"wechat", "zhihu", "matters", or extract_article's "selector" / "trafilatura" /
    "readability"."""


# -- page helpers -----------------------------------------------------------------------
def _first_text(doc: lxml.html.HtmlElement, *selectors: str) -> str | None:
    for selector in selectors:
        for element in doc.cssselect(selector):
            if text := one_line(element.text_content()):
                return text
    return None


def _body(doc: lxml.html.HtmlElement, selectors: Sequence[str], url: str,
          drop: Sequence[str] = ()) -> str | None:
    """The inner HTML of the first element matching one of `selectors`, lazy images made
    real, scripts and `drop` removed, addresses absolute; None when nothing matches or it
    holds neither text nor images."""
    for selector in selectors:
        found = doc.cssselect(selector)
        if not found:
            continue
        element = found[0]
        realize_lazy_images(element)  # as the generic extractor does
        for doomed in element.cssselect(", ".join(("script", "style", "noscript", *drop))):
            doomed.drop_tree()
        element.attrib.pop("style", None)
        element.make_links_absolute(url, handle_failures="discard")
        inner = (element.text or "") + "".join(
            lxml.html.tostring(child, encoding="unicode") for child in element)
        if html_text(inner) or "<img" in inner:
            return inner.strip()
    return None


# -- the site readers -------------------------------------------------------------------
def _wechat(doc: lxml.html.HtmlElement, html: str, url: str) -> RequestedPage | None:
    text = html_text(lxml.html.tostring(doc.body, encoding="unicode")) if doc.body is not None else ""
    body = _body(doc, ["#js_content", ".rich_media_content"], url)
    if body is None:
        for words in WECHAT_GONE:
            if words in text:
                raise ExtractionError(f"WeChat no longer shows this article: {words}")
        if any(words in text for words in WECHAT_CAPTCHA):
            raise ExtractionError("WeChat asked for a captcha instead of the article (环境异常)")
        return None
    stamp = re.search(r"""\b(?:var\s+)?(?:ct|create_time)\s*=\s*["']?(\d{9,13})["']?""", html)
    return RequestedPage(
        title=_first_text(doc, "#activity-name", ".rich_media_title")
        or one_line(_js_string(html, "msg_title")),
        published_ms=page_date_ms(stamp.group(1)) if stamp else None,
        body_html=body, method="wechat")


def _js_string(html: str, name: str) -> str | None:
    match = re.search(rf"""\bvar\s+{name}\s*=\s*(['"])(.*?)\1""", html)
    return match.group(2) if match else None


def _zhihu(doc: lxml.html.HtmlElement, html: str, url: str) -> RequestedPage | None:
    body = _body(doc, [".Post-RichText", ".RichText"], url)
    if body is None:
        return None
    published = None
    if when := _first_text(doc, ".ContentItem-time"):
        published = page_date_ms(when)
    if published is None:
        published = _zhihu_created(doc, url)
    return RequestedPage(
        title=_first_text(doc, "h1.Post-Title", ".Post-Title"),
        published_ms=published, body_html=body, method="zhihu")


def _zhihu_created(doc: lxml.html.HtmlElement, url: str) -> int | None:
    """The `created` time of this article in the page's initial-state JSON."""
    scripts = doc.xpath('//script[@id="js-initialData"]/text()')
    try:
        data = json.loads(scripts[0]) if scripts else None
    except ValueError:
        return None
    articles = (((data or {}).get("initialState") or {}).get("entities") or {}).get("articles") or {}
    wanted = re.search(r"/p/(\d+)", url)
    for key, article in articles.items():
        if isinstance(article, dict) and (wanted is None or key == wanted.group(1)):
            return page_date_ms(article.get("created") or article.get("publishedTime"))
    return None


def _matters(doc: lxml.html.HtmlElement, html: str, url: str) -> RequestedPage | None:
    body = _body(doc, [".u-content-article", "article .u-content", "article section.content",
                       "article"], url, drop=("header", "footer", "nav", "aside", "h1"))
    if body is None:
        return None
    facts = declared_facts(doc)
    published = facts.published_ms
    if published is None and (times := doc.xpath("//article//time/@datetime")):
        published = page_date_ms(times[0])
    return RequestedPage(
        title=facts.title or _first_text(doc, "article h1", "h1"),
        published_ms=published, body_html=body, method="matters")


Reader = Callable[[lxml.html.HtmlElement, str, str], "RequestedPage | None"]
SITE_READERS: tuple[tuple[tuple[str, ...], Reader], ...] = (
    (("mp.weixin.qq.com",), _wechat),
    (("zhuanlan.zhihu.com",), _zhihu),
    (("matters.town", "matters.news"), _matters),
)


def reader_for(url: str) -> tuple[str, Reader] | None:
    """The site reader for `url` (name, function), by host and its parent domains."""
    match = re.match(r"https?://([^/:?#]+)", url, re.I)
    host = match.group(1).lower() if match else ""
    for hosts, reader in SITE_READERS:
        if any(host == h or host.endswith("." + h) for h in hosts):
            return reader.__name__.lstrip("_"), reader
    return None


def extract_requested(html: str, url: str, *, selector: str | None = None,
                      remove: Sequence[str] = ()) -> RequestedPage:
    """Title, time and body of the page `html` fetched from `url`.

    A site reader (WeChat, Zhihu, Matters) goes first; when it does not apply or finds
    no body, `extract_article` does the work with `selector`/`remove` (a site rule).
    A missing title or time comes from the page's meta tags and JSON-LD.
    Raises ExtractionError when no body is found (or WeChat says the article is gone).
    """
    if not html or not html.strip():
        raise ExtractionError("empty page")
    try:
        doc = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", html))
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable page: {exc}") from exc
    facts = declared_facts(doc)
    page = None
    if found := reader_for(url):
        page = found[1](doc, html, url)
    if page is None:
        generic = extract_article(html, url, selector=selector, remove=remove)
        page = RequestedPage(generic.title, generic.published_ms, generic.body_html,
                             generic.method)
    return replace(page, title=page.title or facts.title,
                   published_ms=page.published_ms if page.published_ms is not None
                   else facts.published_ms)


def removal_notice(html: str, url: str) -> str | None:
    """The words of a page that says its article was deleted while answering 200 (WeChat),
    or None."""
    reader = reader_for(url)
    if reader is None or reader[0] != "wechat":
        return None
    try:
        extract_requested(html, url)
    except ExtractionError as err:
        if err.reason.startswith("WeChat no longer shows"):
            return err.reason
    return None
