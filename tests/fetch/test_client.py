"""Normal behaviour of the fetcher against loopback servers."""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import gzip
import time
import zlib

import brotli
import pytest
from pytest_httpserver import HTTPServer

import newsmirror
from newsmirror.fetch.client import (
    DEFAULT_USER_AGENT,
    Fetcher,
    FetchError,
    FetchSettings,
    format_bytes,
    parse_retry_after,
)

from .conftest import FAST
from .faultserver import RSS, FaultServer

FEED = RSS.decode("utf-8")


def test_plain_get(httpserver: HTTPServer, fetch) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED,
        content_type="application/rss+xml; charset=utf-8",
        headers={"ETag": '"v1"', "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT", "X-Thing": "a"},
    )
    result = fetch(httpserver.url_for("/feed.xml"))
    assert result.status == 200
    assert result.body == RSS
    assert result.url == httpserver.url_for("/feed.xml")
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert not result.not_modified
    assert result.headers["x-thing"] == "a"
    assert all(name == name.lower() for name in result.headers)
    with pytest.raises(TypeError):
        result.headers["x-thing"] = "b"  # type: ignore[index]


def test_user_agent_and_accept_encoding(faults: FaultServer, fetch) -> None:
    fetch(faults.url("/rss"))
    sent = faults.last_headers
    assert sent["user-agent"] == DEFAULT_USER_AGENT
    assert sent["user-agent"].startswith(f"newsmirror/{newsmirror.__version__} (+https://")
    assert {"gzip", "deflate", "br"} <= {e.strip() for e in sent["accept-encoding"].split(",")}
    assert "if-none-match" not in sent and "if-modified-since" not in sent


def test_custom_user_agent(faults: FaultServer, fetch) -> None:
    fetch(faults.url("/rss"), dataclasses.replace(FAST, user_agent="probe/1"))
    assert faults.last_headers["user-agent"] == "probe/1"


def test_conditional_get_not_modified(httpserver: HTTPServer, fetch) -> None:
    lm = "Mon, 01 Jan 2024 00:00:00 GMT"
    httpserver.expect_request(
        "/feed.xml", headers={"If-None-Match": '"v1"', "If-Modified-Since": lm}
    ).respond_with_data("", status=304)
    result = fetch(httpserver.url_for("/feed.xml"), etag='"v1"', last_modified=lm)
    assert result.status == 304 and result.not_modified
    assert result.body == b""
    # The server did not repeat the validators; the ones we sent stay valid.
    assert result.etag == '"v1"' and result.last_modified == lm


def test_conditional_get_changed(httpserver: HTTPServer, fetch) -> None:
    httpserver.expect_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        FEED, headers={"ETag": '"v2"'}
    )
    result = fetch(httpserver.url_for("/feed.xml"), etag='"v1"')
    assert result.status == 200 and not result.not_modified
    assert result.etag == '"v2"' and result.last_modified is None
    assert result.body == RSS


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("br", brotli.compress), ("deflate", zlib.compress)],
)
def test_compressed_bodies(httpserver: HTTPServer, fetch, encoding: str, compress) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        compress(RSS * 50), headers={"Content-Encoding": encoding}
    )
    assert fetch(httpserver.url_for("/feed.xml")).body == RSS * 50


def test_size_cap_with_content_length(httpserver: HTTPServer, fetch) -> None:
    httpserver.expect_request("/big").respond_with_data(b"a" * 2000)
    httpserver.expect_request("/fits").respond_with_data(b"a" * 1000)
    settings = dataclasses.replace(FAST, max_bytes=1000)
    with pytest.raises(FetchError, match=r"^response larger than 1000 bytes$"):
        fetch(httpserver.url_for("/big"), settings)
    assert fetch(httpserver.url_for("/fits"), settings).body == b"a" * 1000


def test_size_cap_without_content_length(faults: FaultServer, fetch) -> None:
    settings = dataclasses.replace(FAST, max_bytes=100_000)
    with pytest.raises(FetchError, match=r"^response larger than 97.7 KiB$"):
        fetch(faults.url("/sized?n=100001&length=0"), settings)
    assert len(fetch(faults.url("/sized?n=100000&length=0"), settings).body) == 100_000


def test_size_cap_counts_decompressed_bytes(httpserver: HTTPServer, fetch) -> None:
    # 2 MiB of zeros compress to a few KiB: the cap applies to what we would keep.
    httpserver.expect_request("/bomb").respond_with_data(
        gzip.compress(b"\0" * (2 * 1024 * 1024)), headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError, match=r"^response larger than 1 MiB$"):
        fetch(httpserver.url_for("/bomb"), dataclasses.replace(FAST, max_bytes=1024 * 1024))


def test_redirects_are_followed_up_to_the_limit(faults: FaultServer, fetch) -> None:
    result = fetch(faults.url("/redirect/5"))
    assert result.url == faults.url("/redirect/0")
    assert result.body == RSS
    with pytest.raises(FetchError, match=r"^too many redirects \(more than 5\)$"):
        fetch(faults.url("/redirect/6"))
    with pytest.raises(FetchError, match=r"^too many redirects \(more than 1\)$"):
        fetch(faults.url("/redirect/2"), dataclasses.replace(FAST, max_redirects=1))


def test_redirect_across_hosts_keeps_validators(httpserver: HTTPServer, faults: FaultServer, fetch) -> None:
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": faults.url("/rss")}
    )
    result = fetch(httpserver.url_for("/old"), etag='"e"')
    assert result.url == faults.url("/rss")
    assert faults.last_headers["if-none-match"] == '"e"'


