"""A polite, bounded HTTP fetcher for feeds and article pages.

Every request is bounded in time (one deadline covers redirects and the
streamed body), in size (checked while streaming) and in concurrency (a
global cap plus a per-host cap).  Anything that goes wrong on the network
comes back as a `FetchError` with a short readable reason, so one broken
source never stops a run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http
import os
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import httpx

from newsmirror.dates import http_date_s
from newsmirror.errors import NewsmirrorError
from newsmirror.fetch.decode import BoundedDecoder, DecodeError, TooManyEncodingsError
from newsmirror.fetch.settings import DEFAULT_USER_AGENT, FetchSettings  # noqa: F401 (re-exported)

# FetchSettings lives in settings.py: the configuration reads it without importing httpx.

ACCEPT_ENCODING = "gzip, deflate, br"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class FetchResult:
    """A successful (2xx) or not-modified (304) response.

    `content_type` is the raw Content-Type header (charset included).  On a
    304 the validators the server did not repeat are the ones we sent, since
    the server just confirmed them.
    """

    url: str
    status: int
    body: bytes
    headers: Mapping[str, str]
    content_type: str | None
    etag: str | None
    last_modified: str | None
    not_modified: bool


class FetchError(NewsmirrorError):
    """A fetch that did not produce a usable response; `str(err)` is the reason."""

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        gone: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after_s = retry_after_s
        self.gone = gone

    def __str__(self) -> str:
        return self.reason


def format_seconds(seconds: float) -> str:
    """Seconds as a short number: 20 -> "20", 0.5 -> "0.5", 3600.4 -> "3600"."""
    if seconds >= 10:
        return str(round(seconds))
    return f"{seconds:.3g}"


def format_bytes(size: int) -> str:
    """A byte count in the unit a reader expects: "15 MiB", "512 KiB", "900 bytes"."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} bytes"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay seconds or an HTTP date).

    Returns None for a missing or unreadable value; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    when = http_date_s(value)
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when - now)


def status_error(response: httpx.Response) -> FetchError:
    """The FetchError for a response status we do not accept."""
    status = response.status_code
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = response.reason_phrase or ""
    reason = f"HTTP {status} {phrase}".rstrip()
    retry_after = None
    if status in RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            reason += f", retry after {format_seconds(retry_after)} s"
    return FetchError(reason, status=status, retry_after_s=retry_after, gone=status == 410)


def _connect_reason(exc: BaseException) -> str:
    """Name the cause of a failed connection: "connection refused", "TLS error: …"."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted ({seen.verify_message or seen.reason})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS error ({seen.reason or seen})"
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, ConnectionResetError):
            return "connection reset"
        if isinstance(seen, socket.gaierror):
            return "host name not found"
        seen = seen.__cause__ or seen.__context__
    text = str(exc).strip()
    if "refused" in text.lower():
        return "connection refused"
    return text or type(exc).__name__


def _map_error(exc: BaseException, settings: FetchSettings) -> FetchError:
    """Translate an httpx/OS exception into a FetchError with a readable reason."""
    if isinstance(exc, httpx.ConnectTimeout):
        limit = format_seconds(settings.connect_timeout)
        return FetchError(f"could not connect: timed out after {limit} s")
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return FetchError(f"timed out after {format_seconds(settings.timeout)} s")
    if isinstance(exc, httpx.ConnectError):
        return FetchError(f"could not connect: {_connect_reason(exc)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "without sending" in text and "response" in text.lower():
            return FetchError("server closed the connection without a response")
        return FetchError(f"protocol error: {text or type(exc).__name__}")
    if isinstance(exc, httpx.ProxyError):
        return FetchError(f"proxy error: {exc}")
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return FetchError(f"unsupported or invalid URL: {exc}")
    if isinstance(exc, httpx.ReadError):
        return FetchError(f"connection error while reading: {_connect_reason(exc)}")
    if isinstance(exc, httpx.WriteError):
        return FetchError(f"connection error while sending: {_connect_reason(exc)}")
    if isinstance(exc, ssl.SSLError):
        return FetchError(f"could not connect: {_connect_reason(exc)}")
    if isinstance(exc, UnicodeError):
        return FetchError(f"could not encode the request: {exc}")
    detail = str(exc).strip() or type(exc).__name__
    return FetchError(f"network error: {detail}")


_NETWORK_ERRORS = (httpx.HTTPError, httpx.InvalidURL, OSError, UnicodeError)


_early_tls: dict[tuple[bool, str, str], concurrent.futures.Future[ssl.SSLContext]] = {}


def _tls_key(trust_env: bool) -> tuple[bool, str, str]:
    """What httpx's context depends on: trust_env and the two variables it then reads."""
    return trust_env, os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", "")


