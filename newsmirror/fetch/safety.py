"""Refusing addresses that a public request must never reach.

Pages archived on request come from strangers (a GitHub issue), so their addresses are
checked before anything is fetched, and again at every redirect: only http(s), no user
name or password in the address, and no host that resolves to a loopback, private,
link-local, multicast, reserved or unspecified address, a known cloud metadata address
(169.254.169.254, fd00:ec2::254, 100.100.100.200, ...), or an IPv6 address that embeds
an IPv4 address which is not public (6to4, Teredo, NAT64, IPv4-mapped/compatible).

The connection then goes to the very address that was checked (`SafeFetcher` pins it
per hop): the name is resolved once, so a DNS answer that changes between the check and
the connection (DNS rebinding) cannot lead inside. The Host header and the TLS server
name stay the original host name.

Tests run servers on loopback; they switch the refusal off with an explicit parameter
(`allow_private=True`, `allow_hosts` for a single "host:port", `allow_addresses` for
single IP addresses), never through the environment, so no user can turn it off by
accident.
"""

from __future__ import annotations

import asyncio
import contextvars
import ipaddress
import socket
import ssl
from collections.abc import Callable, Collection, Sequence
from typing import Any

import ada_url
import httpcore
import httpx

from newsmirror.errors import NewsmirrorError
from newsmirror.fetch.client import Fetcher, FetchError, FetchSettings

Resolver = Callable[..., Sequence[tuple[Any, ...]]]
"""Same shape as `socket.getaddrinfo(host, port, ...)`: entries whose last item is the
socket address, its first element the IP address."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http:": 80, "https:": 443}

METADATA_ADDRESSES = {
    ipaddress.ip_address(address): cloud
    for address, cloud in (
        ("169.254.169.254", "the cloud instance metadata service"),
        ("169.254.170.2", "the AWS container metadata service"),
        ("169.254.169.253", "the AWS VPC resolver"),
        ("169.254.169.123", "the AWS time service"),
        ("169.254.0.23", "the Tencent Cloud metadata service"),
        ("fd00:ec2::254", "the AWS instance metadata service"),
        ("fd00:ec2::253", "the AWS VPC resolver"),
        ("fd20:ce::254", "the Google Cloud metadata service"),
        ("100.100.100.200", "the Alibaba Cloud metadata service"),
        ("192.0.0.192", "the Oracle Cloud metadata service"),
        ("168.63.129.16", "the Azure host service (WireServer)"),
    )
}
"""Addresses that hand out a cloud machine's credentials or configuration; some of them
(168.63.129.16) are otherwise ordinary public addresses."""

_NOT_GLOBAL = [
    (ipaddress.ip_network(network), words)
    for network, words in (
        # IANA: not globally reachable, but older Pythons call them global.
        ("192.0.0.0/24", "an IETF protocol address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("5f00::/16", "a segment routing address"),
        ("3fff::/20", "a documentation address"),
    )
]
_GLOBAL_EXCEPTIONS = {ipaddress.ip_address("192.0.0.9"), ipaddress.ip_address("192.0.0.10")}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class UnsafeURLError(NewsmirrorError, ValueError):
    """An address newsmirror refuses to fetch; `str(err)` says why."""


class RefusedFetchError(FetchError):
    """A fetch stopped before a request to a refused address (first hop or redirect)."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """(kind, IPv4 address) for an IPv6 address that carries an IPv4 address to reach."""
    if address.ipv4_mapped is not None:
        return "an IPv4-mapped", address.ipv4_mapped
    if address.sixtofour is not None:
        return "a 6to4", address.sixtofour
    if address.teredo is not None:
        return "a Teredo", address.teredo[1]
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _NAT64:
        return "a NAT64", low
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1
        return "an IPv4-compatible", low
    return None


def address_problem(address: IPAddress) -> str | None:
    """Why an IP address must not be reached, or None when it is a public address."""
    problem = _address_problem(address)
    cloud = METADATA_ADDRESSES.get(address)
    if cloud is not None:
        return f"{problem} ({cloud})" if problem else f"a cloud metadata address ({cloud})"
    return problem


def _address_problem(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            kind, inner = embedded
            problem = address_problem(inner)
            if problem:
                return f"{kind} address of {inner}, {problem}"
            if address.teredo is not None:  # the Teredo server must be public too
                server = address.teredo[0]
                problem = address_problem(server)
                if problem:
                    return f"a Teredo address with server {server}, {problem}"
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
    if address not in _GLOBAL_EXCEPTIONS:
        for network, words in _NOT_GLOBAL:
            if address.version == network.version and address in network:
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


def _resolve(href: str, host: str, port: int, resolver: Resolver | None) -> list[IPAddress]:
    """The addresses `host` resolves to, in the resolver's order, each once."""
    resolve = resolver or socket.getaddrinfo
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURLError(f"{href}: the host {host} could not be resolved ({exc})") from None
    addresses: list[IPAddress] = []
    for info in infos:
        try:
            address = ipaddress.ip_address(str(info[-1][0]).split("%")[0])
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeURLError(f"{href}: the host {host} has no usable address")
    return addresses


