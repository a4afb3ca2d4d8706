"""Images downloaded into the archive, for readers who can reach neither the origin nor the
image proxy (a source opts in with ``download_images = true``).

An image lives at ``assets/<slug>/<YYYY>/<MM>/<hash>.<ext>``: the month (China time, like
articles) of the article that first used it, the first 24 hex digits of the SHA-256 of its
bytes, and the extension of the type its magic bytes show (never the URL's or the server's
word). Only raster types a browser shows are kept (JPEG, PNG, GIF, WebP, AVIF/HEIF, BMP);
SVG, which can carry script, and everything else is refused, as is an image over the size
cap. An article links to its images relatively, so the links work in a clone and in a git
host's web view alike.

`localise_html` is the pure part: it replaces the addresses that have a local copy and makes
every other image address absolute, so that the proxy pass that follows
(``rewrite_images(html, policy, base_url=None)``) proxies exactly the images that were not
downloaded and leaves the relative local links alone. Like the proxy pass it edits only the
attribute values it changes; every other byte of the body is kept.
"""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import ada_url

from newsmirror.archive.files import write_atomic
from newsmirror.archive.paths import ASSETS_DIR, valid_slug
from newsmirror.content.clean import absolutize
from newsmirror.content.images import IMAGE_ATTRS
from newsmirror.dates import china_time
from newsmirror.content.markup import Edit, Tag, apply_edits, escape_attr, srcset_urls, tokenize
from newsmirror.fetch.client import FetchError, Fetcher, format_bytes

if TYPE_CHECKING:
    from newsmirror.archive.catalog import Catalog

DEFAULT_MAX_IMAGE_BYTES = 5 * 1024 * 1024
HASH_CHARS = 24


_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_BMP_HEADER_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


# -- pure part -------------------------------------------------------------------------

def _resolve(value: str, base_url: str | None) -> str | None:
    """The address an attribute value names, as the key for downloading it: absolute,
    http(s), WHATWG-normalised, without a fragment; None for anything else (data:,
    relative without a base, unparsable)."""
    try:
        parsed = ada_url.URL(absolutize(value, base_url))
    except ValueError:
        return None
    if parsed.protocol not in ("http:", "https:"):
        return None
    parsed.hash = ""
    return parsed.href


def _image_attrs(html: str):
    """(tag, attribute) for every non-empty image address attribute in `html`."""
    for token in tokenize(html):
        if isinstance(token, Tag) and not token.closing and token.name in IMAGE_ATTRS:
            for name in IMAGE_ATTRS[token.name]:
                attr = token.attr(name)
                if attr is not None and attr.value:
                    yield token, attr


def image_urls(html: str, base_url: str | None) -> list[str]:
    """The distinct absolute http(s) image addresses of `html` (``<img src/srcset>``,
    ``<source srcset>``, ``<video poster>``), resolved against `base_url`, in order of
    appearance. These are the keys `localise_html` looks up."""
    seen: dict[str, None] = {}
    for _tag, attr in _image_attrs(html):
        value = attr.value or ""
        if attr.name == "srcset":
            candidates = [value[start:end] for start, end in srcset_urls(value)]
        else:
            candidates = [value]
        for candidate in candidates:
            url = _resolve(candidate, base_url)
            if url is not None:
                seen.setdefault(url)
    return list(seen)


