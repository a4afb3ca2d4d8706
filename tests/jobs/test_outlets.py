"""The bundled outlets' own quirks, through whole runs against loopback servers: feeds
(and article pages) shaped like each outlet's public markup, run once with the bundled
entry (its url pointed at the loopback copy) and once as a hand-written source, whose
articles stay exactly as the feed gave them."""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer

from newsmirror.sources.bundled import bundled_sources
from tests.helpers import Mirror

HERE = Path(__file__).with_name("outlets")
RSS_TYPE = "application/rss+xml; charset=utf-8"
NO_PROXY = {"proxy": []}
"""[images] for the tests that look at image addresses as the source gives them (the
default proxy is tested in test_outlet_pages.py)."""


def bundled(slug: str, url: str) -> dict:
    """The bundled entry `slug` as it ships, fetched from `url` instead."""
    [entry] = [s for s in bundled_sources() if s["slug"] == slug]
    return {**entry, "url": url}


def hand_written(slug: str, url: str) -> dict:
    """The same outlet written in a config by hand: slug, name and url only."""
    return {"slug": slug, "name": slug, "url": url}


def serve_feed(httpserver: HTTPServer, name: str) -> str:
    httpserver.expect_request(f"/{name}").respond_with_data((HERE / name).read_bytes(),
                                                            content_type=RSS_TYPE)
    return httpserver.url_for(f"/{name}")


def article_bytes(mirror: Mirror) -> dict[str, bytes]:
    """Each article file's bytes by its line 2 (title and link)."""
    return {p.read_bytes().split(b"\n")[1].decode(): p.read_bytes() for p in mirror.articles()}


RFA_LINK = "https://www.rfa.org/mandarin/yataibaodao/shehui/2026/12/01/test-city-lantern-fair/"
RFA_HEAD = f"[测试城市举行年度灯会 游客人数创新高]({RFA_LINK})"
RFA_BODY = ("<p>测试城市的年度灯会周末开幕，主办方说，首日游客人数创下新高。</p>"
            "<p>一位市民对本台说：“每年都来，今年的灯最漂亮。”</p>")
RFA_PHOTO = ('<figure><img src="https://www.rfa.org/resizer/v2/TESTPHOTO123.jpg?auth=abc123'
             '&amp;width=1200&amp;height=800"><figcaption>灯会首日的人潮。（测试图片社）'
             "</figcaption></figure>")
RFA_WITH_PHOTO_HEAD = ("[图文报道：已带图片的正文](https://www.rfa.org/mandarin/yataibaodao/shehui/"
                       "2026/12/01/with-photo/)")
RFA_WITH_PHOTO = ('<figure><img src="https://www.rfa.org/resizer/v2/INBODY.jpg" alt=""></figure>'
                  "<p>正文自带图片。</p>")


def _file(published_ms: int, head: str, body: str) -> bytes:
    return f"<!--{published_ms}-->\n{head}\n------\n\n{body}\n".encode()


def test_rfa_lead_photo_from_media_content_leads_a_body_without_one(mirror, httpserver: HTTPServer):
    url = serve_feed(httpserver, "rfa.xml")
    report = mirror.run([bundled("rfa", url)], images=NO_PROXY)
    assert report.new == 2 and not report.failed_items
    files = article_bytes(mirror)
    assert files[RFA_HEAD] == _file(1796112000000, RFA_HEAD, RFA_PHOTO + RFA_BODY)
    # A body that has its own image is left as it is: no second copy of the photo.
    assert files[RFA_WITH_PHOTO_HEAD] == _file(1796108400000, RFA_WITH_PHOTO_HEAD, RFA_WITH_PHOTO)


def test_rfa_as_a_hand_written_source_keeps_the_feed_body(mirror, httpserver: HTTPServer):
    url = serve_feed(httpserver, "rfa.xml")
    report = mirror.run([hand_written("rfa", url)])
    assert report.new == 2
    assert article_bytes(mirror)[RFA_HEAD] == _file(1796112000000, RFA_HEAD, RFA_BODY)


def test_a_hand_written_source_may_opt_in(mirror, httpserver: HTTPServer):
    url = serve_feed(httpserver, "rfa.xml")
    mirror.run([{**hand_written("rfa", url), "feed_images": True}], images=NO_PROXY)
    assert article_bytes(mirror)[RFA_HEAD] == _file(1796112000000, RFA_HEAD, RFA_PHOTO + RFA_BODY)


RTHK_HEAD = ("[政府公布新一輪測試措施]"
             "(https://news.rthk.hk/rthk/ch/component/k2/1790001-20261201.htm)")
