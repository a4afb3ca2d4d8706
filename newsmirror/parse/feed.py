"""Parse a fetched feed document into a :class:`~newsmirror.models.ParsedFeed`.

The bytes are decoded once (:func:`decode_document`), a few kinds of
not-a-feed documents are recognised up front (HTML pages, Cloudflare
challenges, other JSON), and the text, re-encoded as UTF-8, goes to
fastfeedparser when it is well-formed XML or JSON Feed. Malformed XML, and
anything fastfeedparser gives up on, goes to feedparser, which recovers what
it can. Both results are mapped to :class:`FeedItem` by the same rules.
"""

from __future__ import annotations

import copy
import html
import io
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any, cast
from urllib.parse import urljoin
from xml.parsers import expat

from lxml import etree

from newsmirror.dates import feed_date_ms
from newsmirror.errors import NewsmirrorError
from newsmirror.isolation import item_failure, item_name
from newsmirror.models import FeedImage, FeedItem, ItemFailure, ParsedFeed
from newsmirror.parse.encoding import decode_document, replace_xml_encoding

__all__ = ["FeedParseError", "NotAFeedError", "fast_parse", "parse_feed", "thorough_parse"]


class NotAFeedError(NewsmirrorError, ValueError):
    """The document is something else: an HTML page, a challenge page, empty, plain JSON."""


class FeedParseError(NewsmirrorError, ValueError):
    """The document looks like a feed but nothing usable could be read from it."""


_FEED_ROOTS = {"rss", "feed", "rdf", "rdf:rdf", "channel", "redirect"}
_RSS_ROOTS = {"rss", "rdf", "rdf:rdf", "channel"}
_ID_TAGS = (b"<guid", b":guid", b"<id>", b"<id ", b":id>", b":id ")
_HEAD_CHARS = 4096
_PROLOG = re.compile(r"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)*", re.DOTALL | re.IGNORECASE)
_FIRST_TAG = re.compile(r"<([A-Za-z_][\w:.-]*)")
_CLOUDFLARE_MARKERS = (
    "cf-browser-verification",
    "challenge-platform",
    "cf_chl_",
    "<title>just a moment...</title>",
    "attention required! | cloudflare",
)
_WHITESPACE = re.compile(r"\s+")
_TEXT_TYPES = {"text", "text/plain"}
_XHTML_TYPES = {"xhtml", "application/xhtml+xml"}
_XHTML_NS = "{http://www.w3.org/1999/xhtml}"
_ITEM_NAMES = frozenset(("item", "entry"))
# An item's date elements by local name, in the order of preference: the publication
# date, else the last update (RSS pubDate, Atom published/updated, dc:date,
# dcterms:issued/modified, RSS 1.0 and Atom 0.3 spellings).
_PUBLISHED_NAMES = ("pubdate", "published", "issued", "date")
_UPDATED_NAMES = ("lastbuilddate", "updated", "modified")
_DATE_NAMES = frozenset(_PUBLISHED_NAMES + _UPDATED_NAMES)


def parse_feed(body: bytes, *, content_type: str | None = None, url: str | None = None) -> ParsedFeed:
    """Parse an RSS / Atom / RDF / JSON Feed document.

    ``url`` is the document's address; relative item links are resolved against
    it (else against the feed's own link). Raises :class:`NotAFeedError` or
    :class:`FeedParseError`; a feed with no items is a valid result.
    """
    if not body.strip():
        raise NotAFeedError("an empty body, not a feed")
    text, encoding = decode_document(body, content_type)
    text = text.lstrip("\ufeff")
    head = text[:_HEAD_CHARS]
    _reject_challenge(head)

    if head.lstrip()[:1] in ("{", "["):
        return _parse_json(text, url, encoding)

    root = first_element_name(head)
    if root is None:
        rest = _collapse(head[_prolog_end(head) :][:80])
        if not rest:
            raise NotAFeedError("an empty document (no root element), not a feed")
        raise NotAFeedError(f"not a feed: plain text ({rest!r})")
    if root.lower() == "html":
        raise NotAFeedError(f"an HTML page, not a feed (title: {_html_title(text)!r})")

    data = replace_xml_encoding(text, "utf-8").encode("utf-8", errors="replace")
    problem = xml_problem(data)
    if problem is None:
        try:
            return fast_parse(data, url=url, encoding=encoding)
        except Exception:  # noqa: BLE001 - any failure of the fast path means: try the thorough one
            pass
    return thorough_parse(data, url=url, encoding=encoding, problem=problem)


