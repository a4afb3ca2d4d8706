"""Images downloaded into the archive: the pure parts, then a whole run over loopback
servers and real git (no mocks)."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer

from newsmirror.archive.article import parse_article
from newsmirror.archive.assets import (
    asset_path,
    image_urls,
    localise_html,
    relative_link,
    sniff_image,
)
from newsmirror.content.images import ImagePolicy, rewrite_images
from newsmirror.content.transform import ContentSettings, clean_body, finish_body, transform_body
from tests.helpers import git
from tests.jobs.feeds import Item, rss


def png_bytes() -> bytes:
    """A real 1×1 red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# A well-known minimal 1×1 baseline JPEG.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////"
    "////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/a"
    "AAgBAQABPxA=")
PNG = png_bytes()
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
BMP = b"BM" + struct.pack("<IHHI", 58, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 0, 0, 0, 0) + b"\x00\x00\xff\x00"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08mdat"


def name(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:24]


# -- sniffing ----------------------------------------------------------------------------

@pytest.mark.parametrize("data, ext", [
    (JPEG, "jpg"), (PNG, "png"), (GIF, "gif"), (b"GIF87a" + GIF[6:], "gif"), (WEBP, "webp"),
    (ftyp(b"avif", b"mif1", b"miaf"), "avif"), (ftyp(b"mif1", b"avif", b"miaf"), "avif"),
    (ftyp(b"avis", b"msf1"), "avif"), (ftyp(b"heic", b"mif1", b"heic"), "heic"),
    (ftyp(b"mif1", b"heic"), "heic"), (ftyp(b"mif1", b"mif1"), "heif"), (BMP, "bmp"),
])
def test_each_kept_type_is_known_by_its_magic_bytes(data, ext):
    assert sniff_image(data) == ext


@pytest.mark.parametrize("data", [
    SVG, b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"\xef\xbb\xbf<svg/>",
    b"<!DOCTYPE html><html><body>Not found</body></html>", b"", b"\xff\xd8", b"\x89PNG",
    ftyp(b"isom", b"iso2", b"mp41"), ftyp(b"qt  "), b"RIFF\x10\x00\x00\x00WAVEfmt ",
    b"BM is also how a text could start, which is no bitmap", b"%PDF-1.7\n", b"\x00" * 64,
])
def test_svg_html_video_and_everything_else_are_refused(data):
    assert sniff_image(data) is None


# -- paths and links ---------------------------------------------------------------------

def test_asset_paths_are_content_addressed_in_the_articles_china_time_month():
    # 2025-10-31 17:00 UTC is already November in China.
    when = 1_761_930_000_000
    assert asset_path("voa", when, PNG, "png") == f"assets/voa/2025/11/{name(PNG)}.png"
    assert asset_path("voa", when - 2 * 3_600_000, PNG, "png").startswith("assets/voa/2025/10/")
    assert asset_path("voa", when, PNG, "png") == asset_path("voa", when + 1, PNG, "png")
    assert asset_path("voa", when, JPEG, "jpg") != asset_path("voa", when, PNG, "jpg")
    with pytest.raises(ValueError):
        asset_path("../etc", when, PNG, "png")
    with pytest.raises(ValueError):
        asset_path("voa", when, PNG, "png/../x")


def test_relative_links_lead_from_the_article_to_the_asset():
    asset = "assets/voa/2026/11/ab12cd34ef56ab12cd34ef56.jpg"
    assert relative_link("articles/voa/2026/11/标题-0123456789ab.md", asset) == \
        "../../../../assets/voa/2026/11/ab12cd34ef56ab12cd34ef56.jpg"
    assert relative_link("requests/2026/11/x.md", asset) == "../../../assets/voa/2026/11/ab12cd34ef56ab12cd34ef56.jpg"
    assert relative_link("README.md", asset) == asset


# -- finding and localising addresses ----------------------------------------------------

BASE = "https://news.test/world/story.html"
DOC = ('<p class=x>前言 <a href="/a.png">link</a></p>'
       '<img alt="一" src="/img/a.png?w=1&amp;h=2">'
       "<picture><source srcset='https://cdn.test/b.webp 1x, /img/b,2x.jpg 2x' type=image/webp>"
       '<img src=c.gif srcset="data:image/gif;base64,R0lGOD== 1x,  //cdn.test/d.jpg   2x"></picture>'
       '<video poster="https://cdn.test/poster.jpg#t=1" src="/v.mp4"></video>'
       '<script>var s = "<img src=/not-an-image.png>";</script>'
       '<img src="https://cdn.test/b.webp"><img src="mailto:x@y.test"><img src="">')


