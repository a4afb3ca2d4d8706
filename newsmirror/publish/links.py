"""The one rule for every address a surface links to (list pages, README, Atom feeds, the
site and its search index): never a script or an inline document.

A browser reads a scheme after dropping leading spaces and control characters and every
tab and line break (`java\\tscript:` is `javascript:`), so the scheme is read the same way.
"""

from __future__ import annotations

import re

_IGNORED_INSIDE = re.compile("[\t\n\r]")
_IGNORED_AHEAD = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_WEB = ("http", "https")


def url_scheme(href: str) -> str | None:
    """The scheme of `href` as a browser reads it, lower-cased; None for a relative address."""
    probe = _IGNORED_INSIDE.sub("", href).lstrip(_IGNORED_AHEAD)
    match = _SCHEME.match(probe)
    return match.group(1).lower() if match else None


def safe_href(href: str | None) -> str | None:
    """`href` when a surface may link to it, else None: a relative address, or an absolute
    http(s) one. `javascript:`, `vbscript:`, `data:` and every other scheme are refused."""
    if href is None:
        return None
    scheme = url_scheme(href)
    return href if scheme is None or scheme in _WEB else None


def original_link(link: str | None) -> str | None:
    """An article's original address when readers may follow it: absolute http(s) only."""
    if not link or url_scheme(link) not in _WEB or not link.lower().startswith(("http://", "https://")):
        return None
    return link


_UNSAFE_IN_PATH = re.compile(r"[^A-Za-z0-9/_.~-]+")


def quote_path(path: str) -> str:
    """An archive path as it goes into an address: `urllib.parse.quote(path,
    safe="/-_.~")`, percent-escaping each run of other characters at once (a feed of 50
    Chinese paths spent most of its rendering in quote's byte-by-byte loop;
    tests/publish/test_links.py compares the two)."""
    return _UNSAFE_IN_PATH.sub(_escape_run, path)


def _escape_run(match: re.Match[str]) -> str:
    return "%" + match.group().encode("utf-8").hex("%").upper()

