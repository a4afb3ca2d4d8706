"""A small, lossless HTML tokeniser for editing markup in place.

The archive keeps a body as the feed gave it, so the content stages that only need to
touch a few attribute values (image addresses) or the text between tags (Simplified /
Traditional conversion) must not parse and re-serialise the document. This module splits
HTML into tokens that carry their exact source spans, so a caller can replace a span and
leave every other byte alone.

It follows the WHATWG tokeniser where that matters for finding tags and attributes:
comments (``<!-- -->``, ``--!>``, abrupt ``<!-->``), bogus comments (``<!…>``, ``<?…>``,
``</ …>``), raw-text elements (script, style, …, whose content is never markup), attribute
values quoted with ``"`` or ``'`` or unquoted, duplicate attributes (the first one wins),
and character references in attribute values (including the rule that a legacy entity
without ``;`` followed by ``=`` or an alphanumeric is left alone, which keeps URLs such as
``?a=1&copy=2`` intact). It does not build a tree.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from html.entities import html5 as _HTML5_ENTITIES
from collections.abc import Iterator
from typing import NamedTuple

RAW_TEXT_ELEMENTS = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes"})
"""Elements whose content the HTML tokeniser reads as text up to the matching end tag."""
ESCAPABLE_RAW_TEXT_ELEMENTS = frozenset({"textarea", "title"})
"""Like raw text, but character references inside still count (RCDATA)."""

_SPACE = " \t\n\f\r"
_TAG_NAME_END = re.compile(r"[ \t\n\f\r/>]")
_ATTR_NAME = re.compile(r"[^ \t\n\f\r/>][^ \t\n\f\r/>=]*")
_UNQUOTED_END = re.compile(r"[ \t\n\f\r>]")
_CHAR_REF = re.compile(r"&(?:#[xX]([0-9a-fA-F]+);?|#([0-9]+);?|([A-Za-z][A-Za-z0-9]*;?))")
_LONGEST_ENTITY = max(len(name) for name in _HTML5_ENTITIES)


# Tokens are NamedTuples, not frozen dataclasses: a tokenizer makes one per tag and attribute
# (300k for a 10,000-article cold ingest) and a NamedTuple is built about 2.7x faster.
class Attr(NamedTuple):
    """One attribute of a tag, with its spans in the source."""

    name: str
    """Lower-cased name."""
    value: str | None
    """Decoded value (character references resolved); None for a bare attribute."""
    start: int
    """Start of the name."""
    end: int
    """End of the whole attribute (after the closing quote of a quoted value)."""
    value_start: int
    """Start of the raw value, its opening quote included (== end when bare)."""
    quote: str
    """'"', "'" or '' (unquoted or bare)."""


class Tag(NamedTuple):
    """A start or end tag ``<…>`` spanning ``html[start:end]``."""

    name: str
    start: int
    end: int
    attrs: tuple[Attr, ...]
    attrs_end: int
    """Where the last attribute (duplicates included) or else the name ends."""
    closing: bool = False
    self_closing: bool = False

    def attr(self, name: str) -> Attr | None:
        """The first attribute called `name` (browsers ignore later duplicates)."""
        for attribute in self.attrs:
            if attribute.name == name:
                return attribute
        return None


class Text(NamedTuple):
    """Character data spanning ``html[start:end]``; `raw` when it is the content of a
    raw-text element (script, style, …), which is not meant to be read as text."""

    start: int
    end: int
    raw: bool = False


class Other(NamedTuple):
    """Comments, doctypes, processing instructions, CDATA and unterminated tags."""

    start: int
    end: int


Token = Tag | Text | Other


def tokenize(html: str) -> Iterator[Token]:
    """Yield the tokens of `html` in order; their spans cover the input exactly once."""
    pos = 0
    text_start = 0
    length = len(html)
    while True:
        lt = html.find("<", pos)
        if lt < 0 or lt + 1 >= length:
            break
        token = _markup_at(html, lt)
        if token is None:
            pos = lt + 1
            continue
        if text_start < lt:
            yield Text(text_start, lt)
        yield token
        pos = text_start = token.end
        if isinstance(token, Tag) and not token.closing:
            raw = token.name in RAW_TEXT_ELEMENTS or token.name in ESCAPABLE_RAW_TEXT_ELEMENTS
            if raw or token.name == "plaintext":
                close = length if token.name == "plaintext" else _raw_text_end(html, pos, token.name)
                if pos < close:
                    yield Text(pos, close, raw=token.name not in ESCAPABLE_RAW_TEXT_ELEMENTS)
                pos = text_start = close
    if text_start < length:
        yield Text(text_start, length)


def start_tags_in_clean(html: str, names: tuple[str, ...]) -> Iterator[Tag]:
    """The start tags called `names` (lower case) in `sanitize_html`'s output, the same
    ones `tokenize` yields there, found by searching for them rather than by tokenising
    every tag: in that output every "<" begins a tag (nh3 escapes it in text and attribute
    values, writes tag names lower-cased, keeps no comments) and no element has raw-text
    content (the one it keeps, iframe, loses its fallback content there)."""
    for found in _start_tag_pattern(names).finditer(html):
        tag = _parse_tag(html, found.start(), closing=False)
        if isinstance(tag, Tag):
            yield tag


@functools.cache
def _start_tag_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(f"<(?:{'|'.join(map(re.escape, names))})(?=[ \t\n\f\r/>])")


def _markup_at(html: str, lt: int) -> Token | None:
    nxt = html[lt + 1]
    if nxt.isascii() and nxt.isalpha():
        return _parse_tag(html, lt, closing=False)
    if nxt == "/":
        after = html[lt + 2 : lt + 3]
        if after.isascii() and after.isalpha():
            return _parse_tag(html, lt, closing=True)
        if after == ">":
            return Other(lt, lt + 3)
        return _bogus_comment(html, lt) if after else None
    if nxt == "!":
        if html.startswith("<!--", lt):
            return _comment(html, lt)
        return _bogus_comment(html, lt)
    if nxt == "?":
        return _bogus_comment(html, lt)
    return None


def _comment(html: str, lt: int) -> Other:
    body = lt + 4
    if html.startswith(">", body):
        return Other(lt, body + 1)
    if html.startswith("->", body):
        return Other(lt, body + 2)
    ends = [i for i in (html.find("-->", body), html.find("--!>", body)) if i >= 0]
    if not ends:
        return Other(lt, len(html))
    close = min(ends)
    return Other(lt, close + (3 if html.startswith("-->", close) else 4))


def _bogus_comment(html: str, lt: int) -> Other:
    close = html.find(">", lt)
    return Other(lt, len(html) if close < 0 else close + 1)


def _raw_text_end(html: str, pos: int, name: str) -> int:
    pattern = re.compile(r"</" + re.escape(name) + r"[ \t\n\f\r/>]", re.IGNORECASE)
    match = pattern.search(html, pos)
    return match.start() if match else len(html)


def _parse_tag(html: str, lt: int, *, closing: bool) -> Token:
    name_start = lt + (2 if closing else 1)
    match = _TAG_NAME_END.search(html, name_start)
    if not match:
        return Other(lt, len(html))
    name = html[name_start : match.start()].lower()
    pos = match.start()
    attrs: list[Attr] = []
    attrs_end = pos
    seen: set[str] = set()
    self_closing = False
    length = len(html)
    while pos < length:
        char = html[pos]
        if char in _SPACE:
            pos += 1
            continue
        if char == ">":
            return Tag(name, lt, pos + 1, tuple(attrs), attrs_end, closing, self_closing)
        if char == "/":
            self_closing = html.startswith(">", pos + 1)
            pos += 1
            continue
        self_closing = False
        attr, pos = _parse_attr(html, pos)
        if attr is None:
            break
        attrs_end = attr.end
        if attr.name not in seen:
            seen.add(attr.name)
            attrs.append(attr)
    # End of input inside a tag: browsers drop it; so do we (untouched).
    return Other(lt, length)


def _parse_attr(html: str, pos: int) -> tuple[Attr | None, int]:
    match = _ATTR_NAME.match(html, pos)
    assert match, "called on a name start"
    start, name_end = match.start(), match.end()
    name = match.group().lower()
    pos = name_end
    length = len(html)
    while pos < length and html[pos] in _SPACE:
        pos += 1
    if pos >= length:
        return None, length
    if html[pos] != "=":
        return Attr(name, None, start, name_end, name_end, ""), name_end
    pos += 1
    while pos < length and html[pos] in _SPACE:
        pos += 1
    if pos >= length:
        return None, length
    quote = html[pos]
    if quote in "\"'":
        close = html.find(quote, pos + 1)
        if close < 0:
            return None, length
        raw = html[pos + 1 : close]
        return Attr(name, unescape_attr(raw), start, close + 1, pos, quote), close + 1
    if quote == ">":  # `name=>`: an empty value
        return Attr(name, "", start, pos, pos, ""), pos
    end_match = _UNQUOTED_END.search(html, pos)
    end = end_match.start() if end_match else length
    if end >= length:
        return None, length
    return Attr(name, unescape_attr(html[pos:end]), start, end, pos, ""), end


def unescape_attr(raw: str) -> str:
    """Resolve character references the way a browser does inside an attribute value."""
    if "&" not in raw:
        return raw
    return _CHAR_REF.sub(lambda match: _resolve(match, raw), raw)


def _resolve(match: re.Match[str], raw: str) -> str:
    hex_digits, dec_digits, name = match.groups()
    if hex_digits is not None or dec_digits is not None:
        code = int(hex_digits, 16) if hex_digits is not None else int(dec_digits)
        return _code_point(code)
    if name.endswith(";") and name in _HTML5_ENTITIES:
        return _HTML5_ENTITIES[name]
    # Otherwise the longest legacy entity (no ';') that prefixes the name, unless the
    # next character is '=' or alphanumeric, which browsers keep as text in attributes.
    for size in range(min(len(name), _LONGEST_ENTITY), 0, -1):
        prefix = name[:size]
        if prefix in _HTML5_ENTITIES and not prefix.endswith(";"):
            after = match.start() + 1 + size
            following = raw[after : after + 1]
            if following == "=" or following.isalnum():
                return match.group()
            return _HTML5_ENTITIES[prefix] + name[size:]
    return match.group()


_WINDOWS_1252 = {
    0x80: "\u20ac", 0x82: "\u201a", 0x83: "\u0192", 0x84: "\u201e", 0x85: "\u2026",
    0x86: "\u2020", 0x87: "\u2021", 0x88: "\u02c6", 0x89: "\u2030", 0x8A: "\u0160",
    0x8B: "\u2039", 0x8C: "\u0152", 0x8E: "\u017d", 0x91: "\u2018", 0x92: "\u2019",
    0x93: "\u201c", 0x94: "\u201d", 0x95: "\u2022", 0x96: "\u2013", 0x97: "\u2014",
    0x98: "\u02dc", 0x99: "\u2122", 0x9A: "\u0161", 0x9B: "\u203a", 0x9C: "\u0153",
    0x9E: "\u017e", 0x9F: "\u0178",
}


def _code_point(code: int) -> str:
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return _WINDOWS_1252.get(code) or chr(code)


def escape_attr(value: str, quote: str = '"') -> str:
    """`value` written as a quoted attribute value (quotes included): & and the quote
    character escaped, nothing else."""
    quote = quote or '"'
    escaped = value.replace("&", "&amp;")
    escaped = escaped.replace('"', "&quot;") if quote == '"' else escaped.replace("'", "&#39;")
    return f"{quote}{escaped}{quote}"


@dataclass(frozen=True)
class Edit:
    """Replace ``html[start:end]`` with `text` (start == end inserts)."""

    start: int
    end: int
    text: str


def apply_edits(html: str, edits: list[Edit]) -> str:
    """`html` with non-overlapping `edits` applied; everything else byte for byte.
    Insertions at the same point land in the order given."""
    if not edits:
        return html
    parts: list[str] = []
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < pos:
            raise ValueError("overlapping edits")
        parts.append(html[pos : edit.start])
        parts.append(edit.text)
        pos = edit.end
    parts.append(html[pos:])
    return "".join(parts)


def set_attr(tag: Tag, name: str, value: str) -> Edit:
    """An edit giving `tag` attribute `name` = `value`: the existing value is replaced
    (its quote style kept), or the attribute is added after the last one."""
    existing = tag.attr(name)
    if existing is not None:
        if existing.quote:
            return Edit(existing.value_start, existing.end, escape_attr(value, existing.quote))
        if existing.value is None:  # bare attribute: add `=value`
            return Edit(existing.end, existing.end, "=" + escape_attr(value))
        return Edit(existing.value_start, existing.end, escape_attr(value))
    return Edit(tag.attrs_end, tag.attrs_end, f" {name}={escape_attr(value)}")


def srcset_urls(value: str) -> list[tuple[int, int]]:
    """The (start, end) spans of the candidate URLs of a ``srcset`` value, following the
    HTML parsing rules (URLs may contain commas; descriptors may contain parentheses)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    length = len(value)
    spaces = " \t\n\f\r"
    while pos < length:
        while pos < length and (value[pos] in spaces or value[pos] == ","):
            pos += 1
        if pos >= length:
            break
        start = pos
        while pos < length and value[pos] not in spaces:
            pos += 1
        url = value[start:pos]
        if url.endswith(","):  # "a.jpg," ends the candidate: no descriptors
            spans.append((start, start + len(url.rstrip(","))))
            continue
        spans.append((start, pos))
        depth = 0
        while pos < length:  # descriptors, up to a comma outside parentheses
            char = value[pos]
            if char == "(":
                depth += 1
            elif char == ")" and depth:
                depth -= 1
            elif char == "," and not depth:
                pos += 1
                break
            pos += 1
    return spans