def test_image_urls_finds_src_srcset_picture_sources_and_posters_once_each():
    assert image_urls(DOC, BASE) == [
        "https://news.test/img/a.png?w=1&h=2",
        "https://cdn.test/b.webp",
        "https://news.test/img/b,2x.jpg",
        "https://news.test/world/c.gif",
        "https://cdn.test/d.jpg",
        "https://cdn.test/poster.jpg",
    ]
    # Without a base only absolute http(s) addresses count.
    assert image_urls(DOC, None) == ["https://cdn.test/b.webp", "https://cdn.test/poster.jpg"]


def test_localise_html_links_local_copies_and_makes_the_rest_absolute():
    mapping = {
        "https://news.test/img/a.png?w=1&h=2": "../../assets/voa/2025/11/aaa.png",
        "https://cdn.test/d.jpg": "../../assets/voa/2025/11/ddd.jpg",
        "https://cdn.test/poster.jpg": "../../assets/voa/2025/11/ppp.jpg",
    }
    out = localise_html(DOC, BASE, mapping)
    assert out == (
        '<p class=x>前言 <a href="/a.png">link</a></p>'
        '<img alt="一" src="../../assets/voa/2025/11/aaa.png">'
        "<picture><source srcset='https://cdn.test/b.webp 1x, https://news.test/img/b,2x.jpg 2x' type=image/webp>"
        '<img src="https://news.test/world/c.gif" '
        'srcset="data:image/gif;base64,R0lGOD== 1x,  ../../assets/voa/2025/11/ddd.jpg   2x"></picture>'
        '<video poster="../../assets/voa/2025/11/ppp.jpg" src="/v.mp4"></video>'
        '<script>var s = "<img src=/not-an-image.png>";</script>'
        '<img src="https://cdn.test/b.webp"><img src="mailto:x@y.test"><img src="">')
    # Nothing to change: the very same string.
    plain = '<p>x</p><img src="https://cdn.test/b.webp">'
    assert localise_html(plain, BASE, {}) is plain


def test_localised_values_are_escaped_for_their_quote_style():
    doc = """<img src='/it&#39;s.png'><img src=/a&amp;b.png><img srcset="/x&quot;y.png 1x">"""
    out = localise_html(doc, "https://news.test/", {})
    assert out == ("""<img src='https://news.test/it&#39;s.png'><img src="https://news.test/a&amp;b.png">"""
                   """<img srcset="https://news.test/x%22y.png 1x">""")
    mapping = {"https://news.test/a&b.png": "../a&b'.png"}
    assert localise_html("<img src='/a&amp;b.png'>", "https://news.test/", mapping) == \
        "<img src='../a&amp;b&#39;.png'>"


def test_the_proxy_pass_without_a_base_leaves_relative_links_alone():
    policy = ImagePolicy(templates=("https://proxy.test/?url=${href_ue}", "https://p2.test/${host}${pathname}"))
    relative = '<img src="../../../../assets/voa/2025/11/aaa.png" srcset="../x.png 1x, /y.png 2x, z.png 3x">'
    assert rewrite_images(relative, policy, base_url=None) is relative
    # What localising leaves for the proxy: only the absolute addresses are proxied.
    mixed = localise_html('<img src="/a.png" srcset="/a.png 1x, /b.png 2x"><img src="/b.png">',
                          "https://news.test/", {"https://news.test/a.png": "../l/a.png"})
    assert rewrite_images(mixed, policy, base_url=None) == (
        '<img src="../l/a.png" srcset="../l/a.png 1x, https://proxy.test/?url='
        + quote("https://news.test/b.png", safe="") + ' 2x" referrerpolicy="no-referrer">'
        '<img src="https://proxy.test/?url=' + quote("https://news.test/b.png", safe="")
        + '" referrerpolicy="no-referrer" data-fallback-src="https://p2.test/news.test/b.png">')
    # A local-only image gets no referrerpolicy: it is no third-party request.
    local = localise_html('<img src="/a.png">', "https://news.test/", {"https://news.test/a.png": "../l/a.png"})
    assert rewrite_images(local, policy, base_url=None) == '<img src="../l/a.png">'


@pytest.mark.parametrize("sanitize", [False, True])
def test_nothing_downloaded_gives_what_transform_body_gives(sanitize):
    settings = ContentSettings(sanitize=sanitize, convert="t2s",
                               images=ImagePolicy(templates=("https://proxy.test/?url=${href_ue}",)))
    doc = ('<p>這是測試</p><img src="/img/a.png" alt="圖"><picture><source srcset="/b.webp 1x, '
           'https://cdn.test/c.jpg 2x"><img src="https://cdn.test/c.jpg"></picture>')
    cleaned = clean_body(doc, base_url=BASE, settings=settings)
    split = finish_body(localise_html(cleaned, BASE, {}), base_url=None, settings=settings)
    assert split == transform_body(doc, base_url=BASE, settings=settings)
    assert "proxy.test/?url=https%3A%2F%2Fnews.test%2Fimg%2Fa.png" in split and "这是测试" in split