def fast_parse(data: bytes, *, url: str | None = None, encoding: str = "utf-8") -> ParsedFeed:
    """Read well-formed UTF-8 XML (or JSON Feed) with fastfeedparser; raises on anything odd.

    Also raises when it finds no items in a document that has item or entry
    elements (fastfeedparser does not know every RSS dialect, e.g. RSS 0.90), and
    when its items are not the document's item elements one for one.

    Dates are read from each item's own date elements (:func:`item_dates`), not
    from fastfeedparser, which also takes a date from a guid ("130376" is
    1976-03-13 to it) and reads incomplete dates against the clock.
    """
    root = (first_element_name(data[:_HEAD_CHARS].decode("utf-8", errors="replace")) or "").lower()
    # fastfeedparser fills a missing guid/id with the link. When the document has
    # no guid or id element at all, such a guid is certainly not real.
    guid_from_link = root in ("rss", "feed") and not any(tag in data for tag in _ID_TAGS)
    import fastfeedparser  # here, not at start-up (issue 16): a run of 304s never needs it

    result = fastfeedparser.parse(data)
    dates = item_dates(data)
    if len(dates) != len(result.get("entries", ())):
        raise FeedParseError(f"fastfeedparser read {len(result.get('entries', ()))} items of {len(dates)}")
    feed = _from_fast(result, url, encoding, rss_like=root in _RSS_ROOTS, dates=dates)
    images = item_images(data)
    if any(images):
        base = _base(url, result.get("feed", {}).get("link"))
        feed = replace(feed, items=tuple(
            replace(item, images=_resolved(base, found))
            for item, found in zip(feed.items, images, strict=True)))
    if guid_from_link:
        feed = replace(feed, items=tuple(replace(item, guid=None) for item in feed.items))
    if not feed.items and (b"<item" in data or b"<entry" in data or b":item" in data or b":entry" in data):
        raise FeedParseError("fastfeedparser found no items in a document that has some")
    return feed


def item_dates(data: bytes) -> list[int | None]:
    """The date of every item of a well-formed feed document (XML or JSON Feed), in
    document order: its publication date element, else its update element, read by
    :func:`newsmirror.dates.feed_date_ms`; None for an item without a usable one.

    Items are the ``item`` / ``entry`` elements (any namespace) not inside another
    one; their dates are their own child elements, never those of a nested
    ``<source>`` or of the channel.
    """
    if data.lstrip()[:1] in (b"{", b"["):
        items = load_json(data).get("items") or []
        return [
            feed_date_ms(item.get("date_published")) or feed_date_ms(item.get("date_modified"))
            if isinstance(item, dict) else None
            for item in items
        ]
    return [_element_date(item) for item in _item_elements(data)]


def _item_elements(data: bytes) -> Iterator[etree._Element]:
    """The item (or entry) elements of a well-formed feed document, in document order."""
    pending = [etree.fromstring(data, parser=_date_parser())]
    while pending:
        element = pending.pop()
        if _local_name(element) in _ITEM_NAMES:
            yield element
        else:
            pending.extend(reversed([child for child in element if isinstance(child.tag, str)]))


_MEDIA_NS = "http://search.yahoo.com/mrss/"
_MEDIA_MARKERS = (b"search.yahoo.com/mrss", b"<enclosure")


def item_images(data: bytes) -> list[tuple[FeedImage, ...]]:
    """The images every item of a well-formed feed document gives outside its body, in
    document order (see :func:`_media_images`); JSON Feed's ``image`` and image
    attachments likewise. Addresses are as the feed wrote them (not yet resolved)."""
    if data.lstrip()[:1] in (b"{", b"["):
        items = load_json(data).get("items") or []
        return [_json_images(item) if isinstance(item, dict) else () for item in items]
    if not any(marker in data for marker in _MEDIA_MARKERS):
        return []
    return [_media_images(item) for item in _item_elements(data)]


