"""Hostile responses and addresses: compression bombs, DNS rebinding, addresses that embed
private ones. Every server is real and on loopback; every bomb is generated here."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import brotli
import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

from newsmirror.fetch.client import Fetcher, FetchError, FetchSettings
from newsmirror.fetch.decode import PIECE
from newsmirror.fetch.safety import (
    RefusedFetchError,
    SafeFetcher,
    UnsafeURLError,
)
from tests.helpers import check_url

PROJECT = Path(__file__).resolve().parents[2]
SETTINGS = FetchSettings(timeout=60.0, connect_timeout=5.0)  # default max_bytes: 15 MiB
MIB = 1 << 20
GIB = 1 << 30
ZEROS = b"\0" * MIB


# -- bombs -----------------------------------------------------------------------------
def _deflate_zeros(size: int) -> tuple[bytes, bytes]:
    """Raw deflate of `size` zero bytes (a whole number of MiB), built from one
    compressed MiB repeated: after a full flush the compressor starts afresh, so each
    MiB compresses to the same bytes. Returns (deflate data, final empty block)."""
    assert size % MIB == 0
    squeeze = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    one = squeeze.compress(ZEROS) + squeeze.flush(zlib.Z_FULL_FLUSH)
    return one * (size // MIB), squeeze.flush()


def gzip_bomb(size: int = GIB) -> bytes:
    """A single valid gzip member that decodes to `size` zeros (about 1 MB for 1 GiB)."""
    body, end = _deflate_zeros(size)
    crc = 0
    for _ in range(size // MIB):
        crc = zlib.crc32(ZEROS, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + body + end + struct.pack("<II", crc, size & 0xFFFFFFFF)


def zlib_bomb(size: int = GIB) -> bytes:
    """HTTP "deflate" (zlib-wrapped) that decodes to `size` zeros."""
    body, end = _deflate_zeros(size)
    adler = 1
    for _ in range(size // MIB):
        adler = zlib.adler32(ZEROS, adler)
    return b"\x78\xda" + body + end + struct.pack(">I", adler)


def brotli_bomb(size: int = GIB) -> bytes:
    """Brotli that decodes to `size` zeros (under 2 KB for 1 GiB)."""
    squeeze = brotli.Compressor(quality=5)
    parts = [squeeze.process(ZEROS) for _ in range(size // MIB)]
    return b"".join(parts) + squeeze.finish()


@pytest.fixture(scope="module")
def bombs() -> dict[str, tuple[str, bytes]]:
    """name -> (Content-Encoding, body); each decodes to 1 GiB of zeros."""
    gz = gzip_bomb()
    return {
        "br": ("br", brotli_bomb()),
        "gzip": ("gzip", gz),
        "deflate": ("deflate", zlib_bomb()),
        "gzip, gzip": ("gzip, gzip", gzip.compress(gz)),
        "br inside gzip": ("br, gzip", gzip.compress(brotli_bomb())),
    }


def test_the_bombs_are_real() -> None:
    # The generators give valid streams: checked on a small size with the standard tools.
    assert gzip.decompress(gzip_bomb(3 * MIB)) == b"\0" * (3 * MIB)
    assert zlib.decompress(zlib_bomb(3 * MIB)) == b"\0" * (3 * MIB)
    assert brotli.decompress(brotli_bomb(3 * MIB)) == b"\0" * (3 * MIB)


def serve_bombs(server: HTTPServer, bombs: dict[str, tuple[str, bytes]]) -> dict[str, str]:
    urls = {}
    for index, (name, (encoding, body)) in enumerate(bombs.items()):
        path = f"/bomb{index}"
        server.expect_request(path).respond_with_data(
            body, content_type="application/rss+xml", headers={"Content-Encoding": encoding})
        urls[name] = server.url_for(path)
    return urls


def fetch(url: str, settings: FetchSettings = SETTINGS):
    async def go():
        async with Fetcher(settings, trust_env=False) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


def test_every_bomb_stops_at_max_bytes(httpserver: HTTPServer, bombs) -> None:
    for url in serve_bombs(httpserver, bombs).values():
        with pytest.raises(FetchError, match=r"^response larger than 15 MiB$"):
            fetch(url)
    small = dataclasses.replace(SETTINGS, max_bytes=100_000)
    for url in serve_bombs(httpserver, bombs).values():
        with pytest.raises(FetchError, match=r"^response larger than 97.7 KiB$"):
            fetch(url, small)


CHILD = r"""
import asyncio, json, os, resource, sys
from newsmirror.fetch.client import Fetcher, FetchError, FetchSettings

