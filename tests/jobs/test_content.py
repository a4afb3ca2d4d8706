"""Full text, image proxying, conversion and push failures, through whole runs."""

from pytest_httpserver import HTTPServer

from tests.helpers import git
from tests.jobs.feeds import Item, rss

T0 = 1_764_000_000_000
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<script>track()</script></head><body><nav><a href="/">首页</a> <a href="/world">国际</a></nav>
<article><h1>{title}</h1><div class="share">分享 微博 微信</div><div class="story">
<p>第一段：这是一篇完整的新闻报道，记者在现场采访了多位当事人，了解事件的来龙去脉。</p>
<p><img data-src="/img/photo.jpg" src="/img/blank.gif" alt="现场照片"></p>
<p>第二段：当局表示将在下周公布调查结果，并承诺对公众保持透明。</p>
<p>第三段：分析人士认为，这一事件可能对地区局势产生深远影响，值得持续关注。</p>
<script>alert('x')</script><p onclick="evil()">第四段：报道完。</p></div></article>
<footer>版权所有 联系我们</footer></body></html>"""


def test_auto_full_text_fetches_the_page_for_summaries(mirror, httpserver: HTTPServer):
    httpserver.expect_request("/a/1.html").respond_with_data(PAGE.format(title="完整报道"),
                                                             content_type="text/html; charset=utf-8")
    link = httpserver.url_for("/a/1.html")
    long_body = "<p>" + "长篇内容。" * 150 + "</p>"
    httpserver.expect_request("/feed.xml").respond_with_data(rss([
        Item("完整报道", link, "<p>摘要……</p>", guid="1", date_ms=T0),
        Item("长文", "https://news.test/2", long_body, guid="2", date_ms=T0),
    ]), content_type="application/rss+xml")
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/feed.xml"),
                "full_text": "auto", "selector": "div.story", "remove": [".share"]}]
    report = mirror.run(sources, images={"proxy": ["https://images.weserv.nl?url=${host}${pathname}${search}"]})
    assert report.new == 2
    texts = {p.read_text().split("\n")[1]: p.read_text() for p in mirror.articles()}
    full = next(t for head, t in texts.items() if "完整报道" in head)
    assert "第一段" in full and "第四段" in full and "摘要" not in full
    assert "<script" not in full and "onclick" not in full and "分享" not in full
    # The lazy image became real and goes through the proxy.
    assert f"images.weserv.nl?url=localhost:{httpserver.port}/img/photo.jpg" in full
    long = next(t for head, t in texts.items() if "长文" in head)
    assert "长篇内容" in long
    page_requests = [r for r, _ in httpserver.log if r.path == "/a/1.html"]
    assert len(page_requests) == 1
    # The next hour: the item is unchanged, so its page is not fetched again.
    mirror.run(sources)
    assert len([r for r, _ in httpserver.log if r.path == "/a/1.html"]) == 1


def test_a_page_that_fails_leaves_the_feed_content_and_is_retried(mirror, httpserver: HTTPServer):
    httpserver.expect_request("/a/1.html").respond_with_data("down", status=503)
    link = httpserver.url_for("/a/1.html")
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([Item("标题", link, "<p>只有摘要</p>", guid="1", date_ms=T0)]), content_type="application/rss+xml")
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/feed.xml"), "full_text": "page"}]
    first = mirror.run(sources)
    assert first.new == 1
    assert "503" in first.page_failures[link]
    [path] = mirror.articles()
    assert "<p>只有摘要</p>" in path.read_text()
    httpserver.clear()
    httpserver.expect_request("/a/1.html").respond_with_data(PAGE.format(title="标题"), content_type="text/html")
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([Item("标题", link, "<p>只有摘要</p>", guid="1", date_ms=T0)]), content_type="application/rss+xml")
    report = mirror.run(sources)
    assert report.updated == 1
    assert "第一段" in path.read_text()


def test_conversion_to_traditional_touches_text_not_urls(mirror, httpserver: HTTPServer):
    httpserver.expect_request("/feed.xml").respond_with_data(rss([
        Item("台湾举行选举", "https://news.test/国家/1", '<p>国家发展<a href="https://news.test/国家">链接</a></p>',
             guid="1", date_ms=T0)]), content_type="application/rss+xml")
    mirror.run([{"slug": "s", "name": "S", "url": httpserver.url_for("/feed.xml"), "convert": "s2t"}])
    [path] = mirror.articles()
    text = path.read_text()
    assert "[臺灣舉行選舉]" in text and "國家發展" in text
    assert 'href="https://news.test/国家"' in text
    assert "(https://news.test/%E5%9B%BD%E5%AE%B6/1)" in text


def test_an_unreachable_remote_loses_nothing_and_the_next_run_pushes(mirror, httpserver: HTTPServer, tmp_path):
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss([Item("标题", "https://news.test/1", "<p>x</p>", guid="1", date_ms=T0)]),
        content_type="application/rss+xml")
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/feed.xml")}]
    real_remote = mirror.remote
    mirror.remote = tmp_path / "nowhere.git"
    report = mirror.run(sources)
    assert report.commit and report.push and not report.push.ok
    mirror.remote = real_remote
    again = mirror.run(sources)
    assert again.commit is None and again.push and again.push.ok
    assert git("rev-parse", "main", cwd=real_remote) == git("rev-parse", "HEAD", cwd=mirror.archive)