def _media_images(item: etree._Element) -> tuple[FeedImage, ...]:
    """media:content images (also inside media:group), then media:thumbnail, then image
    enclosures; each address once. A media:content or enclosure counts when its medium
    is "image" or its type image/*; one that says neither counts as well (Media RSS
    makes both optional), one that says something else does not."""
    contents: list[FeedImage] = []
    thumbnails: list[FeedImage] = []
    enclosures: list[FeedImage] = []
    for child in item.iter(etree.Element):
        if child is item or not isinstance(child.tag, str):
            continue
        qname = etree.QName(child)
        url = (child.get("url") or "").strip()
        if not url:
            continue
        if qname.namespace == _MEDIA_NS and qname.localname == "content":
            if _is_image(child.get("medium"), child.get("type")):
                contents.append(FeedImage(url, _media_caption(child)))
        elif qname.namespace == _MEDIA_NS and qname.localname == "thumbnail":
            thumbnails.append(FeedImage(url, _media_caption(child.getparent())
                                        if child.getparent() is not item else None))
        elif (qname.namespace is None and qname.localname == "enclosure" and child.getparent() is item
              and (child.get("type") or "").lower().startswith("image/")):
            enclosures.append(FeedImage(url))
    return _unique([*contents, *thumbnails, *enclosures])


def _media_caption(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    for name in ("description", "title"):
        node = element.find(f"{{{_MEDIA_NS}}}{name}")
        if node is not None and (text := _collapse("".join(node.itertext()))):
            return text
    return None


def _is_image(medium: str | None, kind: str | None) -> bool:
    medium, kind = (medium or "").strip().lower(), (kind or "").strip().lower()
    if medium or kind:
        return medium == "image" or kind.startswith("image/")
    return True


def _json_images(item: dict[str, Any]) -> tuple[FeedImage, ...]:
    found = [FeedImage(item["image"].strip())] if isinstance(item.get("image"), str) and item["image"].strip() else []
    for attachment in item.get("attachments") or ():
        if isinstance(attachment, dict) and isinstance(attachment.get("url"), str) \
                and str(attachment.get("mime_type") or "").lower().startswith("image/"):
            found.append(FeedImage(attachment["url"].strip(), _collapse(_text(attachment.get("title"))) or None))
    return _unique(found)


def _unique(images: list[FeedImage]) -> tuple[FeedImage, ...]:
    seen: set[str] = set()
    kept = []
    for image in images:
        if image.url not in seen:
            seen.add(image.url)
            kept.append(image)
    return tuple(kept)


def _resolved(base: str | None, images: tuple[FeedImage, ...]) -> tuple[FeedImage, ...]:
    """Absolute http(s) addresses only; the others are dropped."""
    kept = []
    for image in images:
        url = _absolute(base, image.url)
        if url and url.startswith(("http://", "https://")):
            kept.append(replace(image, url=url))
    return _unique(kept)


def _feedparser_images(entry: Mapping[str, Any], base: str | None) -> tuple[FeedImage, ...]:
    """What feedparser kept of the same elements as :func:`_media_images` reads."""
    found: list[FeedImage] = []
    for media in entry.get("media_content") or ():
        if isinstance(media, dict) and _text(media.get("url")) and _is_image(media.get("medium"), media.get("type")):
            found.append(FeedImage(_text(media.get("url"))))
    for thumb in entry.get("media_thumbnail") or ():
        if isinstance(thumb, dict) and _text(thumb.get("url")):
            found.append(FeedImage(_text(thumb.get("url"))))
    for enclosure in entry.get("enclosures") or ():
        if isinstance(enclosure, dict) and _text(enclosure.get("href")) \
                and _text(enclosure.get("type")).lower().startswith("image/"):
            found.append(FeedImage(_text(enclosure.get("href"))))
    return _resolved(base, _unique(found))


def _date_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True,
                           remove_comments=True, remove_pis=True)


def _local_name(element: etree._Element) -> str:
    return element.tag.rpartition("}")[2].rpartition(":")[2].lower()


def _element_date(item: etree._Element) -> int | None:
    texts: dict[str, str] = {}
    for child in item:
        if not isinstance(child.tag, str) or (name := _local_name(child)) not in _DATE_NAMES or name in texts:
            continue
        if text := "".join(child.itertext()).strip():
            texts[name] = text
    published = next((texts[name] for name in _PUBLISHED_NAMES if name in texts), None)
    updated = next((texts[name] for name in _UPDATED_NAMES if name in texts), None)
    return feed_date_ms(published) or feed_date_ms(updated)


