"""Refusing addresses that a public request must never reach.

Pages archived on request come from strangers (a GitHub issue), so their addresses are
checked before anything is fetched, and again at every redirect: only http(s), no user
name or password in the address, and no host that resolves to a loopback, private,
link-local (the cloud metadata service lives at 169.254.169.254), multicast, reserved or
unspecified address.

Tests run servers on loopback; they switch the refusal off with an explicit parameter
(`allow_private=True`, or `allow_hosts` for a single "host:port"), never through the
environment, so no user can turn it off by accident.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Collection, Sequence
from typing import Any

import ada_url
import httpx

from newsmirror.fetch.client import FetchError, Fetcher, FetchSettings

Resolver = Callable[..., Sequence[tuple[Any, ...]]]
"""Same shape as `socket.getaddrinfo(host, port, ...)`: entries whose last item is the
socket address, its first element the IP address."""

DEFAULT_PORTS = {"http:": 80, "https:": 443}


class UnsafeURLError(ValueError):
    """An address newsmirror refuses to fetch; `str(err)` says why."""


class RefusedFetchError(FetchError):
    """A fetch stopped before a request to a refused address (first hop or redirect)."""


def address_problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an IP address must not be reached, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address_problem(address.ipv4_mapped)
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    )
    for attribute, words in checks:
        if getattr(address, attribute):
            return words
    if not address.is_global:  # e.g. 100.64.0.0/10, shared carrier-grade NAT space
        return "not a public address"
    return None


def _split(url: str) -> tuple[str, str, int]:
    """(normalised URL, host, port) of an http(s) URL; UnsafeURLError otherwise."""
    try:
        parsed = ada_url.URL(url.strip())
    except ValueError:
        raise UnsafeURLError(f"{url!r} is not a valid web address") from None
    if parsed.protocol not in DEFAULT_PORTS:
        scheme = parsed.protocol.rstrip(":")
        raise UnsafeURLError(f"{url}: only http and https addresses are archived, not {scheme}:")
    if parsed.username or parsed.password:
        raise UnsafeURLError(f"{url}: addresses with a user name or password are refused")
    host = parsed.hostname
    if not host:
        raise UnsafeURLError(f"{url}: the address has no host")
    port = int(parsed.port) if parsed.port else DEFAULT_PORTS[parsed.protocol]
    return parsed.href, host.strip("[]").lower(), port


def check_url(
    url: str,
    *,
    allow_private: bool = False,
    allow_hosts: Collection[str] = (),
    resolver: Resolver | None = None,
) -> str:
    """The normalised `url` when it is safe to fetch; UnsafeURLError (a ValueError) with a
    readable reason otherwise.

    The host is resolved (`socket.getaddrinfo`, or `resolver`) and every address it
    resolves to must be public. `allow_private=True` skips the address check and
    `allow_hosts` ("host:port" entries) exempts single servers: both exist for tests.
    """
    href, host, port = _split(url)
    if allow_private or f"{host}:{port}" in allow_hosts:
        return href
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = {literal}
    else:
        resolve = resolver or socket.getaddrinfo
        try:
            infos = resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeURLError(f"{href}: the host {host} could not be resolved ({exc})") from None
        addresses = set()
        for info in infos:
            try:
                addresses.add(ipaddress.ip_address(str(info[-1][0]).split("%")[0]))
            except ValueError:
                continue
        if not addresses:
            raise UnsafeURLError(f"{href}: the host {host} has no usable address")
    for address in sorted(addresses, key=str):
        problem = address_problem(address)
        if problem:
            shown = host if literal is not None else f"{host} ({address})"
            raise UnsafeURLError(f"{href}: refused, {shown} is {problem}")
    return href


class SafeFetcher(Fetcher):
    """A `Fetcher` that checks the address of every request it sends, the first one and
    each redirect hop, with `check_url` (after DNS resolution). A refused address ends
    the fetch with a `RefusedFetchError` before any connection to it is made.

    The check runs in the Fetcher's `before_request` hook, so redirects keep the
    Fetcher's own limits (deadline, size, per-host caps, `max_redirects`).
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        trust_env: bool = True,
        allow_private: bool = False,
        allow_hosts: Collection[str] = (),
        resolver: Resolver | None = None,
    ) -> None:
        super().__init__(settings, trust_env=trust_env)
        self.allow_private = allow_private
        self.allow_hosts = frozenset(allow_hosts)
        self.resolver = resolver

    async def check(self, url: str) -> str:
        """`check_url` with this fetcher's settings, off the event loop (DNS blocks)."""
        return await asyncio.to_thread(check_url, url, allow_private=self.allow_private,
                                       allow_hosts=self.allow_hosts, resolver=self.resolver)

    async def before_request(self, url: httpx.URL) -> None:
        try:
            await self.check(str(url))
        except UnsafeURLError as err:
            raise RefusedFetchError(str(err)) from err
