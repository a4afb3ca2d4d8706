"""Image addresses rewritten through an image proxy, so readers behind a firewall can load them.

Templates use RSSHub's hotlink placeholders, filled from the WHATWG-parsed image URL:
``${href}``, ``${protocol}`` ("https:"), ``${host}`` (host[:port]), ``${hostname}``,
``${port}``, ``${pathname}``, ``${search}`` (with "?"), ``${hash}``, ``${origin}``,
``${username}``, ``${password}``, and any of them with ``_ue`` appended
(``${href_ue}``) for its encodeURIComponent form. Unknown placeholders stay as written.

    https://images.weserv.nl?url=${host}${pathname}${search}
    https://wsrv.nl/?url=${href_ue}

`rewrite_images` edits only the attribute values it changes (and the ``referrerpolicy`` /
``data-fallback-src`` attributes of images it rewrote); every other byte of the body is
left as the feed gave it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote

import ada_url

from newsmirror.content.clean import absolutize, host_matches
from newsmirror.content.markup import (
    Edit,
    Tag,
    apply_edits,
    escape_attr,
    set_attr,
    srcset_urls,
    tokenize,
)

DEFAULT_KNOWN_PROXIES = ("weserv.nl", "images.weserv.nl", "wsrv.nl")
"""Hosts (subdomains included) of image proxies whose addresses are never proxied again."""

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_]+)\}")
_URL_PARTS = frozenset(
    {"href", "protocol", "host", "hostname", "port", "pathname", "search", "hash",
     "origin", "username", "password"}
)
# What encodeURIComponent leaves alone besides ASCII letters and digits.
_URI_COMPONENT_SAFE = "-_.!~*'()"


@dataclass(frozen=True)
class ImagePolicy:
    """How a source's images are proxied.

    `templates` are tried in order: the first renders the new ``src`` (and every
    ``srcset`` candidate and ``poster``); the others are fallbacks, recorded on a
    rewritten ``<img>`` as ``data-fallback-src`` (their addresses in template order,
    separated by single spaces) for a reader page that wants to retry a failed image.
    Fallbacks are not recorded for ``srcset`` or ``poster``. No templates: nothing changes.

    `exclude_hosts` are never proxied (subdomains included), nor is any address whose
    host is a known proxy: `known_proxies` (subdomains included) plus the hosts of the
    configured templates.
    """

    templates: tuple[str, ...] = ()
    exclude_hosts: tuple[str, ...] = ()
    known_proxies: tuple[str, ...] = DEFAULT_KNOWN_PROXIES

    @cached_property
    def proxy_hosts(self) -> tuple[str, ...]:
        """`known_proxies` plus the host of every template."""
        hosts = list(self.known_proxies)
        for template in self.templates:
            host = _template_host(template)
            if host and host not in hosts:
                hosts.append(host)
        return tuple(hosts)


def _template_host(template: str) -> str | None:
    # The part before the first placeholder names the proxy itself.
    head = template.split("${", 1)[0]
    match = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]+)", head)
    return match.group(1).lower() if match else None


def proxy_urls(url: str, policy: ImagePolicy) -> tuple[str, ...]:
    """Every template rendered for `url`, in order; () when `url` is not to be proxied:
    no templates, not absolute http(s) (relative, data:, …), an excluded host, or an
    address that already goes through a known proxy."""
    if not policy.templates:
        return ()
    try:
        parsed = ada_url.URL(url)  # strips surrounding controls/spaces like a browser
    except ValueError:
        return ()
    if parsed.protocol not in ("http:", "https:"):
        return ()
    hostname = parsed.hostname.lower()
    if host_matches(hostname, policy.exclude_hosts) or host_matches(hostname, policy.proxy_hosts):
        return ()
    return tuple(_render(template, parsed) for template in policy.templates)


def _render(template: str, parsed: ada_url.URL) -> str:
    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        encode = key.endswith("_ue")
        part = key[:-3] if encode else key
        if part not in _URL_PARTS:
            return match.group()
        value = getattr(parsed, part)
        return quote(value, safe=_URI_COMPONENT_SAFE) if encode else value

    return _PLACEHOLDER.sub(fill, template)


def rewrite_images(html: str, policy: ImagePolicy, *, base_url: str | None = None) -> str:
    """`html` with ``<img src/srcset>``, ``<source srcset>`` and ``<video poster>`` sent
    through the policy's proxy. Relative addresses are resolved against `base_url` first
    (without one they are left alone). A rewritten ``<img>`` also gets
    ``referrerpolicy="no-referrer"`` and, with fallback templates, ``data-fallback-src``.
    Addresses that are not proxied keep their exact bytes, so rewriting is idempotent and
    an empty policy returns `html` itself."""
    if not policy.templates:
        return html
    edits: list[Edit] = []
    for token in tokenize(html):
        if isinstance(token, Tag) and not token.closing and token.name in IMAGE_ATTRS:
            edits.extend(_rewrite_tag(token, policy, base_url))
    return apply_edits(html, edits)


IMAGE_ATTRS = {"img": ("src", "srcset"), "source": ("srcset",), "video": ("poster",)}
"""The attributes that hold image addresses, per element: what the proxy rewrites and
what archive/assets.py downloads."""


def _rewrite_tag(tag: Tag, policy: ImagePolicy, base_url: str | None) -> list[Edit]:
    edits: list[Edit] = []
    fallbacks: tuple[str, ...] = ()
    for name in IMAGE_ATTRS[tag.name]:
        attr = tag.attr(name)
        if attr is None or not attr.value:
            continue
        if name == "srcset":
            new_value = _rewrite_srcset(attr.value, policy, base_url)
        else:
            rendered = proxy_urls(absolutize(attr.value, base_url), policy)
            new_value = rendered[0] if rendered else None
            if name == "src":
                fallbacks = rendered[1:]
        if new_value is not None and new_value != attr.value:
            edits.append(Edit(attr.value_start, attr.end, escape_attr(new_value, attr.quote)))
    if edits and tag.name == "img":
        edits.append(set_attr(tag, "referrerpolicy", "no-referrer"))
        if fallbacks:
            edits.append(set_attr(tag, "data-fallback-src", " ".join(fallbacks)))
    return edits


def _rewrite_srcset(value: str, policy: ImagePolicy, base_url: str | None) -> str | None:
    """`value` with each candidate URL proxied, or None when none of them is."""
    parts: list[str] = []
    pos = 0
    for start, end in srcset_urls(value):
        rendered = proxy_urls(absolutize(value[start:end], base_url), policy)
        if rendered:
            parts += [value[pos:start], rendered[0]]
            pos = end
    if not parts:
        return None
    parts.append(value[pos:])
    return "".join(parts)