def thorough_parse(
    data: bytes, *, url: str | None = None, encoding: str = "utf-8", problem: str | None = None
) -> ParsedFeed:
    """Read UTF-8 XML, however broken, with feedparser.

    ``problem`` is the note to keep when feedparser itself reports none.
    """
    # feedparser raises on a character reference to a surrogate (`&#xD800;`), which
    # would cost every item of the feed: such a reference names no character anyway.
    data = _BAD_CHARREF.sub(_no_surrogate, data)
    import feedparser  # the fallback: imported only when a feed needs it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False)
    feed, entries = result.get("feed", {}), result.get("entries", [])
    if result.get("bozo"):
        problem = _describe(result.get("bozo_exception")) or problem
    if not entries:
        root = first_element_name(data[:_HEAD_CHARS].decode("utf-8", errors="replace")) or "?"
        if not result.get("version") and root.lower() not in _FEED_ROOTS:
            raise NotAFeedError(f"a <{root}> document, not a feed")
        if not feed and (problem or not result.get("version")):
            raise FeedParseError(f"a <{root}> document with nothing readable in it ({problem or 'no feed elements'})")
    base = _base(url, feed.get("link"))
    items: list[FeedItem] = []
    failed: list[ItemFailure] = []
    for entry in entries:  # one entry that cannot be read costs that entry
        try:
            items.append(_feedparser_item(entry, base))
        except Exception as exc:  # noqa: BLE001 - any failure here is a bug to report
            link, title = entry.get("link"), entry.get("title")
            failed.append(item_failure(item_name(link if isinstance(link, str) else None,
                                                 title if isinstance(title, str) else None),
                                       "parse", exc))
    return ParsedFeed(_title(feed.get("title")), _absolute(base, feed.get("link")), tuple(items),
                      encoding, problem, tuple(failed))


_BAD_CHARREF = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));")


def _no_surrogate(match: re.Match[bytes]) -> bytes:
    """A character reference to a surrogate or past U+10FFFF becomes U+FFFD."""
    hexa, dec = match.groups()
    code = int(hexa, 16) if hexa else int(dec)
    return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match.group(0)


def first_element_name(head: str) -> str | None:
    """Name of the first element after the prolog (declarations, comments, doctype)."""
    match = _FIRST_TAG.match(head, _prolog_end(head))
    return match.group(1) if match else None


def _prolog_end(head: str) -> int:
    """Where the prolog (declarations, comments, doctype) ends; it may be empty."""
    match = _PROLOG.match(head)
    return match.end() if match else 0


def xml_problem(data: bytes) -> str | None:
    """None when ``data`` is well-formed XML, else expat's description of the first error."""
    parser = expat.ParserCreate()
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        return f"malformed XML: {exc}"
    return None


def _reject_challenge(head: str) -> None:
    lowered = head.lower()
    if any(marker in lowered for marker in _CLOUDFLARE_MARKERS):
        raise NotAFeedError("a Cloudflare challenge page, not a feed")


def _html_title(text: str) -> str:
    from lxml import html as lxml_html

    try:
        title = lxml_html.document_fromstring(text[:65536]).findtext(".//title")
    except (etree.ParserError, ValueError):
        title = None
    return _collapse(title or "")[:120]


_SURROGATE = re.compile("[\ud800-\udfff]")


def load_json(data: str | bytes) -> Any:
    """A JSON document, with every lone surrogate it escapes (``\\ud800``, which no UTF-8
    file can hold) read as U+FFFD, as a character reference to one in XML is."""
    return _without_surrogates(json.loads(data))


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    return value