RTHK_SHORT_HEAD = "[天文台：明日天晴](https://news.rthk.hk/rthk/ch/component/k2/1790002-20261201.htm)"
RTHK_LINES = ("政府今日公布新一輪測試措施，涉及全港十八區。",
              "發言人表示，措施下星期一起生效，市民可透過網上平台查詢詳情。",
              "有立法會議員歡迎措施，但認為當局應加強宣傳。")


def test_rthk_plain_text_lines_become_paragraphs(mirror, httpserver: HTTPServer):
    url = serve_feed(httpserver, "rthk.xml")
    report = mirror.run([bundled("rthk", url)])
    assert report.new == 2 and not report.failed_items
    files = article_bytes(mirror)
    assert files[RTHK_HEAD] == _file(1796113800000, RTHK_HEAD,
                                     "".join(f"<p>{line}</p>" for line in RTHK_LINES))
    # One line of text has no paragraphs to tell apart: left as the feed gave it.
    assert files[RTHK_SHORT_HEAD] == _file(1796112000000, RTHK_SHORT_HEAD,
                                           "天文台預測明日天晴，氣溫介乎十八至二十四度。")


def test_rthk_as_a_hand_written_source_keeps_the_feed_body(mirror, httpserver: HTTPServer):
    url = serve_feed(httpserver, "rthk.xml")
    mirror.run([hand_written("rthk", url)])
    # The lines run together, as they always have for such a source (FORMAT.md: each line
    # trimmed, joined with nothing).
    assert article_bytes(mirror)[RTHK_HEAD] == _file(1796113800000, RTHK_HEAD, "".join(RTHK_LINES))


NYT_SUMMIT = "https://cn.nytimes.com/world/20261201/test-summit-ends/"
NYT_SUMMIT_TRACKED = (NYT_SUMMIT + "?utm_source=RSS&utm_medium=feed&utm_campaign=rss_zh"
                      "&utm_content=world&utm_term=summit")
NYT_COMPANY = "https://cn.nytimes.com/business/20261201/test-company/zh-hant/?page=2"
NYT_COMPANY_TRACKED = NYT_COMPANY + "&utm_source=RSS&fbclid=TESTCLICK"
NYT_SUMMIT_BODY = "<p>为期两天的测试峰会周二闭幕，与会各方同意明年继续对话。</p>"
NYT_COMPANY_BODY = "<p>这家公司用了十年时间，从制造业转向软件服务。</p>"


def _nyt_files(mirror: Mirror) -> dict[str, bytes]:
    """The two articles' bytes by their title."""
    return {p.read_bytes().split(b"\n")[1].decode().partition("](")[0][1:]: p.read_bytes()
            for p in mirror.articles()}


def test_nytimes_new_articles_link_without_tracking_parameters(mirror, httpserver: HTTPServer):
    url = serve_feed(httpserver, "nytimes.xml")
    report = mirror.run([bundled("nytimes", url)])
    assert report.new == 2 and not report.failed_items
    files = _nyt_files(mirror)
    assert files["测试峰会闭幕，各方同意继续对话"] == _file(
        1796068800000, f"[测试峰会闭幕，各方同意继续对话]({NYT_SUMMIT})", NYT_SUMMIT_BODY)
    # Other parameters stay, in their place and spelling.
    assert files["一家测试公司的转型之路"] == _file(
        1796065200000, f"[一家测试公司的转型之路]({NYT_COMPANY})", NYT_COMPANY_BODY)
    # Seen again (one item known by its GUID, one by its link as the feed gives it): the
    # same articles, nothing new.
    again = mirror.run([bundled("nytimes", url)])
    assert (again.new, again.updated, again.outcomes[0].unchanged) == (0, 0, 2)


def test_nytimes_archived_articles_keep_their_link(mirror, httpserver: HTTPServer):
    feed = (HERE / "nytimes.xml").read_bytes()
    httpserver.expect_ordered_request("/nytimes.xml").respond_with_data(feed, content_type=RSS_TYPE)
    edited = feed.replace("明年继续对话".encode(), "明年在测试城继续对话".encode()) \
                 .replace("十年时间".encode(), "整整十年时间".encode())
    httpserver.expect_ordered_request("/nytimes.xml").respond_with_data(edited, content_type=RSS_TYPE)
    url = httpserver.url_for("/nytimes.xml")
    mirror.run([hand_written("nytimes", url)])  # archived before the source stripped links
    paths = mirror.articles()
    report = mirror.run([bundled("nytimes", url)])
    assert (report.new, report.updated) == (0, 2)
    assert mirror.articles() == paths
    files = _nyt_files(mirror)
    assert files["测试峰会闭幕，各方同意继续对话"] == _file(
        1796068800000, f"[测试峰会闭幕，各方同意继续对话]({NYT_SUMMIT_TRACKED})",
        NYT_SUMMIT_BODY.replace("明年继续对话", "明年在测试城继续对话"))
    assert files["一家测试公司的转型之路"] == _file(
        1796065200000, f"[一家测试公司的转型之路]({NYT_COMPANY_TRACKED})",
        NYT_COMPANY_BODY.replace("十年时间", "整整十年时间"))


