"""Full-text extraction of an article body from its web page.

Three methods, tried in order:

* ``selector`` — a site rule's CSS selector (minus its ``remove`` selectors);
* ``trafilatura`` — the generic extractor, images and links kept;
* ``readability`` — readability-lxml, a second opinion when trafilatura finds
  too little; the more plausible of the two bodies wins.

Before any of them the page is prepared: lazy-loaded images get their real
``src`` and relative URLs are made absolute.  The body is returned as simple
HTML (paragraphs, headings, lists, quotes, figures, images, links) plus its
plain text.  trafilatura and readability are imported lazily.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import lxml.html
from lxml import etree

from newsmirror.dates import page_date_ms
from newsmirror.content.text import BLOCKS, DROP_WITH_CONTENT, html_text, one_line, squashed
from newsmirror.content.feedbody import strip_boilerplate
from newsmirror.errors import NewsmirrorError

if TYPE_CHECKING:
    from newsmirror.content.siterules import SiteRule

__all__ = ["Extracted", "ExtractionError", "extract_article", "needs_page"]

#: A readability body this long, found inside trafilatura's, is preferred to it.
MIN_CONTAINED_CHARS = 100
#: A line at least this long reads as prose rather than as a title in a list.
PROSE_LINE_CHARS = 40
#: A generic extraction with less text than this (and no image) is no article.
MIN_ARTICLE_CHARS = 20


@dataclass(frozen=True)
class Extracted:
    """An article body extracted from a page."""

    title: str | None
    body_html: str
    published_ms: int | None
    method: str  # "selector", "trafilatura" or "readability"


class ExtractionError(NewsmirrorError):
    """No article body could be found on the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------
# public functions


def extract_page(html: str, url: str, *, selector: str | None, remove: Sequence[str],
                 rule: SiteRule | None) -> str:
    """The body of an article's own page as the mirror archives it (and watch reads it
    again): the source's selector when it has one, else the site rule's, whose `remove`
    selectors join the source's and whose `remove_text` blocks are dropped. Raises
    ExtractionError."""
    texts: tuple[str, ...] = ()
    if not selector and rule:
        selector, remove = rule.selector, tuple(rule.remove) + tuple(remove)
        texts = rule.remove_text
    body = extract_article(html, url, selector=selector, remove=tuple(remove)).body_html
    return strip_boilerplate(body, texts=texts) if texts else body


def extract_article(
    html: str,
    url: str,
    *,
    selector: str | None = None,
    remove: Sequence[str] = (),
) -> Extracted:
    """Extract the article body of the page ``html`` fetched from ``url``."""
    if not html or not html.strip():
        raise ExtractionError("empty page")
    doc = _prepare(html, url)
    if doc.find("body") is None:
        # A meta-refresh stub, a frameset or a response cut off inside <head>: nothing
        # to extract (and the extractors' output would be a document without a body).
        raise ExtractionError("no body: the page has no <body>")
    title, published_ms = _metadata(doc)

    if selector:
        body = _by_selector(doc, selector, remove)
        if body is not None:
            return _result(title, body, published_ms, "selector")

    traf = _by_trafilatura(doc, url)
    read = _by_readability(doc, url)
    best = _choose(traf, read)
    if best is None:
        raise ExtractionError("no article body found")
    method, body = best
    return _result(title, body, published_ms, method)


def needs_page(feed_html: str, *, min_chars: int = 500) -> bool:
    """True when the feed's content is too short (in text characters) to stand
    for the whole article, so the article page should be fetched."""
    return len(html_text(feed_html or "")) < min_chars


# ---------------------------------------------------------------------------
# page preparation

_LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-actualsrc", "data-url")
_PLACEHOLDER = re.compile(r"^data:|blank|placeholder|spacer|lazy|loading|pixel|grey\.|gray\.|1x1", re.I)


def _prepare(html: str, url: str) -> lxml.html.HtmlElement:
    # lxml rejects str input that carries an XML encoding declaration.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"unparseable page: {exc}") from exc
    realize_lazy_images(doc)
    _unhide_script_revealed(doc)
    try:
        doc.make_links_absolute(url, resolve_base_href=True, handle_failures="discard")
    except ValueError:
        pass
    return doc


_HIDDEN = re.compile(r"visibility\s*:\s*hidden|opacity\s*:\s*0(?![.\d])", re.I)


def _unhide_script_revealed(doc: lxml.html.HtmlElement) -> None:
    """Unhide large text blocks that the page's script would reveal (WeChat's
    ``#js_content`` is ``visibility: hidden`` until its script runs)."""
    for el in doc.xpath("//*[@style]"):
        if _HIDDEN.search(el.get("style", "")) and len(squashed(el.text_content())) >= 500:
            el.set("style", _HIDDEN.sub("", el.get("style", "")))


