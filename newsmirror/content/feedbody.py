"""What a source may ask to be done to an article body before the content stage
(transform.py): clean a feed body with the site's rules (share blocks, promos, empty
paragraphs), put the feed's lead image back when the body has none, give a plain-text
feed body its paragraphs, fill the placeholders a site's page script fills in its image
addresses.

Every step is a per-source setting that is off unless the source asks for it (the bundled
sources do), so a hand-written source's articles stay exactly as the feed gave them.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from newsmirror.content.markup import Edit, Tag, Text, apply_edits, set_attr, tokenize
from newsmirror.models import FeedImage, FeedItem

if TYPE_CHECKING:
    from newsmirror.content.siterules import SiteRule


@dataclass(frozen=True)
class BodySettings:
    """A source's body settings; the defaults change nothing."""

    feed_images: bool = False
    """When the body has no image, lead it with the first image the feed gives outside the
    body (media:content, media:thumbnail, an image enclosure)."""
    text_paragraphs: bool = False
    """A feed body that is plain text (no markup at all) becomes one <p> per line."""
    clean_feed: bool = False
    """Drop from a feed body what the site's rule (and the source's own `remove`) drops
    from its pages, the blocks its `remove_text` matches, and empty paragraphs."""
    remove: tuple[str, ...] = ()
    """The source's own `remove` selectors, for `clean_feed`."""
    image_placeholders: tuple[tuple[str, str], ...] = ()
    """(name, value): ``${name}`` in an image address becomes `value`, as the site's own
    page script does it (DW: ``${formatId}``)."""


def prepare_body(body: str, item: FeedItem, settings: BodySettings, *, from_feed: bool = True,
                 rule: SiteRule | None = None) -> str:
    """`body` (the feed's, or the page's when `from_feed` is False) with what `settings`
    ask for done to it; `rule` is the site rule for the item's link, if any."""
    if from_feed and settings.clean_feed:
        body = strip_boilerplate(body, remove=(*(rule.remove if rule else ()), *settings.remove),
                                 texts=rule.remove_text if rule else (), empty_paragraphs=True)
    if from_feed and settings.text_paragraphs:
        body = text_paragraphs(body)
    if settings.image_placeholders:
        body = fill_placeholders(body, settings.image_placeholders)
    if settings.feed_images and item.images and not has_image(body):
        body = lead_image(item.images[0]) + body
    return body


def has_image(html: str) -> bool:
    """Whether `html` has an <img> (or <picture>) tag anywhere."""
    return any(isinstance(token, Tag) and not token.closing and token.name in ("img", "picture")
               for token in tokenize(html))


def lead_image(image: FeedImage) -> str:
    """One figure: the image, and its caption when the feed gave one."""
    src = html_lib.escape(image.url, quote=True)
    caption = (f"<figcaption>{html_lib.escape(image.caption, quote=False)}</figcaption>"
               if image.caption else "")
    return f'<figure><img src="{src}">{caption}</figure>'


_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029]|&#(?:13|10|x0*[aAdD]);")
_TRIM = " \t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff"


def text_paragraphs(html: str) -> str:
    """Plain text broken into lines (``\r\n``, ``\n``, ``\r``; a blank line is a break like
    any other) as one ``<p>`` per non-empty line; `html` unchanged when it has any markup
    (a tag, a comment) or no line break between two lines of text. The text is HTML
    already (character references stay as they are)."""
    if not html or any(not isinstance(token, Text) for token in tokenize(html)):
        return html
    lines = [line.strip(_TRIM) for line in _LINE_BREAKS.split(html)]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        return html
    return "".join(f"<p>{line}</p>" for line in lines)


_IMAGE_TAGS = frozenset({"img", "source"})
_IMAGE_ATTRS = ("src", "srcset", "data-src", "data-srcset", "data-original")


def fill_placeholders(html: str, values: tuple[tuple[str, str], ...]) -> str:
    """`html` with ``${name}`` (also percent-encoded, ``$%7Bname%7D``, as an address that
    went through a URL parser has it) replaced by its value in the addresses of <img> and
    <source> tags; every other byte as it was."""
    patterns = [(re.compile(r"\$(?:\{|%7[bB])" + re.escape(name) + r"(?:\}|%7[dD])"), value)
                for name, value in values]
    edits: list[Edit] = []
    for token in tokenize(html):
        if not isinstance(token, Tag) or token.closing or token.name not in _IMAGE_TAGS:
            continue
        for name in _IMAGE_ATTRS:
            attr = token.attr(name)
            if attr is None or not attr.value or "$" not in attr.value:
                continue
            value = attr.value
            for pattern, replacement in patterns:
                value = pattern.sub(replacement.replace("\\", "\\\\"), value)
            if value != attr.value:
                edits.append(set_attr(token, name, value))
    return apply_edits(html, edits)


_BLOCKS = ("p", "div", "section", "aside", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul",
           "ol", "blockquote", "header", "footer", "figcaption", "span", "strong", "em", "b")
_FOLD = re.compile(r"\s+")


def strip_boilerplate(html: str, *, remove: tuple[str, ...] = (), texts: tuple[str, ...] = (),
                      empty_paragraphs: bool = False) -> str:
    """`html` without the elements `remove` selects, the blocks whose whole text (white
    space folded) matches one of `texts`, and (`empty_paragraphs`) paragraphs with no text
    and no image. When nothing is dropped `html` comes back byte for byte; otherwise the
    fragment is written out again by lxml."""
    if not html.strip() or not (remove or texts or empty_paragraphs):
        return html
    import lxml.html
    from lxml import etree

    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return html
    doomed: list[lxml.html.HtmlElement] = []
    for selector in remove:
        doomed.extend(el for el in root.cssselect(selector) if el is not root)
    patterns = [re.compile(text) for text in texts]
    for el in root.iter(*_BLOCKS) if patterns else ():
        if el is not root and any(p.fullmatch(_FOLD.sub(" ", el.text_content()).strip())
                                  for p in patterns):
            doomed.append(el)
    if empty_paragraphs:
        for el in root.iter("p"):
            if not el.text_content().strip() and not any(
                    child.tag in ("img", "picture", "video", "audio", "iframe", "svg")
                    for child in el.iter() if isinstance(child.tag, str)):
                doomed.append(el)
    from newsmirror.content.extract import drop_keep_tail  # with lxml.html: not at start-up

    dropped = False
    for el in doomed:
        if el.getparent() is not None and _attached(el, root):
            drop_keep_tail(el, blank_tail=False)
            dropped = True
    if not dropped:
        return html
    return (root.text or "") + "".join(
        lxml.html.tostring(child, encoding="unicode", method="html") for child in root)


def _attached(el, root) -> bool:
    return any(ancestor is root for ancestor in el.iterancestors())