def prepare_tls(*, trust_env: bool = True) -> None:
    """Start building the TLS context the next Fetcher opens with (httpx's own, the same
    `create_ssl_context`: reading the CA bundle takes ~30 ms) in a thread, so that what a
    run does before its first request (imports, opening the archive, git) overlaps it
    instead of waiting for it (issue 16 item 7). OpenSSL reads the file without the GIL."""
    key = _tls_key(trust_env)
    if key in _early_tls:
        return
    future: concurrent.futures.Future[ssl.SSLContext] = concurrent.futures.Future()

    def build() -> None:
        try:
            future.set_result(httpx.create_ssl_context(trust_env=trust_env))
        except BaseException as err:  # handed to the Fetcher, which lets httpx try again
            future.set_exception(err)

    _early_tls[key] = future
    # Not a daemon: a run that ends before its first request (the archive busy, a bad
    # configuration) must wait for it at exit. A daemon thread still inside OpenSSL while
    # the interpreter finalises crashed the process with SIGSEGV (exit -11, not 3).
    threading.Thread(target=build, name="newsmirror-tls", daemon=False).start()


def _prepared_tls(trust_env: bool) -> ssl.SSLContext | bool:
    """The context prepare_tls built for the environment as it is now, once; True (httpx
    builds its own) when there is none."""
    future = _early_tls.pop(_tls_key(trust_env), None)
    if future is None:
        return True
    try:
        return future.result()
    except Exception:
        return True