def realize_lazy_images(doc: lxml.html.HtmlElement) -> None:
    """Give lazy-loaded images their real ``src`` (in place)."""
    for noscript in list(doc.iter("noscript")):
        _unwrap_noscript(noscript)
    for img in doc.iter("img", "source"):
        real = next((img.get(a) for a in _LAZY_ATTRS if _usable(img.get(a))), None)
        srcset = img.get("data-srcset") or img.get("data-lazy-srcset")
        if srcset:
            img.set("srcset", srcset)
        if real is None and srcset and not _usable(img.get("src"), strict=True):
            real = _best_from_srcset(srcset)
        if real and img.tag == "img":
            img.set("src", real.strip())


def _unwrap_noscript(noscript: lxml.html.HtmlElement) -> None:
    """Replace a placeholder image by the ``<img>`` of the ``<noscript>`` after it."""
    inner = noscript.text_content() if len(noscript) == 0 else None
    if inner and "<img" in inner:  # parsed as text: parse it
        try:
            frag = lxml.html.fragment_fromstring(inner, create_parent="div")
        except (etree.ParserError, ValueError):
            return
        imgs = frag.findall(".//img")
    else:
        imgs = noscript.findall(".//img")
    if not imgs:
        return
    real = imgs[0]
    prev = noscript.getprevious()
    placeholder = None
    if prev is not None and prev.tag == "img":
        placeholder = prev
    elif prev is not None and len(prev) and prev[-1].tag == "img" and not (prev[-1].tail or "").strip():
        placeholder = prev[-1]
    if placeholder is not None:
        placeholder.getparent().replace(placeholder, copy.deepcopy(real))
        drop_keep_tail(noscript)
    else:
        new = copy.deepcopy(real)
        new.tail = noscript.tail
        noscript.getparent().replace(noscript, new)


def _usable(src: str | None, *, strict: bool = False) -> bool:
    if not src or not src.strip():
        return False
    if strict and _PLACEHOLDER.search(src):
        return False
    return not src.strip().startswith("data:")


def _best_from_srcset(srcset: str) -> str | None:
    """The widest candidate of a ``srcset`` value."""
    best, best_w = None, -1.0
    for part in srcset.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        width = 0.0
        if len(bits) > 1:
            m = re.match(r"([\d.]+)[wx]$", bits[1])
            width = float(m.group(1)) if m else 0.0
        if width > best_w:
            best, best_w = bits[0], width
    return best


def drop_keep_tail(el: lxml.html.HtmlElement, *, blank_tail: bool = True) -> None:
    """Remove `el` but keep the text that follows it (`blank_tail=False`: unless that text
    is only white space)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and (blank_tail or el.tail.strip()):
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


# ---------------------------------------------------------------------------
# the three methods


def _by_selector(doc: lxml.html.HtmlElement, selector: str, remove: Sequence[str]) -> str | None:
    """Body HTML of the elements matching ``selector``; None when nothing matches."""
    try:
        found = doc.cssselect(selector)
    except Exception as exc:  # cssselect raises its own SelectorError family
        raise ExtractionError(f"bad CSS selector {selector!r}: {exc}") from exc
    found = [el for el in found if not any(anc in found for anc in el.iterancestors())]
    if not found:
        return None
    parts = []
    for el in found:
        el = copy.deepcopy(el)
        for sel in (*remove, "script", "style", "noscript", "template"):
            try:
                doomed = el.cssselect(sel)
            except Exception as exc:
                raise ExtractionError(f"bad CSS selector {sel!r}: {exc}") from exc
            for d in doomed:
                if d is not el:
                    drop_keep_tail(d)
        parts.append(lxml.html.tostring(el, encoding="unicode"))
    body = _simplify("".join(parts))
    return body if html_text(body) or "<img" in body else None


def _by_trafilatura(doc: lxml.html.HtmlElement, url: str) -> str | None:
    import trafilatura

    try:
        out = trafilatura.extract(
            copy.deepcopy(doc),
            url=url,
            output_format="html",
            include_images=True,
            include_links=True,
            include_tables=True,
            include_comments=False,
            favor_precision=False,
            deduplicate=False,
            fast=True,
        )
    except Exception:  # trafilatura may fail on odd markup; readability gets a go
        return None
    if not out:
        return None
    body = _trim_teasers(_simplify(out))
    return body if html_text(body) else None


def _by_readability(doc: lxml.html.HtmlElement, url: str) -> str | None:
    from readability import Document

    try:
        page = lxml.html.tostring(doc, encoding="unicode")
        out = Document(page, url=url).summary(html_partial=True)
    except Exception:
        return None
    body = _trim_teasers(_simplify(out))
    return body if html_text(body) else None


def _choose(traf: str | None, read: str | None) -> tuple[str, str] | None:
    """Pick the more plausible of the trafilatura and readability bodies.

    On Chinese portal pages trafilatura often keeps the comments, "recommended"
    lists and footer around the article, while readability isolates the
    article node.  So when readability's text is (nearly) all inside
    trafilatura's and is not trivially short, the extra is boilerplate and
    readability wins; otherwise the body with the most non-link text wins.
    """
    traf = traf if traf and _plausible(traf) else None
    read = read if read and _plausible(read) else None
    if traf and read:
        read_text, traf_text = html_text(read), html_text(traf)
        if len(read_text) >= MIN_CONTAINED_CHARS and _containment(read_text, traf_text) >= 0.8:
            return "readability", read
    best, best_key = None, (0.0, 0.0)
    for method, body in (("trafilatura", traf), ("readability", read)):
        if not body:
            continue
        text = html_text(body)
        keep = 1.0 - _link_density(body)
        # paragraph-like lines count first: lists of teaser titles have none
        prose = sum(len(line) for line in text.split("\n") if len(line) >= PROSE_LINE_CHARS)
        key = (prose * keep, len(text) * keep)
        if key > best_key:
            best, best_key = (method, body), key
    return best


def _plausible(body: str) -> bool:
    """Could this be an article body at all (not a lone menu or link list)?"""
    text = html_text(body)
    if len(squashed(text)) < MIN_ARTICLE_CHARS and "<img" not in body:
        return False
    return _link_density(body) < 0.8


def _containment(inner: str, outer: str) -> float:
    """Share of ``inner``'s character trigrams (white space ignored) found in ``outer``."""
    a, b = _trigrams(inner), _trigrams(outer)
    if not a:
        return 0.0
    return sum((a & b).values()) / sum(a.values())


