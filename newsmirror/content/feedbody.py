"""What a source may ask to be done to an article body before the content stage
(transform.py): put the feed's lead image back when the body has none, give a plain-text
feed body its paragraphs, fill the placeholders a site's page script fills in its image
addresses.

Every step is a per-source setting that is off unless the source asks for it (the bundled
sources do), so a hand-written source's articles stay exactly as the feed gave them.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass

from newsmirror.content.markup import Edit, Tag, Text, apply_edits, set_attr, tokenize
from newsmirror.models import FeedImage, FeedItem


@dataclass(frozen=True)
class BodySettings:
    """A source's body settings; the defaults change nothing."""

    feed_images: bool = False
    """When the body has no image, lead it with the first image the feed gives outside the
    body (media:content, media:thumbnail, an image enclosure)."""
    text_paragraphs: bool = False
    """A feed body that is plain text (no markup at all) becomes one <p> per line."""
    image_placeholders: tuple[tuple[str, str], ...] = ()
    """(name, value): ``${name}`` in an image address becomes `value`, as the site's own
    page script does it (DW: ``${formatId}``)."""


def prepare_body(body: str, item: FeedItem, settings: BodySettings, *, from_feed: bool = True) -> str:
    """`body` (the feed's, or the page's when `from_feed` is False) with what `settings`
    ask for done to it."""
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
                value = pattern.sub(lambda _m, r=replacement: r, value)
            if value != attr.value:
                edits.append(set_attr(token, name, value))
    return apply_edits(html, edits)
