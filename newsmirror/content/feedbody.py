"""What a source may ask to be done to an article body before the content stage
(transform.py): put the feed's lead image back when the body has none.

Every step is a per-source setting that is off unless the source asks for it (the bundled
sources do), so a hand-written source's articles stay exactly as the feed gave them.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass

from newsmirror.content.markup import Tag, tokenize
from newsmirror.models import FeedImage, FeedItem


@dataclass(frozen=True)
class BodySettings:
    """A source's body settings; the defaults change nothing."""

    feed_images: bool = False
    """When the body has no image, lead it with the first image the feed gives outside the
    body (media:content, media:thumbnail, an image enclosure)."""


def prepare_body(body: str, item: FeedItem, settings: BodySettings) -> str:
    """`body` (the feed's or the page's) with what `settings` ask for done to it."""
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