def sniff_image(data: bytes) -> str | None:
    """The file extension for the image type `data`'s magic bytes show, or None when it is
    not one we keep (SVG, HTML, video, truncated, unknown)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(data) >= 16 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if len(data) >= 16 and data[4:8] == b"ftyp":
        return _sniff_ftyp(data)
    if len(data) >= 26 and data[:2] == b"BM" \
            and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return "bmp"
    return None


def _sniff_ftyp(data: bytes) -> str | None:
    """AVIF or HEIF from an ISO-BMFF ``ftyp`` box: its major brand, then its compatible
    brands (an AVIF file may name the generic ``mif1`` first)."""
    size = int.from_bytes(data[:4], "big")
    end = min(len(data), size) if size >= 16 else 16
    brands = [data[8:12]] + [data[i:i + 4] for i in range(16, end - 3, 4)]
    if any(brand in _AVIF_BRANDS for brand in brands):
        return "avif"
    if any(brand in _HEIC_BRANDS for brand in brands):
        return "heic"
    if any(brand in _HEIF_BRANDS for brand in brands):
        return "heif"
    return None  # mp4, mov, 3gp, …: not an image


def asset_path(slug: str, published_ms: int, data: bytes, ext: str) -> str:
    """The archive-relative path of an image: ``assets/<slug>/<YYYY>/<MM>/<hash>.<ext>``,
    the month in China time as for articles, the name from the SHA-256 of the bytes."""
    if not valid_slug(slug):
        raise ValueError(f"invalid source slug {slug!r}")
    if not ext.isalnum():
        raise ValueError(f"invalid extension {ext!r}")
    when = china_time(published_ms)
    name = hashlib.sha256(data).hexdigest()[:HASH_CHARS]
    return f"{ASSETS_DIR}/{slug}/{when:%Y}/{when:%m}/{name}.{ext}"


def relative_link(from_article_path: str, to_asset_path: str) -> str:
    """The relative link from an archive file to another, both archive-relative:
    ``articles/voa/2026/11/x.md`` → ``../../../../assets/voa/2026/11/ab12….jpg``."""
    return posixpath.relpath(to_asset_path, posixpath.dirname(from_article_path) or ".")


def localise_html(html: str, base_url: str | None, mapping: dict[str, str]) -> str:
    """`html` with each image address that `mapping` has (keyed as `image_urls` gives them)
    replaced by its value (the relative link to the local copy), and every other image
    address made absolute against `base_url` (data: and other schemes, and anything
    already absolute, keep their bytes). Only changed attribute values are rewritten."""
    edits: list[Edit] = []
    for _tag, attr in _image_attrs(html):
        value = attr.value or ""
        if attr.name == "srcset":
            parts: list[str] = []
            pos = 0
            for start, end in srcset_urls(value):
                candidate = value[start:end]
                replacement = _localise_one(candidate, base_url, mapping)
                if replacement != candidate:
                    parts += [value[pos:start], replacement]
                    pos = end
            new_value = "".join(parts) + value[pos:] if parts else value
        else:
            new_value = _localise_one(value, base_url, mapping)
        if new_value != value:
            edits.append(Edit(attr.value_start, attr.end, escape_attr(new_value, attr.quote)))
    return apply_edits(html, edits)


def _localise_one(value: str, base_url: str | None, mapping: dict[str, str]) -> str:
    url = _resolve(value, base_url)
    if url is not None and url in mapping:
        return mapping[url]
    return absolutize(value, base_url)


# -- I/O part --------------------------------------------------------------------------

class ImageDownloader:
    """Downloads a run's images into the archive, through the run's `fetcher` (so its
    per-host and global limits apply): each article's into the repository that holds it
    (`root` gives where that is by shard, '' for the archive's own: Store.shard_root), as
    its relative links reach no other.

    Each distinct address is fetched at most once per run and repository (concurrent
    articles wait for the same download). Across runs, `catalog` (None for no memory)
    remembers address → asset path (`Catalog.asset`), trusted only while the file is in the
    article's repository, so an image already archived there is not fetched again. A file
    that already exists under its content-addressed name is never rewritten. An image that
    could not be downloaded (network error, HTTP error, over `max_bytes`, not a kept type)
    is left for the proxy; `failures` says why, by address.
    """

    def __init__(self, fetcher: Fetcher, root: Callable[[str], Path], catalog: Catalog | None = None, *,
                 max_bytes: int = DEFAULT_MAX_IMAGE_BYTES):
        self.fetcher = fetcher
        self.root = root
        self.catalog = catalog
        self.max_bytes = max_bytes
        self.failures: dict[str, str] = {}
        self.fetched = 0
        """How many addresses this downloader fetched (successfully or not)."""
        self._tasks: dict[tuple[str, str], asyncio.Task[tuple[str | None, bool]]] = {}
        self._reported: set[tuple[str, str]] = set()  # written files some localise call already returned

    async def localise(self, html: str, *, base_url: str | None, slug: str, published_ms: int,
                       article_path: str, shard: str = "") -> tuple[str, list[str]]:
        """`html` with the images that could be downloaded linked relatively from
        `article_path` (a file of the shard `shard`'s repository) and every other image
        address absolute (see `localise_html`), and the asset paths this call wrote into
        that repository (files that were already there are not listed)."""
        urls = image_urls(html, base_url)
        if not urls:
            return localise_html(html, base_url, {}), []
        tasks = [self._task(url, slug, published_ms, shard) for url in urls]
        results = await asyncio.gather(*tasks)
        mapping: dict[str, str] = {}
        written: list[str] = []
        for url, (path, wrote) in zip(urls, results):
            if path is None:
                continue
            mapping[url] = relative_link(article_path, path)
            if wrote and (shard, path) not in self._reported:
                self._reported.add((shard, path))
                written.append(path)
        return localise_html(html, base_url, mapping), written

    def _task(self, url: str, slug: str, published_ms: int, shard: str) -> asyncio.Task[tuple[str | None, bool]]:
        task = self._tasks.get((shard, url))
        if task is None:
            task = self._tasks[shard, url] = asyncio.ensure_future(self._download(url, slug, published_ms, shard))
        return task

    def _known(self, url: str, shard: str) -> str | None:
        known = self.catalog.asset(url) if self.catalog is not None else None
        return known if known is not None and (self.root(shard) / known).is_file() else None

    async def _download(self, url: str, slug: str, published_ms: int, shard: str) -> tuple[str | None, bool]:
        """(asset path, whether this wrote the file), or (None, False) when not downloaded."""
        if known := self._known(url, shard):
            return known, False
        self.fetched += 1
        try:
            result = await self.fetcher.fetch(url)
        except FetchError as err:
            self.failures[url] = err.reason
            return None, False
        data = result.body
        if len(data) > self.max_bytes:
            self.failures[url] = f"image larger than {format_bytes(self.max_bytes)}"
            return None, False
        ext = sniff_image(data)
        if ext is None:
            self.failures[url] = "not an image of a kept type (JPEG, PNG, GIF, WebP, AVIF/HEIF, BMP)"
            return None, False
        path = asset_path(slug, published_ms, data, ext)
        target = self.root(shard) / path
        wrote = False
        if not target.is_file():
            wrote = write_atomic(target, data)
        if self.catalog is not None:
            self.catalog.put_asset(url, path)
        return path, wrote