def _parse_json(text: str, url: str | None, encoding: str) -> ParsedFeed:
    try:
        document = load_json(text)
    except ValueError as exc:
        raise NotAFeedError(f"not a feed: broken JSON ({exc})") from None
    version = document.get("version") if isinstance(document, dict) else None
    if not (isinstance(version, str) and "jsonfeed.org" in version):
        raise NotAFeedError("JSON that is not a JSON Feed")
    items = document.get("items")
    if not isinstance(items, list):
        return _fast_json(document, url, encoding)
    # One item that cannot be read costs that item: an item that is no JSON object is
    # named by its place in the feed, and when the feed as a whole cannot be read, each
    # of its objects is read alone.
    failed = [ItemFailure(_json_item_place(number), "parse", f"not a JSON object ({_json_type(item)})")
              for number, item in enumerate(items, 1) if not isinstance(item, dict)]
    objects = [item for item in items if isinstance(item, dict)]
    try:
        feed = fast_parse(_json_bytes({**document, "items": objects}), url=url, encoding=encoding)
    except Exception:  # noqa: BLE001 - some item of it is at fault: read one at a time
        feed = _fast_json({**document, "items": []}, url, encoding)  # raises when the feed is at fault
        read: list[FeedItem] = []
        base = _base(url, feed.link)
        for item in objects:
            try:
                read.extend(fast_parse(_json_bytes({**document, "items": [item]}), url=url,
                                       encoding=encoding).items)
            except Exception as exc:  # noqa: BLE001 - any failure here is the item's or a bug
                failed.append(_json_item_failure(item, base, exc))
        feed = replace(feed, items=tuple(read))
    return replace(feed, failed_items=feed.failed_items + tuple(failed)) if failed else feed


def _fast_json(document: dict[str, Any], url: str | None, encoding: str) -> ParsedFeed:
    try:
        return fast_parse(_json_bytes(document), url=url, encoding=encoding)
    except Exception as exc:  # noqa: BLE001
        raise FeedParseError(f"a JSON Feed that could not be read: {exc}") from None


def _json_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode("ascii")


def _json_item_place(number: int) -> str:
    return f"item {number} of the JSON Feed"


# The JSON Feed 1.1 item fields that must be strings (an id may also be a number), an object,
# or a list of objects or strings.
_JSON_TEXT_FIELDS = ("id", "url", "external_url", "title", "content_html", "content_text", "summary",
                     "image", "banner_image", "date_published", "date_modified", "language")
_JSON_LIST_FIELDS = {"authors": dict, "attachments": dict, "tags": str}


def _json_item_failure(item: dict[str, Any], base: str | None, exc: Exception) -> ItemFailure:
    """What to record for a JSON Feed item that fastfeedparser could not read: the item's
    fault when one of its fields has the wrong type, else a bug."""
    link, title = item.get("url"), item.get("title")
    name = item_name(_absolute(base, link), title if isinstance(title, str) else None)
    for field in _JSON_TEXT_FIELDS:
        value = item.get(field)
        if value is not None and not isinstance(value, str) and not (
                field == "id" and isinstance(value, (int, float)) and not isinstance(value, bool)):
            return ItemFailure(name, "parse", f"{field} is {_json_type(value)}, not a string")
    author = item.get("author")
    if author is not None and not isinstance(author, dict):
        return ItemFailure(name, "parse", f"author is {_json_type(author)}, not an object")
    for field, kind in _JSON_LIST_FIELDS.items():
        value = item.get(field)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, kind) for v in value)):
            what = "objects" if kind is dict else "strings"
            return ItemFailure(name, "parse", f"{field} is {_json_type(value)}, not a list of {what}")
    return item_failure(name, "parse", exc)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


# --- mapping parser results to FeedItem ------------------------------------------------


def _from_fast(
    result: Mapping[str, Any], url: str | None, encoding: str, *, rss_like: bool, dates: list[int | None]
) -> ParsedFeed:
    feed = result.get("feed", {})
    base = _base(url, feed.get("link"))
    items = tuple(
        _fast_item(entry, base, rss_like, published_ms)
        for entry, published_ms in zip(result.get("entries", ()), dates, strict=True)
    )
    return ParsedFeed(_title(feed.get("title")), _absolute(base, feed.get("link")), items, encoding)


def _fast_item(entry: Mapping[str, Any], base: str | None, rss_like: bool, published_ms: int | None) -> FeedItem:
    summary = _text(entry.get("description"))
    content = _content(entry.get("content"))
    # In RSS, fastfeedparser hands the <description> back as content too when
    # there is no content:encoded; such content is only the summary.
    has_full = bool(content) and not (rss_like and content == summary)
    return _item(
        entry,
        base,
        summary=summary,
        content=content,
        has_full=has_full,
        published_ms=published_ms,
    )


def _feedparser_item(entry: Mapping[str, Any], base: str | None) -> FeedItem:
    content = _content(entry.get("content"))
    return _item(
        entry,
        base,
        summary=_text(entry.get("summary")),
        content=content,
        has_full=bool(content),
        published_ms=_feedparser_date(entry, "published") or _feedparser_date(entry, "updated"),
        images=_feedparser_images(entry, base),
    )


