"""What "fastfeedparser and feedparser read a document the same way" means here."""

from __future__ import annotations

from newsmirror.models import FeedItem, ParsedFeed


def item_differences(fast: FeedItem, thorough: FeedItem) -> list[str]:
    """Fields on which the two readings of one item differ, beyond the known divergences.

    Known, tolerated: fastfeedparser fills a missing guid with the link (parse_feed
    undoes it only when the whole document has no guid), and feedparser takes an
    Atom id / RSS guid as the link when there is no link element.
    """
    differences = [
        name
        for name in ("title", "content_html", "has_full_content", "published_ms")
        if getattr(fast, name) != getattr(thorough, name)
    ]
    if fast.guid != thorough.guid and not (thorough.guid is None and fast.guid == fast.link):
        differences.append("guid")
    if fast.link != thorough.link and not (fast.link is None and thorough.link == thorough.guid):
        differences.append("link")
    return differences


def feed_differences(fast: ParsedFeed, thorough: ParsedFeed) -> list[str]:
    if len(fast.items) != len(thorough.items):
        return [f"item count {len(fast.items)} != {len(thorough.items)}"]
    differences = ["title"] if fast.title != thorough.title else []
    for index, (a, b) in enumerate(zip(fast.items, thorough.items)):
        differences += [f"items[{index}].{name}: {getattr(a, name)!r} != {getattr(b, name)!r}" for name in item_differences(a, b)]
    return differences
