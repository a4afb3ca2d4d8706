"""Address refusal: schemes, credentials, and hosts that resolve to non-public addresses,
checked on the first request and on every redirect (real loopback servers)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from pytest_httpserver import HTTPServer

from newsmirror.fetch.client import FetchSettings
from newsmirror.fetch.safety import RefusedFetchError, SafeFetcher, UnsafeURLError
from tests.helpers import check_url

FAST = FetchSettings(timeout=5.0, connect_timeout=2.0)


def resolver_for(table: dict[str, str]):
    """A getaddrinfo stand-in answering from `table` (host -> IP) without any network."""

    def resolve(host, port, *args, **kwargs):
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (table[host], port))]

    return resolve


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1/", "loopback"),
    ("http://127.8.9.10:8080/x", "loopback"),
    ("http://10.0.0.1/", "private"),
    ("http://192.168.1.1/admin", "private"),
    ("http://172.16.5.4/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::1]/", "loopback"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fc00::1]/", "private"),
    ("http://[::ffff:10.0.0.1]/", "private"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://100.64.0.1/", "not a public address"),
    ("http://localhost:8000/", "loopback"),
])
def test_non_public_addresses_are_refused(url: str, words: str) -> None:
    with pytest.raises(UnsafeURLError, match=words):
        check_url(url)


@pytest.mark.parametrize("url, words", [
    ("ftp://example.com/file", "only http and https"),
    ("file:///etc/passwd", "only http and https"),
    ("javascript:alert(1)", "only http and https"),
    ("http://user:secret@example.com/", "user name or password"),
    ("http://user@example.com/", "user name or password"),
    ("not a url", "not a valid web address"),
])
def test_other_schemes_and_credentials_are_refused(url: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        check_url(url)


def test_names_are_checked_after_resolution() -> None:
    resolve = resolver_for({"intranet.example": "10.1.2.3", "news.example": "93.184.216.34",
                            "v6.example": "::1"})
    with pytest.raises(UnsafeURLError, match=r"intranet\.example \(10\.1\.2\.3\) is a private"):
        check_url("https://intranet.example/", resolver=resolve)
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url("https://v6.example/", resolver=resolve)
    with pytest.raises(UnsafeURLError, match="could not be resolved"):
        check_url("https://nowhere.example/", resolver=resolve)
    assert check_url("HTTPS://News.Example:443/a b", resolver=resolve) == "https://news.example/a%20b"


def test_public_literal_passes_without_dns() -> None:
    assert check_url("http://93.184.216.34/x") == "http://93.184.216.34/x"


def test_refusal_is_only_lifted_explicitly() -> None:
    assert check_url("http://127.0.0.1:9/", allow_private=True) == "http://127.0.0.1:9/"
    assert check_url("http://127.0.0.1:9/", allow_hosts={"127.0.0.1:9"}) == "http://127.0.0.1:9/"
    with pytest.raises(UnsafeURLError):
        check_url("http://127.0.0.1:10/", allow_hosts={"127.0.0.1:9"})
    # The scheme and credential rules hold even then.
    with pytest.raises(UnsafeURLError):
        check_url("ftp://127.0.0.1:9/", allow_private=True)


# -- through the fetcher, with real servers ---------------------------------------------------
def fetch(url: str, **options):
    async def go():
        async with SafeFetcher(FAST, trust_env=False, **options) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


@pytest.fixture
def other_server():
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def host_of(server: HTTPServer) -> str:
    return f"{server.host}:{server.port}"


def test_loopback_server_refused_before_any_request(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/page").respond_with_data("secret")
    with pytest.raises(RefusedFetchError, match="loopback"):
        fetch(httpserver.url_for("/page"))
    assert httpserver.log == []


def test_allowed_test_server_is_fetched(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/page").respond_with_data("hello", content_type="text/html")
    result = fetch(httpserver.url_for("/page"), allow_hosts={host_of(httpserver)})
    assert result.body == b"hello"


def redirect(httpserver: HTTPServer, location: str) -> None:
    httpserver.expect_request("/go").respond_with_data("", status=302, headers={"Location": location})


def test_redirect_to_metadata_address_is_refused(httpserver: HTTPServer) -> None:
    redirect(httpserver, "http://169.254.169.254/latest/meta-data/")
    with pytest.raises(RefusedFetchError, match="169.254.169.254 is a link-local address"):
        fetch(httpserver.url_for("/go"), allow_hosts={host_of(httpserver)})


def test_redirect_to_another_loopback_server_is_refused(httpserver: HTTPServer, other_server: HTTPServer) -> None:
    other_server.expect_request("/internal").respond_with_data("internal secret")
    redirect(httpserver, other_server.url_for("/internal"))
    with pytest.raises(RefusedFetchError, match="loopback"):
        fetch(httpserver.url_for("/go"), allow_hosts={host_of(httpserver)})
    assert len(httpserver.log) == 1
    assert other_server.log == []


def test_redirect_to_a_name_resolving_inside_is_refused(httpserver: HTTPServer, other_server: HTTPServer) -> None:
    other_server.expect_request("/").respond_with_data("router admin")
    # The fetcher connects where this resolver says, so it answers for the test server too.
    resolve = resolver_for({"router.example": "10.0.0.1", "localhost": "127.0.0.1"})
    redirect(httpserver, f"http://router.example:{other_server.port}/")
    with pytest.raises(RefusedFetchError, match=r"router\.example \(10\.0\.0\.1\) is a private"):
        fetch(httpserver.url_for("/go"), allow_hosts={host_of(httpserver)}, resolver=resolve)
    assert other_server.log == []


def test_redirect_to_ipv6_loopback_and_other_schemes_refused(httpserver: HTTPServer) -> None:
    redirect(httpserver, "http://[::1]:1/")
    with pytest.raises(RefusedFetchError, match="::1 is a loopback"):
        fetch(httpserver.url_for("/go"), allow_hosts={host_of(httpserver)})


def test_allow_private_follows_redirects_between_test_servers(httpserver: HTTPServer, other_server: HTTPServer) -> None:
    other_server.expect_request("/final").respond_with_data("made it")
    redirect(httpserver, other_server.url_for("/final"))
    result = fetch(httpserver.url_for("/go"), allow_private=True)
    assert result.body == b"made it"
    assert result.url == other_server.url_for("/final")


def test_refusal_is_a_fetch_error_with_a_reason(httpserver: HTTPServer) -> None:
    from newsmirror.fetch.client import FetchError

    with pytest.raises(FetchError) as caught:
        fetch("http://10.0.0.1/")
    assert "10.0.0.1 is a private address" in caught.value.reason
    assert isinstance(caught.value.__cause__, UnsafeURLError)
