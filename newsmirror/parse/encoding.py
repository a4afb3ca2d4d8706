"""Turn the bytes of a fetched feed or page into text.

Order of evidence (first that works wins):

1. a byte order mark (or the XML spec's BOM-less UTF-16/32 signature of ``<?``);
2. the body being valid UTF-8 -- servers often send a wrong charset header;
3. the HTTP ``charset`` parameter;
4. the XML declaration's ``encoding``, or an HTML ``<meta charset>`` /
   ``<meta http-equiv content="...charset=...">`` near the top;
5. statistical detection (charset-normalizer);
6. the first declared encoding, else UTF-8, with undecodable bytes replaced.

Servers lie about Chinese: a ``big5`` header on a GB18030 body decodes without a
single error into nonsense, and detectors call short Chinese text Korean or Japanese.
So a declared Chinese (or Latin-1) encoding, and a detector's guess, give way to
GB18030 or Big5-HKSCS when that reading decodes cleanly and reads as Chinese by a
wide margin (`chinese_evidence`: the share of the commonest Chinese characters) --
a margin honest text never loses by, so an honest declaration is never overridden.

GB2312/GBK aliases decode as GB18030 and Big5 as Big5-HKSCS, the supersets
that the publishers actually use. Decoding never raises.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

__all__ = ["decode_document", "normalize_encoding", "replace_xml_encoding", "sniff_declared_encoding"]

SNIFF_BYTES = 4096
"""How far into the document an XML declaration or <meta> charset is looked for."""

DETECT_BYTES = 256 * 1024
"""How much of the document the statistical detector looks at."""

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# "<?" (or "<" then a NUL-padded character) without a BOM, per XML 1.0 appendix F.
_SIGNATURES = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00?", "utf-16-be"),
    (b"<\x00?\x00", "utf-16-le"),
)

_SUPERSETS = {
    # Simplified Chinese: everything GB2312/GBK decodes the same in GB18030.
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    # Traditional Chinese: HKSCS is a superset of Big5.
    "big5": "big5hkscs",
    "big5hkscs": "big5hkscs",
    # As browsers do (WHATWG): Latin-1 and ASCII labels mean windows-1252.
    "iso8859_1": "cp1252",
    "ascii": "cp1252",
}

_ALIASES = {
    # Labels Python's codec registry does not know.
    "x-gbk": "gbk",
    "x-gb2312": "gb2312",
    "gb_2312-80": "gb2312",
    "gb_2312": "gb2312",
    "chinese": "gb2312",
    "csgb2312": "gb2312",
    "iso-ir-58": "gb2312",
    "x-euc-cn": "gb2312",
    "windows-936": "gbk",
    "ms936": "gbk",
    "x-big5": "big5",
    "x-x-big5": "big5",
    "cn-big5": "big5",
    "csbig5": "big5",
    "big5-hkscs": "big5hkscs",
    "x-mac-roman": "mac_roman",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
}

# Codecs that exist but must never be taken from a document's say-so.
_REFUSED = {"idna", "punycode", "raw_unicode_escape", "unicode_escape", "undefined", "utf_7", "mbcs", "oem"}

_XML_DECL_ENCODING = re.compile(
    rb"""\A\s*<\?xml[^>]*?\sencoding\s*=\s*["']?\s*([A-Za-z0-9._:()+-]+)""", re.IGNORECASE
)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:()+-]+)""", re.IGNORECASE)
_NON_ASCII = re.compile(r"[^\x00-\x7f\s]")
_TEXT_XML_DECL = re.compile(r"""\A(\s*<\?xml\b[^>]*?)\s+encoding\s*=\s*(["'])[^"']*\2""")


def normalize_encoding(label: str | None) -> str | None:
    """Python codec name for an encoding label, or None when it is unknown or unusable.

    GB2312/GBK family -> ``gb18030``, Big5 -> ``big5hkscs``, ASCII/Latin-1 -> ``cp1252``.
    """
    if not label:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if not name:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    canonical = info.name.replace("-", "_")
    if canonical in _REFUSED:
        return None
    try:
        "".encode(info.name)  # str.encode refuses codecs that are not text encodings
    except LookupError:  # (base64, zlib, rot13, …): no page is written in one
        return None
    return codecs.lookup(_SUPERSETS.get(canonical, canonical)).name


def charset_from_content_type(content_type: str | None) -> str | None:
    """The raw ``charset`` parameter of a Content-Type header value, if any."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'").strip() or None
    return None


def sniff_declared_encoding(body: bytes) -> str | None:
    """The raw encoding label in the XML declaration or an HTML <meta> near the top."""
    head = body[:SNIFF_BYTES]
    match = _XML_DECL_ENCODING.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _bom_or_signature(body: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    for signature, name in _SIGNATURES:
        if body.startswith(signature):
            return name, 0
    return None


def _try(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _detect(body: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - it is a dependency of trafilatura
        return None
    best = from_bytes(body[:DETECT_BYTES]).best()
    return normalize_encoding(best.encoding) if best is not None else None


_CHINESE_CODECS = frozenset({"gb18030", "big5hkscs", "cp950", "hz", "iso2022_jp_2"})
_CHINESE_READINGS = ("gb18030", "big5hkscs")
"""The supersets a lying label is checked against."""
_MAY_BE_WRONG = _CHINESE_CODECS | {"cp1252"}
"""Declared encodings that give way to a much better Chinese reading. Others (Korean,
Japanese, Cyrillic, ...) are never second-guessed: their text is not Chinese at all."""
MIN_COMMON = 3
"""A Chinese reading needs at least this many of the commonest characters ..."""
MIN_SHARE = 0.15
"""... making up at least this share of its non-ASCII characters (honest news pages:
0.19 and up; a wrong Chinese codec's nonsense 0.01 to 0.03, Japanese read as Big5 0.08)."""


@lru_cache(maxsize=1)
def _common_chinese() -> frozenset[str]:
    """The hundred commonest Chinese characters (charset-normalizer's frequency table),
    in Simplified and Traditional forms (OpenCC). Few enough that a wrong codec's
    nonsense, or Japanese read as Big5, rarely hits one."""
    from charset_normalizer.constant import FREQUENCIES

    base = "".join(FREQUENCIES.get("Chinese", ()))
    import opencc

    forms = [base] + [opencc.OpenCC(f"{name}.json").convert(base) for name in ("s2t", "s2tw", "s2hk", "t2s")]
    return frozenset(char for form in forms for char in form if ord(char) > 0x7F)


def chinese_evidence(text: str) -> tuple[int, float]:
    """(how many of the commonest Chinese characters, their share of all non-ASCII,
    non-space characters) in the first `DETECT_BYTES` characters of `text`."""
    sample = text[:DETECT_BYTES]
    others = len(_NON_ASCII.findall(sample))
    common = sum(map(_common_chinese().__contains__, sample))
    return common, (common / others if others else 0.0)


def _clearer_chinese(body: bytes, text: str | None, codec: str | None) -> tuple[str, str] | None:
    """A GB18030 or Big5-HKSCS reading of `body` that is plainly Chinese where `text`
    (read as `codec`; None when nothing decoded cleanly) is not; else None."""
    share = chinese_evidence(text)[1] if text is not None else 0.0
    best: tuple[float, str, str] | None = None
    for reading in _CHINESE_READINGS:
        if reading == codec:
            continue
        candidate = _try(body, reading)
        if candidate is None:
            continue
        common, candidate_share = chinese_evidence(candidate)
        if common < MIN_COMMON or candidate_share < max(MIN_SHARE, 2 * share + 0.1):
            continue
        if best is None or candidate_share > best[0]:
            best = (candidate_share, candidate, reading)
    return (best[1], best[2]) if best else None


def decode_document(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode a fetched document; returns ``(text, codec name used)``. Never raises."""
    found = _bom_or_signature(body)
    if found is not None:
        codec, skip = found
        return body[skip:].decode(codec, errors="replace"), codec

    text = _try(body, "utf-8")
    if text is not None:
        return text, "utf-8"

    declared = [
        codec
        for codec in (
            normalize_encoding(charset_from_content_type(content_type)),
            normalize_encoding(sniff_declared_encoding(body)),
        )
        if codec is not None and codec != "utf-8"
    ]
    for codec in declared:
        text = _try(body, codec)
        if text is not None:
            if codec in _MAY_BE_WRONG:
                clearer = _clearer_chinese(body, text, codec)
                if clearer is not None:
                    return clearer
            return text, codec

    detected = _detect(body)
    text = _try(body, detected) if detected is not None else None
    clearer = _clearer_chinese(body, text, detected)
    if clearer is not None:
        return clearer
    if detected is not None and text is not None:
        return text, detected

    fallback = declared[0] if declared else detected or "utf-8"
    return body.decode(fallback, errors="replace"), fallback


def replace_xml_encoding(text: str, encoding: str | None = "utf-8") -> str:
    """Rewrite (or with ``None`` drop) the ``encoding`` of a leading XML declaration.

    For handing already-decoded text, re-encoded, to an XML parser that would
    otherwise trust the document's original declaration.
    """
    match = _TEXT_XML_DECL.match(text)
    if match is None:
        return text
    replacement = match.group(1) + (f' encoding="{encoding}"' if encoding else "")
    return replacement + text[match.end():]
