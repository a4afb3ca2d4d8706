"""The reading site in a real headless Chromium: from the home page to an article, a
Chinese search, a phone-sized article, and the same site opened from disk. Screenshots
are saved under the test's tmp_path."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from tests.browser.cdp import Browser, find_chromium
from tests.publish.test_site import build_sample_site

pytestmark = pytest.mark.browser

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium not found at /usr/bin/chromium "
           "(apt-get install chromium fonts-noto-cjk)")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def site(tmp_path: Path) -> Path:
    _config, out, _report = build_sample_site(tmp_path)
    return out


@pytest.fixture
def served(site: Path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def browser(tmp_path: Path):
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with Browser(CHROMIUM, profile, tmp_path / "chromium.log") as running:
        yield running


@needs_chromium
def test_read_an_article_and_search(served: str, browser: Browser, tmp_path: Path):
    page = browser.new_page()
    page.navigate(served + "index.html")
    assert page.evaluate("document.querySelector('h1').textContent") == "新闻镜像测试"
    # the style sheet applies: the reading measure and line height
    assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"
    page.screenshot(tmp_path / "home.png")

    page.click("a[href$='.html'][href^='articles/']:not([href=''])")  # the newest article
    page.wait_for("location.pathname.startsWith('/articles/') && document.readyState === 'complete'")
    page.navigate(served + "index.html")
    link = page.evaluate(
        "[...document.querySelectorAll('ul.articles a')].find(a => a.textContent.includes('会晤'))"
        ".getAttribute('href')")
    page.click(f"ul.articles a[href='{link}']")
    page.wait_for("document.querySelector('article h1') && document.readyState === 'complete'")
    assert page.evaluate("document.querySelector('article h1').textContent") == "美朝领导人在河内举行会晤"
    assert "讨论无核化问题" in page.evaluate("document.querySelector('article .body').textContent")
    page.screenshot(tmp_path / "article.png")

    page.click("header.site nav a[href$='search.html']")
    page.wait_for("location.pathname === '/search.html' && document.readyState === 'complete'")
    page.click("#search-query")
    page.type_text("会晤")
    page.press_enter()
    page.wait_for("document.querySelectorAll('#search-results li').length > 0")
    assert urlsplit(page.evaluate("location.href")).query == "q=" + quote("会晤")
    titles = page.evaluate("[...document.querySelectorAll('#search-results li > a')].map(a => a.textContent)")
    assert titles == ["美朝领导人在河内举行会晤"]
    assert "找到 1 篇" in page.evaluate("document.querySelector('#search-status').textContent")
    page.screenshot(tmp_path / "search.png")

    page.click("#search-results li > a")
    page.wait_for("document.querySelector('article h1') && document.readyState === 'complete'")
    assert page.evaluate("document.querySelector('article h1').textContent") == "美朝领导人在河内举行会晤"

    page.navigate(served + "search.html?q=" + quote("台湾"))
    page.wait_for("document.querySelectorAll('#search-results li').length > 0")
    assert page.evaluate("[...document.querySelectorAll('#search-results li > a')]"
                         ".map(a => a.textContent)") == ["台湾举行地方选举"]
    # Traditional characters find Simplified text, and one character is a query
    for query, title in (("臺灣", "台湾举行地方选举"), ("晤", "美朝领导人在河内举行会晤")):
        page.navigate(served + "search.html?q=" + quote(query))
        page.wait_for("document.querySelectorAll('#search-results li').length > 0")
        assert page.evaluate("[...document.querySelectorAll('#search-results li > a')]"
                             ".map(a => a.textContent)") == [title]
    assert page.evaluate("document.querySelector('#search-results mark').textContent") == "晤"

    # nothing but article images was requested from outside the site
    for request in page.requests():
        if not request["url"].startswith((served, "data:", "about:")):
            assert request["type"] == "Image", request


@needs_chromium
def test_article_on_a_phone(served: str, browser: Browser, tmp_path: Path, site: Path):
    page = browser.new_page(390, 844, mobile=True, scale=2)
    article = next(p for p in (site / "articles").rglob("*.html")
                   if "会晤</h1>" in p.read_text(encoding="utf-8"))
    page.navigate(served + article.relative_to(site).as_posix())
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    line_height = page.evaluate("parseFloat(getComputedStyle(document.querySelector('article .body p')).lineHeight)"
                                " / parseFloat(getComputedStyle(document.querySelector('article .body p')).fontSize)")
    assert 1.7 <= line_height <= 1.9
    page.screenshot(tmp_path / "article-phone.png")


@needs_chromium
def test_site_works_from_disk(site: Path, browser: Browser, tmp_path: Path):
    """Opened as file://: styles load, links work and search still finds 会晤."""
    page = browser.new_page()
    page.navigate((site / "index.html").as_uri())
    assert page.evaluate("getComputedStyle(document.body).lineHeight") != "normal"
    page.click("header.site nav a[href$='search.html']")
    page.wait_for("location.pathname.endsWith('/search.html') && document.readyState === 'complete'")
    page.click("#search-query")
    page.type_text("会晤")
    page.press_enter()
    page.wait_for("document.querySelectorAll('#search-results li').length > 0")
    assert page.evaluate("document.querySelector('#search-results li > a').textContent") == "美朝领导人在河内举行会晤"
    page.screenshot(tmp_path / "search-file.png")


