"""Which feed item is which: stable identity keys and browser-style link normalisation."""

from __future__ import annotations

import hashlib
import html
from collections import Counter

import ada_url

from newsmirror.models import FeedItem

KEY_HASH_LENGTH = 12


def normalise_link(link: str | None, base: str | None = None) -> str | None:
    """The link as a browser would write it (`new URL(link, base).href`); None when it is not
    a usable absolute http(s) URL."""
    if not link or not link.strip():
        return None
    link = link.strip()
    try:
        url = ada_url.URL(link, base) if base else ada_url.URL(link)
    except ValueError:
        return None
    if url.protocol not in ("http:", "https:"):
        return None
    return url.href


def _content_hash(item: FeedItem) -> str:
    # The title as parsers used to hand it over (entities undone, white space folded): an
    # item known by this hash keeps its identity now that titles come exactly as the feed
    # gives them, and two spellings of one title are one item.
    title = " ".join(html.unescape(item.title).split())
    text = f"{title}\n{item.content_html}".encode()
    return hashlib.sha256(text).hexdigest()[:32]


def base_key(item: FeedItem) -> str:
    """GUID, else normalised link, else a hash of title and content."""
    if item.guid and item.guid.strip():
        return "guid:" + item.guid.strip()
    link = normalise_link(item.link)
    if link:
        return "link:" + link
    return "hash:" + _content_hash(item)


def assign_keys(items: list[FeedItem] | tuple[FeedItem, ...]) -> list[str | None]:
    """Identity keys for one feed's items, in order.

    Items that share a GUID are told apart by their link (by their content when they have
    none). An item that repeats an earlier one (the same key after that) gets None: it is
    the same article listed twice and is archived once.
    """
    bases = [base_key(item) for item in items]
    shared = {key for key, count in Counter(bases).items() if count > 1 and key.startswith("guid:")}
    seen: set[str] = set()
    keys: list[str | None] = []
    for item, key in zip(items, bases):
        if key in shared:
            link = normalise_link(item.link)
            key = f"{key}|{link}" if link else f"{key}|hash:{_content_hash(item)}"
        if key in seen:
            keys.append(None)
            continue
        seen.add(key)
        keys.append(key)
    return keys


def key_hash(slug: str, key: str) -> str:
    """The short hash that names an article in its file name and the catalog."""
    return hashlib.sha256(f"{slug}\n{key}".encode()).hexdigest()[:KEY_HASH_LENGTH]
