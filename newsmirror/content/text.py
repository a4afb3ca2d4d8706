"""The plain text of HTML: the one reading of an article's text that extraction (is the
page long enough, which body is more plausible), watch (did the page change) and the
adoption of older mirrors (is the old file the same article) share."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import lxml.html

DROP_WITH_CONTENT = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "form", "button",
    "select", "textarea", "input", "svg", "canvas", "nav"})
"""Elements whose text is no part of what a reader reads."""
BLOCKS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "figure",
    "figcaption", "pre", "table", "tr", "dl", "dt", "dd", "hr", "div", "section", "article",
    "header", "footer", "main", "aside", "body", "html"})
"""Elements that start a line of their own."""

_INLINE_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_ANY_SPACE = re.compile(r"\s+")


def html_text(html: str) -> str:
    """Plain text of an HTML fragment, one line per block, blank lines dropped."""
    if not html or not html.strip():
        return ""
    import lxml.html  # imported when first used: the jobs that import this start without it
    from lxml import etree

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    return element_text(root)


def element_text(root: lxml.html.HtmlElement) -> str:
    """Text of a parsed element with a line break around each block element."""
    chunks: list[str] = []

    def walk(el: lxml.html.HtmlElement) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if tag in DROP_WITH_CONTENT:
            chunks.append(el.tail or "")
            return
        block = tag in BLOCKS or tag == "br"
        if block:
            chunks.append("\n")
        if isinstance(el.tag, str):
            chunks.append(el.text or "")
            for child in el:
                walk(child)
        if block:
            chunks.append("\n")
        chunks.append(el.tail or "")

    chunks.append(root.text or "")
    for child in root:
        walk(child)
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in "".join(chunks).split("\n"))
    return "\n".join(line for line in lines if line)


def one_line(text: str | None) -> str | None:
    """`text` with each run of white space folded to one space and trimmed; None when
    nothing is left: a title or meta value as a page states it, on one line."""
    text = _ANY_SPACE.sub(" ", text or "").strip()
    return text or None


def squashed(text: str) -> str:
    """`text` with every white space removed: what comparisons and lengths of Chinese
    text count, where spaces and line breaks are layout, not content."""
    return _ANY_SPACE.sub("", text)


def page_text(html: str) -> str:
    """The text of a body, white space removed: what 'the page changed' and 'the same
    article' compare."""
    return squashed(html_text(html))