def serve_dw(httpserver: HTTPServer) -> str:
    base = httpserver.url_for("").rstrip("/")
    feed = (HERE / "dw.rdf").read_text(encoding="utf-8").replace("{base}", base)
    httpserver.expect_request("/rss-chi-all").respond_with_data(
        feed.encode(), content_type="application/rdf+xml; charset=utf-8")
    httpserver.expect_request("/zh/test-energy-transition/a-70000001").respond_with_data(
        (HERE / "dw-article.html").read_bytes(), content_type="text/html; charset=utf-8")
    return httpserver.url_for("/rss-chi-all")


EXPECTED_DW = (
    "<!--1796119200000-->\n[测试州加快能源转型]({base}/zh/test-energy-transition/a-70000001)\n"
    "------\n\n"
    '<figure><img src="https://static.dw.com/image/70000002_906.jpg" alt="测试州的一座风电场">'
    "<figcaption>测试州的一座风电场图像来源: 测试图片社</figcaption></figure>"
    "<p>州长在周二的新闻发布会上说，关闭电厂的时间表已经与电力公司和工会商定，受影响的工人将获得转岗培训和过渡补贴。</p>"
    "<p>环保团体对这一决定表示欢迎，但批评州政府在输电线路建设方面进展缓慢，认为如果电网跟不上，"
    "新增的风电将难以送到用电大户所在的南部地区。</p>"
    "<p>经济学家指出，能源转型的成本最终会部分转嫁给消费者，州政府需要说明如何保护低收入家庭免受电价上涨的冲击。</p>\n"
).encode()


def test_dw_image_addresses_get_their_format_id(mirror, httpserver: HTTPServer):
    url = serve_dw(httpserver)
    report = mirror.run([bundled("dw", url)], images=NO_PROXY)
    assert report.new == 1 and not report.page_failures and not report.failed_items
    [data] = article_bytes(mirror).values()
    assert b'src="https://static.dw.com/image/70000002_906.jpg"' in data
    assert b"formatId" not in data and b"%7B" not in data
    assert data == EXPECTED_DW.replace(b"{base}", httpserver.url_for("").rstrip("/").encode())


def test_dw_as_a_hand_written_source_keeps_the_address_as_the_page_has_it(
        mirror, httpserver: HTTPServer):
    url = serve_dw(httpserver)
    mirror.run([{**hand_written("dw", url), "full_text": "auto"}], images=NO_PROXY)
    [data] = article_bytes(mirror).values()
    assert b'src="https://static.dw.com/image/70000002_${formatId}.jpg"' in data


CDT_HEAD = "[【测试】网友热议一则测试新闻](https://chinadigitaltimes.net/chinese/2026/12/test-post/)"


def test_cdt_feed_bodies_lose_share_blocks_promos_and_empty_paragraphs(
        mirror, httpserver: HTTPServer):
    url = serve_feed(httpserver, "cdt.xml")
    report = mirror.run([bundled("cdt", url)])
    assert report.new == 1 and not report.failed_items
    [data] = article_bytes(mirror).values()
    assert data == _file(1796122800000, CDT_HEAD,
                         "<p>CDT 档案卡<br>标题：网友热议一则测试新闻</p>"
                         "<p>近日，一则测试新闻在社交媒体上引发热议。</p>"
                         "<p>有网友评论说：“这才是大家关心的事。”</p>")


def test_cdt_as_a_hand_written_source_keeps_the_feed_body(mirror, httpserver: HTTPServer):
    url = serve_feed(httpserver, "cdt.xml")
    mirror.run([hand_written("cdt", url)])
    [data] = article_bytes(mirror).values()
    body = data.decode().split("\n")[4]
    assert body.startswith("<p>CDT 档案卡<br />标题：网友热议一则测试新闻</p>")
    assert "<p> </p><p>&nbsp;</p>" in body and "分享 :" in body and "Newsletter" in body
    assert "addtoany_share_save_container" in body