def _trigrams(text: str) -> Counter:
    s = squashed(text)
    return Counter(s[i:i + 3] for i in range(max(0, len(s) - 2)))


def _link_density(body: str) -> float:
    root = lxml.html.fragment_fromstring(body, create_parent="div")
    total = len(squashed(root.text_content()))
    if not total:
        return 1.0
    linked = sum(len(squashed(a.text_content())) for a in root.iter("a"))
    return min(1.0, linked / total)


# ---------------------------------------------------------------------------
# simple HTML

_KEEP = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
    "figure", "figcaption", "img", "a", "br", "hr", "strong", "b", "em", "i",
    "u", "sub", "sup", "code", "pre", "table", "thead", "tbody", "tr", "td", "th",
    "dl", "dt", "dd",
}
_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
_TRAFILATURA_TAGS = {"head": "h2", "list": "ul", "item": "li", "quote": "blockquote", "hi": "em",
                     "ref": "a", "graphic": "img", "lb": "br", "row": "tr", "cell": "td"}


def _simplify(html: str) -> str:
    """Reduce extractor output to the simple HTML vocabulary of ``body_html``."""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    body = root.find(".//body")
    if body is not None:
        root = body
    for el in list(root.iter()):
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el.getparent() is not None:
                drop_keep_tail(el)
            continue
        if el is root:
            continue
        tag = el.tag.lower()
        tag = _TRAFILATURA_TAGS.get(tag, tag)
        if tag in DROP_WITH_CONTENT:
            drop_keep_tail(el)
            continue
        if tag == "img" and not el.get("src") and el.get("source"):
            el.set("src", el.get("source"))
        if tag == "a" and not el.get("href") and el.get("target"):
            el.set("href", el.get("target"))
        el.tag = tag
        allowed = _ATTRS.get(tag, set())
        for name in list(el.attrib):
            if name not in allowed:
                del el.attrib[name]
        if tag == "img" and not _usable(el.get("src")):
            drop_keep_tail(el)
        elif tag == "a" and not (el.get("href") or "").startswith(("http://", "https://", "mailto:")):
            el.attrib.pop("href", None)
    # unwrap everything else (div, span, font, section …), blocks becoming <p> breaks
    for el in list(root.iter()):
        if el is root or not isinstance(el.tag, str):
            continue
        if el.tag not in _KEEP:
            if el.tag in BLOCKS:
                el.tag = "p" if _is_leaf_block(el) else "div"
                if el.tag == "p":
                    continue
            el.drop_tag()
    for el in list(root.iter("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "figcaption", "a", "strong", "em", "b", "i")):
        if el is not root and not squashed(el.text_content()) and el.find(".//img") is None:
            drop_keep_tail(el)
    parts = [root.text or ""] if (root.text or "").strip() else []
    parts.extend(lxml.html.tostring(child, encoding="unicode") for child in root)
    out = "".join(parts).strip()
    return re.sub(r"\n\s*\n+", "\n", out)


_DATE_ONLY = re.compile(r"^[\d\s:/.\-年月日时分前小天]+$")


def _trim_teasers(body: str) -> str:
    """Drop a trailing run of "related articles" teasers from a generic extraction.

    A teaser block is a date on its own, a short block with a link, a block
    that is mostly link, or an image between such blocks.  The run is only
    dropped when it holds at least two dates or links, so that an article
    ending in a picture keeps it.
    """
    if not body:
        return body
    root = lxml.html.fragment_fromstring(body, create_parent="div")
    children = list(root)
    cut, teasers = len(children), 0
    for i in range(len(children) - 1, -1, -1):
        el = children[i]
        text = squashed(el.text_content())
        if (el.tail or "").strip():
            break
        if el.tag == "img" or (not text and el.find(".//img") is not None):
            cut = i
            continue
        linked = sum(len(squashed(a.text_content())) for a in el.iter("a"))
        if _DATE_ONLY.match(text) or (linked and (len(text) <= 60 or linked * 2 >= len(text))):
            cut, teasers = i, teasers + 1
            continue
        break
    if teasers < 2:
        return body
    for el in children[cut:]:
        root.remove(el)
    parts = [root.text or ""] if (root.text or "").strip() else []
    parts.extend(lxml.html.tostring(child, encoding="unicode") for child in root)
    return "".join(parts).strip()


def _is_leaf_block(el: lxml.html.HtmlElement) -> bool:
    return not any(isinstance(c.tag, str) and (c.tag in BLOCKS or c.tag in {"p", "div"}) for c in el.iter() if c is not el)


def _result(title, body, published_ms, method) -> Extracted:
    return Extracted(title=title, body_html=body, published_ms=published_ms, method=method)


# ---------------------------------------------------------------------------
# metadata: title, date


def meta_content(doc: lxml.html.HtmlElement, *names: str) -> str | None:
    """The first non-empty content of a <meta> named (property, name or itemprop) by one of
    `names`, in the order given; white space folded."""
    for name in names:
        for element in doc.xpath("//meta[@property=$n or @name=$n or @itemprop=$n]", n=name):
            if value := one_line(element.get("content")):
                return value
    return None


def json_ld(doc: lxml.html.HtmlElement) -> list[dict]:
    """Every JSON object in the page's ld+json scripts, @graph members included, in
    document order."""
    found: list[dict] = []
    for script in doc.xpath('//script[@type="application/ld+json"]'):
        try:
            pending = [json.loads(script.text or "")]
        except ValueError:
            continue
        while pending:
            item = pending.pop(0)
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                found.append(item)
                pending.extend(v for k, v in item.items() if k == "@graph")
    return found


@dataclass(frozen=True)
class PageFacts:
    """What a page declares of itself in its meta tags and JSON-LD."""

    title: str | None
    published_ms: int | None


PUBLISHED_META = ("article:published_time", "og:published_time", "datePublished", "pubdate",
                  "publishdate", "dc.date.issued", "dc.date", "date", "ptime")
"""Meta tags that carry a page's publication time, most trusted first."""


def declared_facts(doc: lxml.html.HtmlElement) -> PageFacts:
    """Title and publication time as the page declares them: og:title / twitter:title or
    the JSON-LD headline; the first publication-time meta tag or JSON-LD datePublished
    that reads as a date."""
    ld = json_ld(doc)
    title = meta_content(doc, "og:title", "twitter:title") or one_line(_first(ld, "headline"))
    published = None
    for stamp in (*(meta_content(doc, name) for name in PUBLISHED_META),
                  *(item.get("datePublished") for item in ld)):
        if isinstance(stamp, (str, int, float)) and (published := page_date_ms(stamp)) is not None:
            break
    return PageFacts(title, published)


def _metadata(doc: lxml.html.HtmlElement) -> tuple[str | None, int | None]:
    """declared_facts, with the first heading or the <title> for a title and the first
    <time datetime> for a time where the page declares none."""
    facts = declared_facts(doc)
    title = facts.title
    if not title:
        for el in (doc.find(".//h1"), doc.find(".//title")):
            if el is not None and (title := one_line(el.text_content())):
                break
    published = facts.published_ms
    if published is None and (times := doc.xpath("//time[@datetime]")):
        published = page_date_ms(times[0].get("datetime"))
    return title, published


def _first(items: Iterable[dict], key: str) -> str | None:
    for item in items:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