async def _fetch_many(settings: FetchSettings, urls: list[str]) -> list:
    async with Fetcher(settings, trust_env=False) as fetcher:
        return await asyncio.gather(*(fetcher.fetch(u) for u in urls))


def test_per_host_cap(faults: FaultServer) -> None:
    settings = dataclasses.replace(FAST, per_host=2, concurrency=16)
    started = time.monotonic()
    results = asyncio.run(_fetch_many(settings, [faults.url("/slow?s=0.3")] * 6))
    assert [r.status for r in results] == [200] * 6
    assert faults.max_active == 2
    assert time.monotonic() - started >= 0.85  # three waves of 0.3 s


def test_global_cap(faults: FaultServer) -> None:
    settings = dataclasses.replace(FAST, per_host=10, concurrency=3)
    results = asyncio.run(_fetch_many(settings, [faults.url("/slow?s=0.3")] * 9))
    assert len(results) == 9
    assert faults.max_active == 3


def test_per_host_cap_is_per_host(faults: FaultServer) -> None:
    # 127.0.0.1 and localhost are two host names for the same loopback server.
    settings = dataclasses.replace(FAST, per_host=1, concurrency=16)
    urls = [faults.url("/slow?s=0.3", host=h) for h in ("127.0.0.1", "localhost") * 2]
    asyncio.run(_fetch_many(settings, urls))
    assert faults.max_active == 2


def test_waiting_for_a_slot_does_not_count_against_the_timeout(faults: FaultServer) -> None:
    # One at a time, the last of six waits 2.5 s for its slot, more than the 2 s deadline,
    # while each answer takes 0.5 s: a loaded machine has 1.5 s of slack per request.
    settings = dataclasses.replace(FAST, per_host=1, timeout=2.0)
    results = asyncio.run(_fetch_many(settings, [faults.url("/slow?s=0.5")] * 6))
    assert [r.status for r in results] == [200] * 6
    assert faults.max_active == 1


def test_retry_after_http_date_long(httpserver: HTTPServer, fetch) -> None:
    when = email.utils.formatdate(time.time() + 7200, usegmt=True)
    httpserver.expect_request("/feed").respond_with_data(
        "busy", status=503, headers={"Retry-After": when}
    )
    with pytest.raises(FetchError) as info:
        fetch(httpserver.url_for("/feed"))
    assert 7190 <= info.value.retry_after_s <= 7200
    assert info.value.reason.startswith("HTTP 503 Service Unavailable, retry after 7")


def test_retry_after_short_then_success(httpserver: HTTPServer, fetch) -> None:
    httpserver.expect_oneshot_request("/feed").respond_with_data(
        "busy", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_request("/feed").respond_with_data(FEED)
    started = time.monotonic()
    result = fetch(httpserver.url_for("/feed"))
    assert time.monotonic() - started >= 0.9
    assert result.body == RSS
    assert len(httpserver.log) == 2


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(" 0 ", now) == 0
    assert parse_retry_after(email.utils.formatdate(now + 90, usegmt=True), now) == 90
    assert parse_retry_after(email.utils.formatdate(now - 90, usegmt=True), now) == 0
    for bad in (None, "", "soon", "-5", "1.5e9", "Mon, 99 Foo 2024"):
        assert parse_retry_after(bad, now) is None


def test_format_bytes() -> None:
    assert format_bytes(15 * 1024 * 1024) == "15 MiB"
    assert format_bytes(512 * 1024) == "512 KiB"
    assert format_bytes(900) == "900 bytes"


def test_fetch_outside_context_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        asyncio.run(Fetcher(FAST).fetch("http://127.0.0.1:9/"))


def test_fetcher_can_be_used_for_many_requests(faults: FaultServer) -> None:
    results = asyncio.run(_fetch_many(FAST, [faults.url("/rss")] * 20))
    assert all(r.body == RSS for r in results)



# -- the TLS context built ahead of the first request ------------------------------------
def _tls_server(tmp_path):
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="localhost", ssl_context=context)
    server.start()
    server.expect_request("/").respond_with_data("over TLS")
    return server, cert


def test_a_prepared_tls_context_is_httpxs_own_and_taken_once(tmp_path, monkeypatch) -> None:
    from newsmirror.fetch import client

    server, cert = _tls_server(tmp_path)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # read when the context is built
        client.prepare_tls()
        prepared = client._early_tls[client._tls_key(True)].result(timeout=30)

        async def go() -> tuple[bytes, object]:
            async with Fetcher(FAST) as fetcher:
                result = await fetcher.fetch(f"https://localhost:{server.port}/")
                assert fetcher._client is not None
                return result.body, fetcher._client._transport._pool._ssl_context  # type: ignore[attr-defined]

        body, used = asyncio.run(go())
        assert body == b"over TLS" and used is prepared
        assert client._tls_key(True) not in client._early_tls  # the next Fetcher builds its own
        assert asyncio.run(go())[0] == b"over TLS"
    finally:
        server.clear()
        server.stop()


def test_a_context_prepared_for_another_environment_is_not_used(tmp_path, monkeypatch) -> None:
    from newsmirror.fetch import client

    server, cert = _tls_server(tmp_path)
    try:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        client.prepare_tls()  # the default bundle, which does not trust the test's certificate
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))

        async def go() -> bytes:
            async with Fetcher(FAST) as fetcher:
                return (await fetcher.fetch(f"https://localhost:{server.port}/")).body

        assert asyncio.run(go()) == b"over TLS"
    finally:
        client._early_tls.clear()
        server.clear()
        server.stop()