def peak_mb():
    try:
        with open("/proc/self/status") as status:  # this process's own high-water mark
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024

async def main(urls):
    reasons = {}
    async with Fetcher(FetchSettings(timeout=60.0), trust_env=False) as fetcher:
        for name, url in urls.items():
            try:
                result = await fetcher.fetch(url)
                reasons[name] = f"fetched {len(result.body)} bytes"
            except FetchError as err:
                reasons[name] = str(err)
    return reasons

before = peak_mb()
reasons = asyncio.run(main(json.loads(sys.argv[1])))
print(json.dumps({"reasons": reasons, "before_mb": before, "peak_mb": peak_mb()}))
"""


def test_bombs_never_take_memory_beyond_100_mb(httpserver: HTTPServer, bombs) -> None:
    urls = serve_bombs(httpserver, bombs)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(urls)], env=env, check=False,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["reasons"] == {name: "response larger than 15 MiB" for name in urls}
    # Each bomb decodes to 1 GiB; the fetcher must hold no more than its 15 MiB cap.
    assert report["peak_mb"] < 100, report


# -- honest compressed bodies still decode byte for byte --------------------------------
TEXT = "".join(f"<item><title>第 {n} 条 news № {n * 7919 % 10007}</title></item>\n"
               for n in range(40_000)).encode("utf-8")  # about 2.5 MB, many pieces


def br(data: bytes) -> bytes:
    return brotli.compress(data, quality=5)  # quality 11 takes seconds on 2.5 MB


def raw_deflate(data: bytes) -> bytes:
    squeeze = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return squeeze.compress(data) + squeeze.flush()


@pytest.mark.parametrize(("encoding", "compress"), [
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("br", br),
    ("deflate", zlib.compress),
    ("deflate", raw_deflate),  # what some servers send for "deflate"
    ("gzip, br", lambda data: br(gzip.compress(data))),
    ("br, gzip", lambda data: gzip.compress(br(data))),
    ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
    ("identity", lambda data: data),
    ("GZIP", gzip.compress),
    ("gzip", lambda data: gzip.compress(data[:1000]) + gzip.compress(data[1000:])),  # 2 members
])
def test_honest_compressed_bodies_decode_exactly(httpserver: HTTPServer, encoding, compress) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        compress(TEXT), headers={"Content-Encoding": encoding})
    assert fetch(httpserver.url_for("/feed")).body == TEXT


@pytest.mark.parametrize(("encoding", "compress"), [
    ("gzip", gzip.compress), ("br", br), ("deflate", zlib.compress),
    ("deflate", raw_deflate),
])
def test_compressed_body_in_one_byte_chunks(httpserver: HTTPServer, encoding, compress) -> None:
    body = compress(TEXT[:20_000])

    def handler(request):
        return Response((body[i:i + 1] for i in range(len(body))),
                        headers={"Content-Encoding": encoding})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    assert fetch(httpserver.url_for("/feed")).body == TEXT[:20_000]


def test_max_bytes_counts_the_decoded_size_exactly(httpserver: HTTPServer) -> None:
    size = 3 * PIECE + 17
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    httpserver.expect_request("/br").respond_with_data(
        brotli.compress(body), headers={"Content-Encoding": "br"})
    exact = dataclasses.replace(SETTINGS, max_bytes=size)
    assert fetch(httpserver.url_for("/br"), exact).body == body
    with pytest.raises(FetchError, match=r"^response larger than 192 KiB$"):
        fetch(httpserver.url_for("/br"), dataclasses.replace(SETTINGS, max_bytes=size - 1))


@pytest.mark.parametrize(("encoding", "body", "reason"), [
    ("br", b"this is not brotli at all" * 10, "could not decode the br-compressed body"),
    ("gzip", b"\x1f\x8b\x08\x00" + b"\xff" * 40, "could not decode the gzip-compressed body"),
    ("deflate", b"\x78\x9c" + b"\xff" * 40, "could not decode the deflate-compressed body"),
    ("gzip, gzip, gzip, gzip", gzip.compress(b"x"),
     "too many content encodings (4, at most 3)"),
])
def test_bad_compressed_bodies_are_clear_errors(httpserver: HTTPServer, encoding, body, reason) -> None:
    httpserver.expect_request("/bad").respond_with_data(body, headers={"Content-Encoding": encoding})
    with pytest.raises(FetchError) as caught:
        fetch(httpserver.url_for("/bad"))
    assert caught.value.reason == reason


# -- DNS rebinding: the connection goes to the address that was checked -----------------
class RebindingResolver:
    """A resolver under the test's control: answers `answers` in turn, then the last one
    for ever after, and remembers every question."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[str, int]] = []

    def __call__(self, host, port, *args, **kwargs):
        self.asked.append((host, port))
        address = self.answers[min(len(self.asked), len(self.answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


def server_on(host: str, port: int = 0, **options) -> HTTPServer:
    server = HTTPServer(host=host, port=port, **options)
    server.start()
    return server


@pytest.fixture
def twin_servers():
    """servers(*hosts): one server per loopback address, all on the same port, so that
    only the address decides which one a connection reaches."""
    started: list[HTTPServer] = []

    def make(*hosts: str) -> list[HTTPServer]:
        for _attempt in range(20):
            try:
                first = server_on(hosts[0])
            except OSError:
                pytest.skip(f"cannot listen on {hosts[0]} (only Linux routes all of 127/8)")
            group = [first]
            try:
                group += [server_on(host, first.port) for host in hosts[1:]]
            except OSError:  # that port was taken on another address: try another
                for server in group:
                    server.stop()
                continue
            started.extend(group)
            return group
        pytest.fail("no port free on every loopback address")

    yield make
    for server in started:
        server.clear()
        server.stop()


def safe_fetch(url: str, **options):
    async def go():
        async with SafeFetcher(SETTINGS, trust_env=False, **options) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(go())


def test_rebinding_after_the_check_never_reaches_inside(twin_servers) -> None:
    # "localhost" is what the system resolver (which httpx would use to connect) says is
    # 127.0.0.1. The guard's resolver first says 127.0.0.2 (let through for this test,
    # standing in for a public address), then 127.0.0.1 for ever: a rebinding name.
    checked, inside = twin_servers("127.0.0.2", "127.0.0.1")
    checked.expect_request("/page").respond_with_data("the public page")
    inside.expect_request("/page").respond_with_data("internal secret")
    resolve = RebindingResolver("127.0.0.2", "127.0.0.1")
    url = f"http://localhost:{checked.port}/page"
    result = safe_fetch(url, resolver=resolve, allow_addresses={"127.0.0.2"})
    assert result.body == b"the public page"
    assert result.url == url
    assert resolve.asked == [("localhost", checked.port)]  # resolved once, for the check
    assert inside.log == []
    (request, _response), = checked.log
    assert request.headers["Host"] == f"localhost:{checked.port}"  # the original name


def test_a_second_resolution_would_have_been_refused(twin_servers) -> None:
    # The same resolver asked twice refuses the second time: so the fetch succeeding
    # proves no second resolution was made, neither for the check nor for the connection.
    checked, inside = twin_servers("127.0.0.2", "127.0.0.1")
    checked.expect_request("/").respond_with_data("ok")
    resolve = RebindingResolver("127.0.0.2", "127.0.0.1")
    with pytest.raises(UnsafeURLError, match="loopback"):
        check_url("http://localhost/", resolver=RebindingResolver("127.0.0.1"))
    assert safe_fetch(f"http://localhost:{checked.port}/", resolver=resolve,
                      allow_addresses={"127.0.0.2"}).body == b"ok"
    assert len(resolve.asked) == 1 and inside.log == []


def test_each_redirect_hop_is_checked_and_pinned(twin_servers) -> None:
    first, first_inside = twin_servers("127.0.0.2", "127.0.0.1")
    second, second_inside = twin_servers("127.0.0.3", "127.0.0.1")
    first.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": f"http://localhost:{second.port}/final"})
    second.expect_request("/final").respond_with_data("made it")
    for inside in (first_inside, second_inside):
        inside.expect_request("/go").respond_with_data("internal")
        inside.expect_request("/final").respond_with_data("internal")
    resolve = RebindingResolver("127.0.0.2", "127.0.0.3", "127.0.0.1")
    result = safe_fetch(f"http://localhost:{first.port}/go", resolver=resolve,
                        allow_addresses={"127.0.0.2", "127.0.0.3"})
    assert result.body == b"made it"
    assert resolve.asked == [("localhost", first.port), ("localhost", second.port)]
    assert first_inside.log == [] and second_inside.log == []
    assert len(first.log) == 1 and len(second.log) == 1


def test_a_hop_whose_one_resolution_is_inside_is_refused(twin_servers) -> None:
    first, inside = twin_servers("127.0.0.2", "127.0.0.1")
    first.expect_request("/go").respond_with_data(
        "", status=302, headers={"Location": f"http://rebind.example:{first.port}/x"})
    inside.expect_request("/x").respond_with_data("internal")
    resolve = RebindingResolver("127.0.0.2", "127.0.0.1")
    with pytest.raises(RefusedFetchError, match=r"rebind\.example \(127\.0\.0\.1\) is a loopback"):
        safe_fetch(f"http://localhost:{first.port}/go", resolver=resolve,
                   allow_addresses={"127.0.0.2"})
    assert inside.log == []


def test_a_name_with_several_addresses_uses_only_those(twin_servers) -> None:
    # The first checked address has nothing listening: the next checked one is used,
    # never a fresh resolution (which would say 127.0.0.1).
    (second, inside) = twin_servers("127.0.0.3", "127.0.0.1")
    second.expect_request("/").respond_with_data("second address")
    inside.expect_request("/").respond_with_data("internal")
    asked = []

    def resolve(host, port, *args, **kwargs):
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in ("127.0.0.2", "127.0.0.3")]

    result = safe_fetch(f"http://localhost:{second.port}/", resolver=resolve,
                        allow_addresses={"127.0.0.2", "127.0.0.3"})
    assert result.body == b"second address"
    assert asked == ["localhost"] and inside.log == []


def test_a_connection_that_skipped_the_check_is_refused(twin_servers) -> None:
    (server,) = twin_servers("127.0.0.1")
    server.expect_request("/").respond_with_data("internal")

    async def go():
        async with SafeFetcher(SETTINGS, trust_env=False, allow_private=True) as fetcher:
            assert fetcher._client is not None
            await fetcher._client.get(server.url_for("/"))  # no before_request, no pin

    with pytest.raises(httpx.ConnectError, match="it was not checked"):
        asyncio.run(go())
    assert server.log == []


def test_tls_keeps_the_host_name_for_sni_and_the_certificate(tmp_path, twin_servers, monkeypatch) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=news.example", "-addext", "subjectAltName=DNS:news.example",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    for _attempt in range(20):
        try:
            server = server_on("127.0.0.2", ssl_context=context)
        except OSError:
            pytest.skip("cannot listen on 127.0.0.2")
        break
    try:
        server.expect_request("/page").respond_with_data("over TLS")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust the test's own certificate
        resolve = RebindingResolver("127.0.0.2", "127.0.0.1")

        async def go():
            async with SafeFetcher(SETTINGS, trust_env=True, resolver=resolve,
                                   allow_addresses={"127.0.0.2"}) as fetcher:
                return await fetcher.fetch(f"https://news.example:{server.port}/page")

        assert asyncio.run(go()).body == b"over TLS"
        assert names == ["news.example"]  # SNI, and the certificate checked for that name
        (request, _response), = server.log
        assert request.headers["Host"] == f"news.example:{server.port}"
    finally:
        server.clear()
        server.stop()


# -- addresses that embed or are special ones -------------------------------------------
@pytest.mark.parametrize(("host", "words"), [
    # 6to4 (2002::/16) carries an IPv4 address in bits 16-48.
    ("[2002:7f00:1::]", "6to4 address of 127.0.0.1, a loopback address"),
    ("[2002:a9fe:a9fe::]", "6to4 address of 169.254.169.254, a link-local address"),
    ("[2002:a00:1::1]", "6to4 address of 10.0.0.1, a private address"),
    ("[2002:c0a8:101::]", "6to4 address of 192.168.1.1, a private address"),
    # NAT64 (64:ff9b::/96) carries it in the last 32 bits.
    ("[64:ff9b::7f00:1]", "NAT64 address of 127.0.0.1, a loopback address"),
    ("[64:ff9b::a9fe:a9fe]", "NAT64 address of 169.254.169.254"),
    ("[64:ff9b::a00:1]", "NAT64 address of 10.0.0.1, a private address"),
    ("[64:ff9b:1::a00:1]", "refused"),
    # Teredo (2001::/32): the client address is stored inverted.
    ("[2001:0:4136:e378:8000:63bf:f5ff:fffe]", "Teredo address of 10.0.0.1, a private address"),
    ("[2001:0:4136:e378:8000:63bf:80ff:fffe]", "Teredo address of 127.0.0.1, a loopback"),
    # IPv4-mapped and IPv4-compatible.
    ("[::ffff:127.0.0.1]", "IPv4-mapped address of 127.0.0.1, a loopback address"),
    ("[::ffff:169.254.169.254]", "IPv4-mapped address of 169.254.169.254"),
    ("[::ffff:a00:1]", "IPv4-mapped address of 10.0.0.1, a private address"),
    ("[::127.0.0.1]", "IPv4-compatible address of 127.0.0.1, a loopback address"),
    ("[::a9fe:a9fe]", "IPv4-compatible address of 169.254.169.254"),
    # Cloud metadata services.
    ("169.254.169.254", "metadata service"),
    ("169.254.170.2", "AWS container metadata"),
    ("[fd00:ec2::254]", "AWS instance metadata"),
    ("[fd20:ce::254]", "Google Cloud metadata"),
    ("100.100.100.200", "Alibaba Cloud metadata"),
    ("192.0.0.192", "Oracle Cloud metadata"),
    ("168.63.129.16", "a cloud metadata address (the Azure host service"),  # a public address
    ("169.254.0.23", "Tencent Cloud metadata"),
    # Not globally reachable, though some Pythons say so.
    ("192.0.0.8", "an IETF protocol address"),
    ("192.0.0.170", "refused"),
    ("[5f00::1]", "refused"),
    ("[3fff::1]", "refused"),
])
def test_special_and_embedding_addresses_are_refused(host: str, words: str) -> None:
    with pytest.raises(UnsafeURLError, match=re.escape(words)):
        check_url(f"http://{host}/latest/meta-data/")


@pytest.mark.parametrize(("name", "address", "words"), [
    ("metadata.google.internal", "169.254.169.254", "metadata service"),
    ("six.example", "2002:7f00:1::", "6to4 address of 127.0.0.1"),
    ("nat.example", "64:ff9b::a9fe:a9fe", "NAT64 address of 169.254.169.254"),
    ("azure.example", "168.63.129.16", "Azure host service"),
    ("mapped.example", "::ffff:c0a8:1", "IPv4-mapped address of 192.168.0.1"),
])
def test_names_resolving_to_them_are_refused(name: str, address: str, words: str) -> None:
    with pytest.raises(UnsafeURLError, match=re.escape(f"{name} ({address}) is ") + ".*"
                       + re.escape(words)):
        check_url(f"https://{name}/", resolver=RebindingResolver(address))


@pytest.mark.parametrize("host", [
    "93.184.216.34",
    "[2606:2800:220:1:248:1893:25c8:1946]",
    "[2002:5db8:d822::1]",  # 6to4 of the public 93.184.216.34
    "192.0.0.9",  # IANA: globally reachable
    "8.8.8.8",
])
def test_public_addresses_still_pass(host: str) -> None:
    assert check_url(f"http://{host}/x") == f"http://{host}/x"


# -- a lying charset header, end to end: loopback server, fetcher, feed parser ----------
LIES = [
    # (header charset, body encoding, titles): each body also decodes under the lie.
    ("big5", "gb18030", ["美国之音中文网：习近平会见拜登", "外交部：中方坚决反对",
                         "他说中国经济发展的基本面没有改变"]),
    ("utf-8", "big5", ["臺灣中央選舉委員會公布總統大選結果", "他說中國經濟發展的基本面沒有改變",
                       "香港立法會今日通過有關法案"]),
    ("iso-8859-1", "gb18030", ["这是我们今年看到的最大的一场雪", "他们在会上说明了这个问题",
                               "中国的经济在今年上半年有所增长"]),
]


@pytest.mark.parametrize(("charset", "codec", "titles"), LIES)
def test_lying_charset_header_gives_the_real_titles(httpserver: HTTPServer, charset, codec, titles) -> None:
    from newsmirror.parse.feed import parse_feed

    items = "".join(f"<item><title>{t}</title><link>https://example.com/{n}</link></item>"
                    for n, t in enumerate(titles))
    body = f'<rss version="2.0"><channel><title>News</title>{items}</channel></rss>'.encode(codec)
    httpserver.expect_request("/feed").respond_with_data(
        body, headers={"Content-Type": f"application/rss+xml; charset={charset}"})
    result = fetch(httpserver.url_for("/feed"))
    parsed = parse_feed(result.body, content_type=result.content_type, url=result.url)
    assert [item.title for item in parsed.items] == titles