# -- a whole run -------------------------------------------------------------------------

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC: November in China too
PROXY = "https://proxy.test/?url=${href_ue}"
BIG = PNG[:16] + b"\x00" * (5 * 1024 * 1024)  # a PNG's magic, just over 5 MiB


def proxied(url: str) -> str:
    return "https://proxy.test/?url=" + quote(url, safe="-_.!~*'()")


def serve_images(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/img/a.png").respond_with_data(PNG, content_type="image/png")
    # The type comes from the bytes: a JPEG at a .gif address, sent as text/plain.
    httpserver.expect_request("/img/b.gif").respond_with_data(JPEG, content_type="text/plain")
    httpserver.expect_request("/img/logo.svg").respond_with_data(SVG, content_type="image/svg+xml")
    httpserver.expect_request("/img/fake.png").respond_with_data(
        b"<!DOCTYPE html><html><body>Please log in</body></html>", content_type="image/png")
    httpserver.expect_request("/img/big.png").respond_with_data(BIG, content_type="image/png")
    httpserver.expect_request("/img/missing.png").respond_with_data("gone", status=404)


def image_requests(httpserver: HTTPServer) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request, _response in httpserver.log:
        if request.path.startswith("/img/"):
            counts[request.path] = counts.get(request.path, 0) + 1
    return counts


def feed_items(httpserver: HTTPServer, edit: str = "") -> list[Item]:
    first = ('<p>第一篇' + edit + '</p><img src="../img/a.png" alt="甲">'
             '<picture><source srcset="/img/b.gif 1x, /img/big.png 2x">'
             "<img src='/img/logo.svg'></picture>"
             "<video poster=/img/fake.png></video>"
             f'<img src="{httpserver.url_for("/img/missing.png")}">')
    second = (f'<p>第二篇{edit}</p><img src="{httpserver.url_for("/img/a.png")}">'
              '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">')
    return [Item("第一篇", httpserver.url_for("/news/1.html"), first, guid="n1", date_ms=T0),
            Item("第二篇", httpserver.url_for("/news/2.html"), second, guid="n2", date_ms=T0 + 60_000)]


def body_of(mirror, title: str) -> tuple[str, str]:
    for path in mirror.articles():
        article = parse_article(path.read_bytes())
        if article.title == title:
            return path.relative_to(mirror.archive).as_posix(), article.body
    raise AssertionError(f"no article {title!r}")


def test_a_run_downloads_images_into_the_archive_and_proxies_the_rest(mirror, httpserver: HTTPServer):
    serve_images(httpserver)
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss(feed_items(httpserver)), content_type="application/rss+xml")
    # Another source uses the same image without opting in: it is only proxied.
    other = (f'<p>别处</p><img src="{httpserver.url_for("/img/a.png")}">')
    httpserver.expect_request("/rfi.xml").respond_with_data(
        rss([Item("别处", "https://rfi.test/1", other, guid="r1", date_ms=T0)]),
        content_type="application/rss+xml")
    sources = [{"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml"),
                "download_images": True},
               {"slug": "rfi", "name": "法广", "url": httpserver.url_for("/rfi.xml")}]
    top = {"images": {"proxy": [PROXY]}}

    report = mirror.run(sources, now_ms=T0 + 10**7, **top)
    assert report.new == 3 and report.commit, report.outcomes
    png_path = f"assets/voa/2025/11/{name(PNG)}.png"
    jpg_path = f"assets/voa/2025/11/{name(JPEG)}.jpg"
    stored = sorted(p.relative_to(mirror.archive).as_posix()
                    for p in (mirror.archive / "assets").rglob("*") if p.is_file())
    assert stored == sorted([png_path, jpg_path])
    assert (mirror.archive / png_path).read_bytes() == PNG
    assert (mirror.archive / jpg_path).read_bytes() == JPEG
    committed = git("ls-files", "assets", cwd=mirror.archive).split()
    assert sorted(committed) == stored
    assert set(stored) <= set(mirror.changed_in(report.commit))
    # Every image address was fetched once, however many articles use it.
    assert image_requests(httpserver) == {"/img/a.png": 1, "/img/b.gif": 1, "/img/logo.svg": 1,
                                          "/img/fake.png": 1, "/img/big.png": 1, "/img/missing.png": 1}

    path1, body1 = body_of(mirror, "第一篇")
    assert path1.startswith("articles/voa/2025/11/")
    up = "../../../../"
    url = httpserver.url_for
    assert body1 == (
        f'<p>第一篇</p><img src="{up}{png_path}" alt="甲">'
        f'<picture><source srcset="{up}{jpg_path} 1x, {proxied(url("/img/big.png"))} 2x">'
        f"<img src='{proxied(url('/img/logo.svg'))}' referrerpolicy=\"no-referrer\"></picture>"
        f'<video poster="{proxied(url("/img/fake.png"))}"></video>'
        f'<img src="{proxied(url("/img/missing.png"))}" referrerpolicy="no-referrer">')
    _path2, body2 = body_of(mirror, "第二篇")
    assert body2 == (f'<p>第二篇</p><img src="{up}{png_path}">'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">')
    # The local links resolve to the stored files.
    assert (mirror.archive / path1).parent.joinpath(up + png_path).resolve() == (mirror.archive / png_path).resolve()
    _path3, body3 = body_of(mirror, "别处")
    assert body3 == f'<p>别处</p><img src="{proxied(url("/img/a.png"))}" referrerpolicy="no-referrer">'

    # An unchanged feed: nothing is fetched and nothing committed.
    httpserver.clear_log()
    again = mirror.run(sources, now_ms=T0 + 2 * 10**7, **top)
    assert (again.new, again.updated, again.commit) == (0, 0, None)
    assert image_requests(httpserver) == {}

    # Edited articles: the images already archived are not fetched again (the run
    # remembers them in the catalog); the ones that failed are tried again.
    httpserver.clear_log()
    httpserver.clear()
    serve_images(httpserver)
    httpserver.expect_request("/voa.xml").respond_with_data(
        rss(feed_items(httpserver, edit="（更新）")), content_type="application/rss+xml")
    httpserver.expect_request("/rfi.xml").respond_with_data(
        rss([Item("别处", "https://rfi.test/1", other, guid="r1", date_ms=T0)]),
        content_type="application/rss+xml")
    edited = mirror.run(sources, now_ms=T0 + 3 * 10**7, **top)
    assert edited.updated == 2 and edited.commit
    assert image_requests(httpserver) == {"/img/logo.svg": 1, "/img/fake.png": 1,
                                          "/img/big.png": 1, "/img/missing.png": 1}
    assert body_of(mirror, "第一篇")[1] == body1.replace("第一篇", "第一篇（更新）")
    assert not [f for f in mirror.changed_in(edited.commit) if f.startswith("assets/")]
    assert git("status", "--porcelain", "assets", cwd=mirror.archive) == ""


def test_a_deleted_asset_is_downloaded_again_and_an_existing_file_is_not_rewritten(
        mirror, httpserver: HTTPServer):
    serve_images(httpserver)
    body = f'<img src="{httpserver.url_for("/img/a.png")}"><img src="{httpserver.url_for("/img/b.gif")}">'
    feed = [Item("图", "https://news.test/1", body, guid="g1", date_ms=T0)]
    httpserver.expect_request("/voa.xml").respond_with_data(rss(feed), content_type="application/rss+xml")
    sources = [{"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml"),
                "download_images": True}]
    mirror.run(sources, now_ms=T0, images={"proxy": [PROXY]})
    png = mirror.archive / f"assets/voa/2025/11/{name(PNG)}.png"
    jpg = mirror.archive / f"assets/voa/2025/11/{name(JPEG)}.jpg"
    png.unlink()
    before = jpg.stat()
    # The same images under new addresses, in an edited article.
    httpserver.clear()
    serve_images(httpserver)
    httpserver.expect_request("/img/b2.jpg").respond_with_data(JPEG, content_type="image/jpeg")
    body = (f'<p>改</p><img src="{httpserver.url_for("/img/a.png")}">'
            f'<img src="{httpserver.url_for("/img/b2.jpg")}">')
    feed = [Item("图", "https://news.test/1", body, guid="g1", date_ms=T0)]
    httpserver.expect_request("/voa.xml").respond_with_data(rss(feed), content_type="application/rss+xml")
    httpserver.clear_log()
    report = mirror.run(sources, now_ms=T0 + 10**7, images={"proxy": [PROXY]})
    assert report.updated == 1
    # The catalog's memory of a.png is not trusted once its file is gone.
    assert image_requests(httpserver) == {"/img/a.png": 1, "/img/b2.jpg": 1}
    assert png.read_bytes() == PNG
    assert jpg.stat().st_mtime_ns == before.st_mtime_ns and jpg.stat().st_ino == before.st_ino
    _path, text = body_of(mirror, "图")
    assert text == (f'<p>改</p><img src="../../../../{png.relative_to(mirror.archive).as_posix()}">'
                    f'<img src="../../../../{jpg.relative_to(mirror.archive).as_posix()}">')
