"""Fault injection: every misbehaving server ends in a readable FetchError, quickly."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import time
from collections.abc import Callable

import pytest

from newsmirror.fetch.client import FetchError, FetchResult, FetchSettings

from .conftest import FAST, fetch_with
from .faultserver import HTML, MAX_HANG_S, FaultServer


def failing(
    fetch: Callable[..., FetchResult], url: str, settings: FetchSettings = FAST
) -> FetchError:
    """Fetch `url` and expect a FetchError. It must come from the fetch's own bounds, long
    before the fault server would have let go (MAX_HANG_S): a bound set by the fault, not by
    the machine's speed, so a loaded machine cannot fail it."""
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch(url, settings)
    elapsed = time.monotonic() - started
    assert elapsed < MAX_HANG_S, f"took {elapsed:.2f} s: the fault, not the fetch, ended it"
    return info.value


def test_server_that_never_answers_times_out(faults: FaultServer, fetch) -> None:
    started = time.monotonic()
    err = failing(fetch, faults.url("/hang"))
    assert str(err) == err.reason == "timed out after 2 s"
    assert time.monotonic() - started >= 1.9
    assert err.status is None and err.retry_after_s is None and not err.gone


def test_trickling_body_is_cut_off_by_the_total_timeout(faults: FaultServer, fetch) -> None:
    # One byte every 0.2 s never trips a per-read timeout; only the total deadline stops it.
    settings = dataclasses.replace(FAST, timeout=1.5)
    err = failing(fetch, faults.url("/trickle?every=0.2"), settings=settings)
    assert err.reason == "timed out after 1.5 s"


def test_huge_body_with_content_length_is_rejected_before_reading(
    faults: FaultServer, fetch
) -> None:
    err = failing(fetch, faults.url("/huge"))
    assert err.reason == "response larger than 15 MiB"


def test_huge_body_without_content_length_stops_once_over_the_cap(
    faults: FaultServer, fetch
) -> None:
    settings = dataclasses.replace(FAST, max_bytes=1024 * 1024, timeout=10.0)
    err = failing(fetch, faults.url("/huge?length=0"), settings=settings)
    assert err.reason == "response larger than 1 MiB"


def test_redirect_loop_fails_cleanly(faults: FaultServer, fetch) -> None:
    err = failing(fetch, faults.url("/loop"))
    assert err.reason == "too many redirects (more than 5)"
    assert faults.hits["/loop"] == 6


def test_connection_dropped_mid_body(faults: FaultServer, fetch) -> None:
    err = failing(fetch, faults.url("/drop"))
    assert err.reason == "connection dropped mid-body"


def test_connection_closed_without_response(faults: FaultServer, fetch) -> None:
    err = failing(fetch, faults.url("/close"))
    assert err.reason == "server closed the connection without a response"


def test_connection_refused() -> None:
    # Reserve a free port, then close it so nothing listens there.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(FetchError) as info:
        asyncio.run(fetch_with(FAST, f"http://127.0.0.1:{port}/feed"))
    assert time.monotonic() - started < MAX_HANG_S
    assert info.value.reason == "could not connect: connection refused"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (500, "HTTP 500 Internal Server Error"),
        (404, "HTTP 404 Not Found"),
        (403, "HTTP 403 Forbidden"),
        (503, "HTTP 503 Service Unavailable"),
        (429, "HTTP 429 Too Many Requests"),
    ],
)
def test_error_statuses(faults: FaultServer, fetch, code: int, reason: str) -> None:
    err = failing(fetch, faults.url(f"/status/{code}"))
    assert err.reason == reason
    assert err.status == code and not err.gone and err.retry_after_s is None


def test_gone_is_flagged(faults: FaultServer, fetch) -> None:
    err = failing(fetch, faults.url("/status/410"))
    assert err.reason == "HTTP 410 Gone"
    assert err.gone and err.status == 410


def test_long_retry_after_is_reported_not_waited(faults: FaultServer, fetch) -> None:
    err = failing(fetch, faults.url("/status/429?retry_after=3600"))
    assert err.reason == "HTTP 429 Too Many Requests, retry after 3600 s"
    assert err.status == 429 and err.retry_after_s == 3600
    assert faults.hits["/status/429"] == 1


def test_short_retry_after_is_waited_once_then_fails(faults: FaultServer, fetch) -> None:
    started = time.monotonic()
    err = failing(fetch, faults.url("/status/503?retry_after=1"))
    assert time.monotonic() - started >= 0.9
    assert err.reason == "HTTP 503 Service Unavailable, retry after 1 s"
    assert err.retry_after_s == 1
    assert faults.hits["/status/503"] == 2


def test_short_retry_after_is_waited_and_retried(faults: FaultServer, fetch) -> None:
    started = time.monotonic()
    result = fetch(faults.url("/busy-once?retry_after=1"))
    elapsed = time.monotonic() - started
    assert elapsed >= 0.9  # it waited the second Retry-After asked for, then retried
    assert result.status == 200 and result.body.startswith(b"<?xml")
    assert faults.hits["/busy-once"] == 2


def test_html_instead_of_xml_is_returned_for_the_parser_to_judge(
    faults: FaultServer, fetch
) -> None:
    result = fetch(faults.url("/html"))
    assert result.status == 200
    assert result.content_type == "text/html; charset=utf-8"
    assert result.body == HTML


def test_corrupt_gzip_body(faults: FaultServer, fetch) -> None:
    err = failing(fetch, faults.url("/badgzip"))
    assert err.reason == "could not decode the gzip-compressed body"


def test_redirect_to_unsupported_scheme(httpserver) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "", status=302, headers={"Location": "ftp://example.invalid/feed"}
    )
    with pytest.raises(FetchError) as info:
        asyncio.run(fetch_with(FAST, httpserver.url_for("/feed")))
    assert info.value.reason.startswith("unsupported or invalid URL")


def test_tls_to_a_plain_http_server(faults: FaultServer) -> None:
    url = faults.url("/rss").replace("http://", "https://")
    with pytest.raises(FetchError) as info:
        asyncio.run(fetch_with(FAST, url))
    assert info.value.reason.startswith("could not connect: TLS error")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://[::1", "ftp://127.0.0.1/feed"])
def test_unusable_urls_are_fetch_errors(url: str) -> None:
    with pytest.raises(FetchError, match=r"^unsupported or invalid URL"):
        asyncio.run(fetch_with(FAST, url))