class Fetcher:
    """Fetch URLs politely; use as `async with Fetcher(settings) as f: await f.fetch(url)`."""

    def __init__(self, settings: FetchSettings | None = None, *, trust_env: bool = True) -> None:
        self.settings = settings or FetchSettings()
        self._trust_env = trust_env
        self._client: httpx.AsyncClient | None = None
        self._global = asyncio.Semaphore(self.settings.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=s.concurrency)
        transport = self.transport(limits)
        self._client = httpx.AsyncClient(
            headers={"User-Agent": s.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            timeout=httpx.Timeout(s.timeout, connect=s.connect_timeout),
            limits=limits,
            follow_redirects=False,
            trust_env=self._trust_env,
            transport=transport,
            verify=_prepared_tls(self._trust_env) if transport is None else True,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """GET `url` (conditionally when validators are given); raise FetchError on failure.

        A 429/503 with a Retry-After of at most `max_retry_after` seconds is
        waited out once; otherwise the error carries `retry_after_s`.
        """
        if self._client is None:
            raise RuntimeError("Fetcher.fetch() called outside 'async with Fetcher()'")
        try:
            return await self._attempt(url, etag, last_modified)
        except FetchError as err:
            wait = err.retry_after_s
            if err.status not in RETRY_AFTER_STATUSES or wait is None:
                raise
            if wait > self.settings.max_retry_after:
                raise
        await asyncio.sleep(wait)
        return await self._attempt(url, etag, last_modified)

    @contextlib.asynccontextmanager
    async def _host_slot(self, url: httpx.URL) -> AsyncIterator[None]:
        host = url.host.lower()
        slot = self._hosts.get(host)
        if slot is None:
            slot = self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        async with slot:
            yield

    async def _attempt(
        self, url: str, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        """One try: follow redirects under a single deadline, each hop holding a slot of its
        host and then one of the run's total. In that order: a request that waits for its
        host (many pages of one site) holds none of the total, which the other hosts need."""
        settings = self.settings
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        try:
            current = httpx.URL(url)
            for _hop in range(settings.max_redirects + 1):
                async with self._host_slot(current), self._global:
                    if deadline is None:  # waiting for a slot is not the server's fault
                        deadline = loop.time() + settings.timeout
                    async with asyncio.timeout_at(deadline):
                        outcome = await self._request(current, headers)
                if isinstance(outcome, FetchResult):
                    return _with_sent_validators(outcome, etag, last_modified)
                current = outcome
        except _NETWORK_ERRORS as exc:
            raise _map_error(exc, settings) from exc
        raise FetchError(f"too many redirects (more than {settings.max_redirects})")

    def transport(self, limits: httpx.Limits) -> httpx.AsyncBaseTransport | None:
        """The httpx transport to send requests with; None for httpx's own (see
        fetch/safety.py for one that connects only to checked addresses)."""
        return None

    async def before_request(self, url: httpx.URL) -> None:
        """Called before every request is sent, the first and each redirect hop; a subclass
        may refuse one by raising a FetchError (see fetch/safety.py)."""

    async def _request(self, url: httpx.URL, headers: dict[str, str]) -> FetchResult | httpx.URL:
        """Send one GET; return the result, or the next URL for a redirect."""
        assert self._client is not None
        await self.before_request(url)
        request = self._client.build_request("GET", url, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(
                        f"HTTP {status} redirect without a Location header", status=status
                    )
                return url.join(location.strip())
            if status == 304:
                return _result(response, b"")
            if not 200 <= status < 300:
                raise status_error(response)
            return _result(response, await self._read_body(response))
        finally:
            await response.aclose()

    async def _read_body(self, response: httpx.Response) -> bytes:
        """Read and decode the body, stopping as soon as the DECODED size exceeds
        `max_bytes`: the bounded decoder never produces more than a small piece ahead of
        this count, so a compression bomb costs no more memory than an honest body."""
        limit = self.settings.max_bytes
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit, response.status_code)
        encodings = response.headers.get_list("content-encoding", split_commas=True)
        chunks: list[bytes] = []
        try:
            return b"".join(await _decoded(response, encodings, limit, chunks))
        finally:
            # What was read goes now, not when the error's traceback (which sees this
            # frame) is collected: a caller may keep the error.
            chunks.clear()


async def _decoded(
    response: httpx.Response, encodings: list[str], limit: int, chunks: list[bytes]
) -> list[bytes]:
    """Append the decoded body to `chunks`, at most `limit` bytes; FetchError otherwise."""
    size = 0

    def keep(pieces: Iterator[bytes]) -> None:
        nonlocal size
        for piece in pieces:
            size += len(piece)
            if size > limit:
                raise _too_large(limit, response.status_code)
            chunks.append(piece)

    try:
        decoder = BoundedDecoder(encodings)
        async for raw in response.aiter_raw():
            keep(decoder.feed(raw))
        keep(decoder.finish())
    except TooManyEncodingsError as exc:
        raise FetchError(str(exc)) from exc
    except DecodeError as exc:
        raise FetchError(f"could not decode the {exc}-compressed body") from exc
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        raise FetchError("connection dropped mid-body") from exc
    return chunks


def _too_large(limit: int, status: int) -> FetchError:
    return FetchError(f"response larger than {format_bytes(limit)}", status=status)


def _result(response: httpx.Response, body: bytes) -> FetchResult:
    headers = response.headers
    return FetchResult(
        url=str(response.url),
        status=response.status_code,
        body=body,
        headers=MappingProxyType({k.lower(): v for k, v in headers.items()}),
        content_type=headers.get("content-type"),
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        not_modified=response.status_code == 304,
    )


def _with_sent_validators(
    result: FetchResult, etag: str | None, last_modified: str | None
) -> FetchResult:
    """On a 304, keep the validators we sent where the server did not repeat them."""
    if not result.not_modified:
        return result
    return replace(
        result, etag=result.etag or etag, last_modified=result.last_modified or last_modified
    )
