"""Hostile responses and addresses: compression bombs, DNS rebinding, addresses that embed
private ones. Every server is real and on loopback; every bomb is generated here."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import brotli
import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

from newsmirror.fetch.client import Fetcher, FetchError, FetchSettings
from newsmirror.fetch.decode import PIECE

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
