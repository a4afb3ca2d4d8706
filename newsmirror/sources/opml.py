"""OPML: the feed-reader exchange format, read into source tables and written back.

Both directions are pure. Reading never fetches or expands anything the document points
at (no DTD, no external entities, no network).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from newsmirror.archive.paths import valid_slug, windows_reserved

NEWSMIRROR_NS = "urn:newsmirror:opml"
"""Our own outline attribute (`newsmirror:slug`) lives here, as OPML 2.0 asks of extensions."""
MAX_SLUG = 40
_NON_SLUG = re.compile(r"[^a-z0-9]+")
_HOST_PREFIXES = {"www", "feeds", "feed", "rss", "m"}
_GENERIC_LABELS = {"co", "com", "org", "net", "gov", "edu", "ac"}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_comments=True)


def slugify(text: str) -> str:
    """Lower-case ASCII letters, digits and '-', at most 40 characters ('' when nothing is left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")[:MAX_SLUG].strip("-")


def slug_from_url(url: str) -> str:
    """A slug from a feed address's host: `feeds.bbci.co.uk` gives `bbci`."""
    host = (urlsplit(url).hostname or "").lower()
    labels = host.split(".")
    while len(labels) > 1 and labels[0] in _HOST_PREFIXES:
        labels = labels[1:]
    if len(labels) > 1:
        labels = labels[:-1]
    while len(labels) > 1 and labels[-1] in _GENERIC_LABELS:
        labels = labels[:-1]
    return slugify("-".join(labels))


def _unique(base: str, taken: set[str]) -> str:
    base = base or "feed"
    slug, n = base, 1
    while slug in taken or windows_reserved(slug):
        n += 1
        suffix = f"-{n}"
        slug = base[: MAX_SLUG - len(suffix)].rstrip("-") + suffix
    taken.add(slug)
    return slug


def _outlines(parent: etree._Element) -> Iterable[etree._Element]:
    """Every outline under `parent`, depth first, in document order (folders flattened)."""
    for child in parent:
        if child.tag == "outline":
            yield child
            yield from _outlines(child)


def _attr(outline: etree._Element, name: str) -> str:
    return (outline.get(name) or "").strip()


def parse_opml(data: bytes, *, reserved: Iterable[str] = ()) -> list[dict[str, str]]:
    """The feeds of an OPML document as `{"slug", "name", "url"}` dicts, in document order.

    Outlines without an `xmlUrl` are folders and only contribute their children; a feed
    listed twice is kept once. A slug the outline carries (`newsmirror:slug` or `slug`)
    is kept when valid (a Windows device name such as `con` is not); otherwise one is made
    from the title, else from the address's host, unique among the results and `reserved`
    and never a device name. Raises ValueError when `data` is not
    an OPML document.
    """
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        raise ValueError(f"not an OPML document: not well-formed XML ({err})") from None
    if root is None or root.tag != "opml":
        tag = root.tag if root is not None and isinstance(root.tag, str) else "nothing"
        raise ValueError(f"not an OPML document: the root element is <{tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        raise ValueError("not an OPML document: it has no <body>")

    found: list[tuple[str, str, str]] = []
    seen_urls: set[str] = set()
    for outline in _outlines(body):
        url = _attr(outline, "xmlUrl")
        if not url or url in seen_urls:
            continue
        seen_urls.add(url)
        name = _attr(outline, "text") or _attr(outline, "title") or urlsplit(url).hostname or url
        given = _attr(outline, f"{{{NEWSMIRROR_NS}}}slug") or _attr(outline, "slug")
        found.append((given, " ".join(name.split()), url))

    taken = set(reserved)
    kept = {given for given, _, _ in found if valid_slug(given) and given not in taken}
    taken |= kept
    result = []
    for given, name, url in found:
        if given in kept:
            kept.discard(given)  # the first outline with it keeps it; a repeat gets a new one
            slug = given
        else:
            title_slug = slugify(name)
            slug = _unique(title_slug if len(title_slug) >= 2 else slug_from_url(url), taken)
        result.append({"slug": slug, "name": name, "url": url})
    return result


def _field(source: Any, name: str) -> str:
    return str(source[name] if isinstance(source, Mapping) else getattr(source, name))


def render_opml(sources: Iterable[Any], *, title: str = "newsmirror sources") -> bytes:
    """An OPML 2.0 document of `sources` (SourceConfig objects or dicts with slug, name and
    url), in the order given; the same sources always give the same bytes."""
    root = etree.Element("opml", version="2.0", nsmap={"newsmirror": NEWSMIRROR_NS})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    body = etree.SubElement(root, "body")
    for source in sources:
        name = _field(source, "name")
        outline = etree.SubElement(body, "outline")
        outline.set("type", "rss")
        outline.set("text", name)
        outline.set("title", name)
        outline.set("xmlUrl", _field(source, "url"))
        outline.set(f"{{{NEWSMIRROR_NS}}}slug", _field(source, "slug"))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def toml_string(text: str) -> str:
    """`text` as a TOML basic string."""
    escaped = []
    for ch in text:
        if ch in '"\\':
            escaped.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            escaped.append(f"\\u{ord(ch):04X}")
        else:
            escaped.append(ch)
    return '"' + "".join(escaped) + '"'


def render_source_tables(sources: Iterable[Mapping[str, str]]) -> str:
    """`[[sources]]` tables for a newsmirror.toml, each after an empty line."""
    return "".join(
        f"\n[[sources]]\nslug = {toml_string(s['slug'])}\nname = {toml_string(s['name'])}\n"
        f"url = {toml_string(s['url'])}\n"
        for s in sources
    )