def _feedparser_date(entry: Mapping[str, Any], key: str) -> int | None:
    """The date element's text as feedparser kept it, read by the same rules as on the
    fast path. Not feedparser's own ``*_parsed``: it completes "2023" to 1 January and
    "2023-05" to the first of May, turns 29 February 2023 into 1 March, and reads a
    pubDate of "130376" as 6 February 2013."""
    # dict.get: FeedParserDict.get maps a missing "updated" to "published", with a warning.
    return feed_date_ms(dict.get(cast("dict[str, Any]", entry), key))


def _item(
    entry: Mapping[str, Any],
    base: str | None,
    *,
    summary: str,
    content: str,
    has_full: bool,
    published_ms: int | None,
    images: tuple[FeedImage, ...] = (),
) -> FeedItem:
    return FeedItem(
        title=_title(entry.get("title")),
        link=_absolute(base, entry.get("link")),
        guid=_text(entry.get("id")) or None,
        content_html=content if has_full else summary,
        has_full_content=has_full,
        published_ms=published_ms,
        images=images,
    )


def _content(blocks: Any) -> str:
    """HTML of the first content block: plain text escaped, an XHTML wrapper dropped."""
    if not blocks:
        return ""
    block = blocks[0]
    value, kind = _text(block.get("value")), (block.get("type") or "").lower()
    if kind in _TEXT_TYPES:
        return html.escape(value, quote=False)
    if kind in _XHTML_TYPES and value.startswith("<content"):
        return _xhtml_inner(value)
    return value


def _xhtml_inner(serialized: str) -> str:
    """The markup inside an Atom ``<content type="xhtml"><div>`` (fastfeedparser keeps both)."""
    try:
        element = etree.fromstring(serialized)
    except etree.XMLSyntaxError:
        return serialized
    div = element.find(f"{_XHTML_NS}div")
    div = copy.deepcopy(element if div is None else div)  # detached, so no inherited xmlns
    for node in div.iter(etree.Element):
        node.tag = etree.QName(node).localname
    etree.cleanup_namespaces(div)
    inner = (div.text or "") + "".join(etree.tostring(child, encoding="unicode", method="html") for child in div)
    return inner.strip()


def _base(url: str | None, feed_link: Any) -> str | None:
    if url:
        return url
    link = _text(feed_link)
    return link if link.startswith(("http://", "https://")) else None


# An absolute http(s) address that urljoin gives back as it is, whatever the base: a
# lower-case scheme, a host, no white space or control character (which urlsplit strips
# or removes), no ';' in the path and no empty query or fragment (which urlunparse would
# drop). Nearly every item link is one; urljoin cost a feed of 50 items more than its
# parsing (tests/parse/test_feed_links.py compares the two).
_JOINS_AS_ITSELF = re.compile(
    r"https?://[^/?#;\x00-\x20\x7f]+(?:/[^?#;\x00-\x20\x7f]*)?(?:\?[^#\x00-\x20\x7f]+)?(?:#[^\x00-\x20\x7f]+)?")


def _absolute(base: str | None, link: Any) -> str | None:
    link = _text(link)
    if not link:
        return None
    if base and not _JOINS_AS_ITSELF.fullmatch(link):
        try:
            return urljoin(base, link)
        except ValueError:
            return link
    return link


def _title(value: Any) -> str:
    """The title exactly as the parser gives it, trimmed: the XML parser has already undone
    the feed's escaping once, and a `&quot;` left after that is what the feed says (it was
    double-escaped). White space inside is kept; the article format folds line breaks."""
    return _text(value)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _collapse(value: str) -> str:
    return _WHITESPACE.sub(" ", value).strip()


def _describe(exc: BaseException | None) -> str | None:
    if exc is None:
        return None
    get_message: Callable[[], str] | None = getattr(exc, "getMessage", None)
    get_line: Callable[[], int] | None = getattr(exc, "getLineNumber", None)
    get_column: Callable[[], int] | None = getattr(exc, "getColumnNumber", None)
    if get_message is not None and get_line is not None and get_column is not None:
        return f"malformed XML: {get_message()} (line {get_line()}, column {get_column()})"
    return _collapse(f"{type(exc).__name__}: {exc}")[:200]

