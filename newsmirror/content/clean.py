"""Allow-list HTML sanitising for article bodies (a per-source setting), plus URL helpers.

`sanitize_html` runs nh3 (ammonia) with an allow-list of ordinary article markup and an
attribute filter that vets every URL (scheme, iframe host, tracking parameters, relative
addresses). nh3's output is the security boundary; a small pass over that normalised
output then drops what needs whole elements removed: iframes whose address was refused,
and tracking pixels.
"""

from __future__ import annotations

from typing import Any

import functools
import re
import threading
from collections.abc import Iterable
from urllib.parse import unquote_plus

import ada_url
import nh3

from newsmirror.content.markup import (
    Edit,
    Tag,
    _parse_tag,
    _raw_text_end,
    apply_edits,
    srcset_urls,
    tokenize,
)

DEFAULT_VIDEO_HOSTS: tuple[str, ...] = (
    "youtube.com/embed/",
    "youtube-nocookie.com/embed/",
    "player.vimeo.com/video/",
    "dailymotion.com/embed/",
    "geo.dailymotion.com/player",
    "player.bilibili.com/",
    "w.soundcloud.com/player/",
    "embed.ted.com/talks/",
)
"""Where an ``<iframe>`` may point: "host" or "host/path-prefix", subdomains of the host
included, https only."""

PIXEL_HOSTS: tuple[str, ...] = (
    "pixel.wp.com",
    "stats.wordpress.com",
    "www.google-analytics.com",
    "google-analytics.com",
    "ssl.google-analytics.com",
    "stats.g.doubleclick.net",
    "ad.doubleclick.net",
    "pixel.quantserve.com",
    "sb.scorecardresearch.com",
    "b.scorecardresearch.com",
    "pi.feedsportal.com",
    "feeds.feedburner.com/~r/",
    "feedburner.google.com/~r/",
    "www.facebook.com/tr",
    "bat.bing.com",
    "px.ads.linkedin.com",
    "analytics.twitter.com",
    "t.co/i/adsct",
    "pixel.mathtag.com",
    "counter.yadro.ru",
    "hm.baidu.com",
    "cnzz.com",
)
"""Images from these ("host" or "host/path-prefix", subdomains included) are trackers."""

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid",
        "mc_eid", "yclid", "ysclid", "_ga", "_gl", "spm", "scm", "igshid", "igsh",
        "twclid", "ttclid", "li_fat_id", "mkt_tok", "_hsenc", "_hsmi", "vero_id",
        "vero_conv", "oly_anon_id", "oly_enc_id", "rb_clickid", "s_cid", "wickedid",
        "srsltid", "ref_src", "ref_url", "__twitter_impression", "cmpid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
"""Query parameters (names compared lower-cased) that `strip_tracking` removes."""