def checked_addresses(
    url: str,
    *,
    allow_private: bool = False,
    allow_hosts: Collection[str] = (),
    allow_addresses: Collection[str] = (),
    resolver: Resolver | None = None,
) -> tuple[str, list[IPAddress]]:
    """(normalised `url`, the addresses to connect to) when `url` is safe to fetch;
    UnsafeURLError otherwise. The host is resolved exactly once (`socket.getaddrinfo`,
    or `resolver`) and every address it gives must be public; connect to these, not to
    a fresh resolution. The `allow_*` exemptions lift the address check (tests)."""
    href, host, port = _split(url)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [literal] if literal is not None else _resolve(href, host, port, resolver)
    if allow_private or f"{host}:{port}" in allow_hosts:
        return href, addresses
    exempt = {ipaddress.ip_address(a) for a in allow_addresses}
    for address in sorted(addresses, key=str):
        if address in exempt:
            continue
        problem = address_problem(address)
        if problem:
            shown = host if literal is not None else f"{host} ({address})"
            raise UnsafeURLError(f"{href}: refused, {shown} is {problem}")
    return href, addresses


# -- connecting to the address that was checked --------------------------------------------
_PINNED: contextvars.ContextVar[tuple[str, int, tuple[str, ...]] | None] = contextvars.ContextVar(
    "newsmirror_pinned_address", default=None)
"""(host, port, addresses) the current request was checked for. A context variable, so
each task (each fetch of an `asyncio.gather`) sees only its own hop's pin: httpcore opens
a connection in the task that sends the request."""


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to the addresses pinned for the host being connected to, whatever
    the name would resolve to now. Anything not pinned is refused, so a request that
    skipped the check cannot connect at all."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        pinned = _PINNED.get()
        if pinned is None or (pinned[0], pinned[1]) != (host.lower(), port):
            raise httpcore.ConnectError(f"not connecting to {host}:{port}, it was not checked")
        failure: Exception | None = None
        for address in pinned[2]:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address the name gave, as a resolver would
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("not connecting to a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def pinned_transport(limits: httpx.Limits, *, trust_env: bool) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connections go to the pinned address (see `_PINNED`).

    httpx has no public way to give its pool a network backend; the pool is replaced by
    an httpcore pool built with public arguments, and a future httpx that moves it fails
    here, loudly, rather than silently connecting unpinned. Proxies from the environment
    are not used: a proxy would resolve the name again itself.
    """
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=trust_env)
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        raise TypeError("this httpx version cannot pin addresses (its pool is not httpcore's)")
    context: ssl.SSLContext = httpx.create_ssl_context(trust_env=trust_env)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_PinnedBackend(httpcore.AnyIOBackend()),
    )
    return transport


class SafeFetcher(Fetcher):
    """A `Fetcher` that checks the address of every request it sends, the first one and
    each redirect hop, with `checked_addresses` (one DNS resolution per hop), and then
    connects to exactly the addresses it checked. A refused address ends the fetch with
    a `RefusedFetchError` before any connection to it is made.

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
        allow_addresses: Collection[str] = (),
        resolver: Resolver | None = None,
    ) -> None:
        super().__init__(settings, trust_env=trust_env)
        self.allow_private = allow_private
        self.allow_hosts = frozenset(allow_hosts)
        self.allow_addresses = frozenset(allow_addresses)
        self.resolver = resolver

    def transport(self, limits: httpx.Limits) -> httpx.AsyncBaseTransport | None:
        return pinned_transport(limits, trust_env=self._trust_env)

    async def check(self, url: str) -> tuple[str, list[IPAddress]]:
        """`checked_addresses` with this fetcher's settings, off the event loop (DNS blocks)."""
        return await asyncio.to_thread(
            checked_addresses, url, allow_private=self.allow_private,
            allow_hosts=self.allow_hosts, allow_addresses=self.allow_addresses,
            resolver=self.resolver)

    async def before_request(self, url: httpx.URL) -> None:
        try:
            _href, addresses = await self.check(str(url))
        except UnsafeURLError as err:
            raise RefusedFetchError(str(err)) from err
        port = url.port or (443 if url.scheme == "https" else 80)
        host = url.raw_host.decode("ascii").lower()
        _PINNED.set((host, port, tuple(str(address) for address in addresses)))