@needs_chromium
def test_search_on_the_main_site_finds_the_articles_of_a_shards_site(tmp_path: Path, browser: Browser, httpserver):
    """An archive with yearly shards: the main site indexes its own articles, the shard's
    site its own, and the main site's search page asks both (the shard's files loaded
    from its site) and leads to each article on the site that shows it."""
    from tests.jobs.test_shards import DEC_31, JAN_1, SITE, Sharded, news, newsmirror_site, write_toml

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        lab = Sharded(tmp_path, httpserver)
        lab.go(news(0, 3, DEC_31), DEC_31)
        lab.go(lab.items + news(3, 2, JAN_1), JAN_1)
        file = write_toml(lab, [])
        file.write_text(file.read_text("utf-8").replace(SITE, base + "site/"), encoding="utf-8")
        newsmirror_site(file, tmp_path / "site")
        assert (tmp_path / "site-2027" / "search" / "meta.js").is_file()

        page = browser.new_page()
        page.call("Network.setCacheDisabled", {"cacheDisabled": True})  # the file removed below
        page.navigate(base + "site/search.html?q=" + quote("新闻"))
        page.wait_for("document.querySelectorAll('#search-results li').length >= 5")
        found = page.evaluate("[...document.querySelectorAll('#search-results li > a')]"
                              ".map(a => [a.textContent, a.href])")
        assert [title for title, _ in found] == [f"新闻{i}" for i in (4, 3, 2, 1, 0)]  # newest first
        assert all(href.startswith(base + "site-2027/articles/") for _, href in found[:2]), found
        assert all(href.startswith(base + "site/articles/") for _, href in found[2:]), found
        assert "找到 5 篇" in page.evaluate("document.querySelector('#search-status').textContent")
        page.click("#search-results li > a")  # the newest: on the shard's site
        page.wait_for("document.querySelector('article h1') && document.readyState === 'complete'")
        assert page.evaluate("document.querySelector('article h1').textContent") == "新闻4"
        assert page.evaluate("location.pathname").startswith("/site-2027/articles/")

        # A shard's site that cannot be reached: the rest is still searched, and it says so.
        (tmp_path / "site-2027" / "search" / "meta.js").unlink()
        page.navigate(base + "site/search.html?q=" + quote("新闻"))
        page.wait_for("document.querySelectorAll('#search-results li').length >= 3")
        status = page.evaluate("document.querySelector('#search-status').textContent")
        assert "找到 3 篇" in status and "1 个分卷的网站暂时无法访问" in status, status
    finally:
        server.shutdown()
        server.server_close()