_TAGS = frozenset(
    {
        "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code",
        "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
        "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "iframe",
        "img", "ins", "kbd", "li", "mark", "ol", "p", "picture", "pre", "q", "rp", "rt",
        "ruby", "s", "samp", "small", "source", "span", "strong", "sub", "summary", "sup",
        "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "track", "u", "ul",
        "var", "video", "audio", "wbr", "section", "article", "header", "footer", "aside",
        "main", "address", "center", "font", "strike", "tt", "big",
    }
)
_DROP_WITH_CONTENT = frozenset(
    {
        "script", "style", "object", "embed", "applet", "template", "textarea", "select",
        "button", "noembed", "noframes", "xmp", "svg", "math", "title", "head",
        "frameset", "frame", "canvas", "dialog",
    }
)
_GENERIC_ATTRS = {"title", "lang", "dir", "style"}
_ATTRS = {
    "a": {"href", "hreflang"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height", "loading", "decoding"},
    "source": {"src", "srcset", "sizes", "type", "media", "width", "height"},
    "video": {"src", "poster", "controls", "width", "height", "preload", "loop", "muted", "playsinline"},
    "audio": {"src", "controls", "preload", "loop", "muted"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "iframe": {"src", "width", "height", "allowfullscreen", "frameborder", "loading"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "abbr": {"title"},
    "ol": {"start", "type", "reversed"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "table": {"border", "cellpadding", "cellspacing", "width", "summary"},
    "details": {"open"},
    "font": {"color", "size"},
    "p": {"align"},
    "div": {"align"},
}
_URL_ATTRS = frozenset({"href", "src", "cite", "poster"})
_STYLE_PROPERTIES = frozenset(
    {
        "color", "background-color", "text-align", "font-weight", "font-style",
        "font-size", "text-decoration", "vertical-align", "width", "max-width",
        "height", "max-height", "margin", "margin-top", "margin-bottom", "margin-left",
        "margin-right", "padding", "border", "float", "clear", "white-space",
    }
)
_STYLE_DANGER = ("expression", "javascript:", "vbscript:", "url(", "behavior", "-moz-binding", "@import", "\\", "&#")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_URL_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
_PLAIN_HTTP = re.compile(r"[Hh][Tt][Tt][Pp][Ss]?:[^\x00-\x20\x7f]*")
# Leading/trailing characters browsers strip from a URL (C0 controls and space).
_URL_TRIM = "".join(chr(c) for c in range(0x21))


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """Whether `host` is one of `patterns` or a subdomain of one."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower().rstrip(".")
        if pattern and (host == pattern or host.endswith("." + pattern)):
            return True
    return False


def _url_matches(url: str, patterns: Iterable[str]) -> bool:
    """Whether absolute `url` matches one of the "host[/path-prefix]" `patterns`."""
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        return False
    # Each attribute read crosses into ada (~2 µs): read the two we need once.
    hostname, pathname = parsed.hostname, parsed.pathname
    for host, path in _split_patterns(tuple(patterns)):
        if host_matches(hostname, (host,)) and pathname.startswith(path):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _split_patterns(patterns: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """"host[/path-prefix]" patterns as (host, "/path-prefix" or "") pairs."""
    pairs = []
    for pattern in patterns:
        host, slash, path = pattern.partition("/")
        pairs.append((host, slash + path))
    return tuple(pairs)


def absolutize(url: str, base: str | None) -> str:
    """`url` resolved against `base` the way a browser resolves it; `url` unchanged when it
    is already absolute (any scheme), empty, only a fragment, or when there is no usable
    base."""
    if not base:
        return url
    trimmed = url.strip(_URL_TRIM)
    if not trimmed or trimmed.startswith("#") or _SCHEME.match(trimmed):
        return url
    try:
        return ada_url.join_url(base, trimmed)
    except ValueError:
        return url


def strip_tracking(url: str) -> str:
    """`url` without tracking query parameters (utm_*, fbclid, gclid, …). The rest of the
    address keeps its exact spelling; non-http(s) addresses are returned unchanged."""
    scheme = _SCHEME.match(url.strip(_URL_TRIM))
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        return url
    fragment_at = url.find("#")
    head, fragment = (url, "") if fragment_at < 0 else (url[:fragment_at], url[fragment_at:])
    path, question, query = head.partition("?")
    if not question:
        return url
    params = query.split("&")
    kept = [param for param in params if not _is_tracking(param)]
    if len(kept) == len(params):
        return url
    query = "&".join(param for param in kept if param)
    return path + ("?" + query if query else "") + fragment


def _is_tracking(param: str) -> bool:
    name = param.partition("=")[0]
    if "%" in name or "+" in name:  # otherwise unquote_plus returns it unchanged
        name = unquote_plus(name)
    name = name.strip().lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def _scheme_of(url: str) -> str | None:
    """The scheme a browser would see: controls and white space removed, lower-cased."""
    match = _SCHEME.match(_URL_CONTROL.sub("", url))
    return match.group(1).lower() if match else None


def _safe_url(value: str, base_url: str | None, *, allow_data_image: bool) -> str | None:
    """`value` made absolute and free of tracking parameters; None when it is not a
    safe address (only http, https, mailto and relative; data:image/… where allowed)."""
    if _PLAIN_HTTP.fullmatch(value):
        # No controls or spaces anywhere (nothing to trim, the scheme is what a browser
        # sees) and already absolute, so `absolutize` would return it unchanged.
        return strip_tracking(value)
    value = value.strip(_URL_TRIM)
    if not value:
        return None
    scheme = _scheme_of(value)
    if scheme == "data":
        compact = _URL_CONTROL.sub("", value).lower()
        return value if allow_data_image and compact.startswith("data:image/") else None
    url = absolutize(value, base_url)
    scheme = _scheme_of(url)
    if scheme is not None and scheme not in _SAFE_SCHEMES:
        return None
    return strip_tracking(url)


def _safe_iframe_src(value: str, base_url: str | None, hosts: tuple[str, ...]) -> str | None:
    value = value.strip(_URL_TRIM)
    if value.startswith("//"):
        value = "https:" + value
    try:
        parsed = ada_url.URL(absolutize(value, base_url))
    except ValueError:
        return None
    if parsed.protocol != "https:" or parsed.port or parsed.username or parsed.password:
        return None
    if not _url_matches(parsed.href, hosts):
        return None
    return strip_tracking(parsed.href)


def _safe_srcset(value: str, base_url: str | None) -> str | None:
    spans = srcset_urls(value)
    candidates: list[str] = []
    for index, (start, end) in enumerate(spans):
        url = _safe_url(value[start:end], base_url, allow_data_image=True)
        if url is None:
            continue
        next_start = spans[index + 1][0] if index + 1 < len(spans) else len(value)
        descriptor = value[end:next_start].strip().rstrip(",").strip()
        candidates.append(f"{url} {descriptor}".strip())
    return ", ".join(candidates) or None


_STYLE_NOISE = re.compile(r"/\*.*?\*/|\s+", re.DOTALL)


def _safe_style(value: str) -> str | None:
    compact = _STYLE_NOISE.sub("", value).lower()
    return None if any(danger in compact for danger in _STYLE_DANGER) else value


class _AttributeFilter:
    """nh3's attribute_filter for one `sanitize_html` call. Besides vetting values it notes
    whether any ``<img>`` could be a tracking pixel, so the pass that removes them can be
    skipped for the (usual) bodies that have none."""

    __slots__ = ("base_url", "iframe_hosts", "maybe_pixel")

    def __init__(self) -> None:
        self.reset(None, ())

    def reset(self, base_url: str | None, iframe_hosts: tuple[str, ...]) -> None:
        """Ready for the next call."""
        self.base_url = base_url
        self.iframe_hosts = iframe_hosts
        self.maybe_pixel = False

    def __call__(self, tag: str, attr: str, value: str) -> str | None:
        if attr in _URL_ATTRS:
            if tag == "iframe" and attr == "src":
                return _safe_iframe_src(value, self.base_url, self.iframe_hosts)
            if tag == "img" and attr == "src":
                url = _safe_url(value, self.base_url, allow_data_image=True)
                if url and not self.maybe_pixel and _maybe_pixel_host(url):
                    self.maybe_pixel = True
                return url
            return _safe_url(value, self.base_url, allow_data_image=False)
        if attr in _PLAIN_ATTRS:
            if tag == "img" and attr == "height" and not self.maybe_pixel and _at_most_one(value):
                self.maybe_pixel = True  # a pixel needs both sides at most 1
            return value
        if attr.startswith("on"):
            return None
        if attr == "srcset":
            return _safe_srcset(value, self.base_url)
        if attr == "style":
            return _safe_style(value)
        return value


_PLAIN_ATTRS = frozenset(
    name for names in (_GENERIC_ATTRS, *_ATTRS.values()) for name in names
    if name not in _URL_ATTRS and name not in ("srcset", "style") and not name.startswith("on")
) | {"rel"}
"""Allowed attributes whose value the filter passes through unchanged."""
_PIXEL_HOSTNAMES = tuple(
    host for host in sorted({pattern.partition("/")[0].lower() for pattern in PIXEL_HOSTS})
    if not any(other != host and other in host for other in PIXEL_HOSTS)
)
"""The hosts of `PIXEL_HOSTS`, less those containing another (a substring test on the
shorter one already says yes)."""


def _maybe_pixel_host(url: str) -> bool:
    """False only when `_url_matches(url, PIXEL_HOSTS)` cannot be true: for ASCII input
    without percent-escapes, ada's host name is a lower-cased piece of the address once
    tab, CR and LF (which URL parsing deletes) are gone, so it contains the pattern's host.
    Anything else (non-ASCII, which IDNA may map to ASCII; '%') counts as possible."""
    if not url.isascii() or "%" in url:
        return True
    low = url.lower()
    if "\t" in low or "\n" in low or "\r" in low:
        low = low.replace("\t", "").replace("\n", "").replace("\r", "")
    for host in _PIXEL_HOSTNAMES:
        if host in low:
            return True
    return False


_NH3_OPTIONS: dict[str, Any] = dict(
    tags=set(_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={"*": set(_GENERIC_ATTRS), **{tag: set(names) for tag, names in _ATTRS.items()}},
    strip_comments=True,
    link_rel="noopener noreferrer",
    url_schemes=set(_SAFE_SCHEMES) | {"data"},
    filter_style_properties=set(_STYLE_PROPERTIES),
)
_NOSCRIPT = re.compile("noscript", re.IGNORECASE)
_local = threading.local()


def _cleaner() -> tuple[nh3.Cleaner, _AttributeFilter]:
    """This thread's nh3 Cleaner with its attribute filter, reset before each body: built
    once, where `nh3.clean` with these options would build its allow-lists for every call
    (twice the time of the clean itself)."""
    made: tuple[nh3.Cleaner, _AttributeFilter] | None = getattr(_local, "cleaner", None)
    if made is None:
        check = _AttributeFilter()
        made = _local.cleaner = (nh3.Cleaner(attribute_filter=check, **_NH3_OPTIONS), check)
    return made


def sanitize_html(
    html: str,
    *,
    base_url: str | None = None,
    iframe_hosts: Iterable[str] = DEFAULT_VIDEO_HOSTS,
) -> str:
    """`html` reduced to ordinary article markup, safe to show on a reader page.

    Kept: text structure (p, headings, lists, tables, blockquote, pre/code, …), links
    (http/https/mailto, given ``rel="noopener noreferrer"``), images (src, srcset, alt,
    width, height; ``data:image/…`` allowed in ``img src``), picture/source, video/audio,
    figure/figcaption, and iframes whose https address is on `iframe_hosts`
    ("host[/path-prefix]", subdomains included). Removed: scripts, styles, forms and
    their controls, object/embed, svg/math, comments, event handlers, other URL schemes,
    tracking pixels and tracking query parameters. Relative addresses are made absolute
    against `base_url` when it is given. ``<noscript>`` wrappers are unwrapped so their
    markup (often the real image of a lazy-loaded page) is sanitised like the rest.

    The passes around nh3 run only when their trigger can be present: the unwrapping
    when the input has the letters "noscript" (any case, so none is missed), the element
    pass when nh3's output has an iframe (it writes tag names lower-cased and escapes '<'
    in text) or the attribute filter saw an image that may be a tracking pixel.
    """
    if _NOSCRIPT.search(html):
        html = _unwrap_noscript(html)
    cleaner, check = _cleaner()
    check.reset(base_url, tuple(iframe_hosts))
    cleaned = cleaner.clean(html)
    if check.maybe_pixel or "<iframe" in cleaned:
        return _drop_in_clean(cleaned)
    return cleaned


_IFRAME_OR_IMG = re.compile("<(?:iframe|img)")


def _drop_in_clean(html: str) -> str:
    """Remove refused iframes (nh3 left them without src) with their content, the
    fallback content of allowed ones, and tracking-pixel images from nh3's output,
    parsing only where "<iframe" or "<img" occurs. There every "<" starts a tag (nh3 escapes it in text and attribute values and keeps
    no comments) except inside an iframe, the one raw-text element it keeps, whose
    content is skipped up to its end tag just as the tokeniser skips it."""
    edits: list[Edit] = []
    pos = 0
    while (found := _IFRAME_OR_IMG.search(html, pos)) is not None:
        tag = _parse_tag(html, found.start(), closing=False)
        if not isinstance(tag, Tag):
            break  # unterminated: runs to the end
        pos = tag.end
        if tag.name == "img":
            if is_tracking_pixel(tag):
                edits.append(Edit(tag.start, tag.end, ""))
        elif tag.name == "iframe":
            refused = tag.attr("src") is None
            if refused:
                edits.append(Edit(tag.start, tag.end, ""))
            close = _raw_text_end(html, pos, "iframe")
            if pos < close:
                edits.append(Edit(pos, close, ""))  # fallback content
            pos = close
            end = _parse_tag(html, close, closing=True) if close < len(html) else None
            if not isinstance(end, Tag):
                break  # no end tag: the rest is the iframe's
            if refused:
                edits.append(Edit(end.start, end.end, ""))
            pos = end.end
    return apply_edits(html, edits)


def _unwrap_noscript(html: str) -> str:
    edits = [
        Edit(token.start, token.end, "")
        for token in tokenize(html)
        if isinstance(token, Tag) and token.name == "noscript"
    ]
    return apply_edits(html, edits)


def is_tracking_pixel(tag: Tag) -> bool:
    """An ``<img>`` sized at most 1×1, or served by a known tracker."""
    width, height = tag.attr("width"), tag.attr("height")
    if width and height and _at_most_one(width.value) and _at_most_one(height.value):
        return True
    src = tag.attr("src")
    return bool(src and src.value and _url_matches(src.value, PIXEL_HOSTS))


_DIMENSION = re.compile(r"\s*(\d+(?:\.\d*)?)\s*(px)?\s*$")


def _at_most_one(value: str | None) -> bool:
    match = _DIMENSION.match(value or "")
    return match is not None and float(match.group(1)) <= 1
