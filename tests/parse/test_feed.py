"""parse_feed on hand-written documents: each feed dialect, dates, links, non-feeds."""

from __future__ import annotations

import calendar
import json
import subprocess
import sys
import time

import pytest

from newsmirror.models import FeedItem, ItemFailure, ParsedFeed
from tests.parse.agreement import feed_differences
from newsmirror.parse.feed import FeedParseError, NotAFeedError, fast_parse, parse_feed, thorough_parse

URL = "https://www.voachinese.com/api/zmgqoe$pmq"
MS = 1677695943000  # 2023-03-01 18:39:03 UTC, the FORMAT.md example

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>美国之音中文网 - 美国 &amp; 中国</title>
  <link>https://www.voachinese.com/</link>
  <item>
    <title>  拜登会见习近平 &amp;amp; 讨论台湾
    </title>
    <link>/a/biden-xi-20230301/6984321.html</link>
    <guid isPermaLink="false">6984321</guid>
    <description>摘要</description>
    <content:encoded><![CDATA[<p>全文 <b>正文</b></p>]]></content:encoded>
    <pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate>
    <dc:creator>美国之音</dc:creator>
  </item>
  <item>
    <title>只有摘要</title>
    <link>https://www.voachinese.com/a/2.html</link>
    <description><![CDATA[<p>一段摘要</p>]]></description>
    <dc:date>2023-03-02T02:39:03+08:00</dc:date>
  </item>
  <item>
    <title>没有日期</title>
    <link>https://www.voachinese.com/a/3.html</link>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>BBC 中文</title>
  <link rel="alternate" href="https://www.bbc.com/zhongwen/simp"/>
  <id>urn:bbc:zhongwen</id>
  <updated>2023-03-01T18:39:03Z</updated>
  <entry>
    <title type="html">&lt;b&gt;中国&lt;/b&gt;两会开幕</title>
    <link rel="alternate" href="articles/c1"/>
    <id>urn:bbc:c1</id>
    <published>2023-03-01T18:39:03Z</published>
    <updated>2023-03-05T00:00:00Z</updated>
    <author><name>BBC</name><email>news@bbc.co.uk</email></author>
    <summary>摘要</summary>
    <content type="html">&lt;p&gt;全文&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>只有更新时间</title>
    <link href="https://www.bbc.com/zhongwen/simp/articles/c2"/>
    <id>urn:bbc:c2</id>
    <updated>2023-03-02T02:39:03+08:00</updated>
    <summary type="html">&lt;p&gt;仅摘要&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title>XHTML</title>
    <id>urn:bbc:c3</id>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>你好 <b>世界</b></p></div></content>
  </entry>
</feed>
"""

RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://www.rfi.fr/cn/">
    <title>RFI 华语</title>
    <link>https://www.rfi.fr/cn/</link>
    <items><rdf:Seq><rdf:li rdf:resource="https://www.rfi.fr/cn/1"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://www.rfi.fr/cn/1">
    <title>法广新闻</title>
    <link>https://www.rfi.fr/cn/1</link>
    <description>法广摘要</description>
    <dc:date>2023-03-01T18:39:03Z</dc:date>
    <dc:creator>RFI</dc:creator>
  </item>
</rdf:RDF>
"""


def test_rss2_with_content_encoded():
    feed = parse_feed(RSS.encode("utf-8"), content_type="application/rss+xml; charset=utf-8", url=URL)
    assert isinstance(feed, ParsedFeed)
    assert (feed.title, feed.link, feed.encoding, feed.problem) == (
        "美国之音中文网 - 美国 & 中国",
        "https://www.voachinese.com/",
        "utf-8",
        None,
    )
    first, second, third = feed.items
    assert first == FeedItem(
        title="拜登会见习近平 &amp; 讨论台湾",
        link="https://www.voachinese.com/a/biden-xi-20230301/6984321.html",
        guid="6984321",
        content_html="<p>全文 <b>正文</b></p>",
        has_full_content=True,
        published_ms=MS,
    )
    assert (second.content_html, second.has_full_content, second.published_ms) == ("<p>一段摘要</p>", False, MS)
    # (fastfeedparser fills a missing guid with the link; parse_feed can undo that only
    # when no item of the document has a guid -- see test_absent_link_and_guid_are_none.)
    assert (third.published_ms, third.content_html, third.has_full_content) == (None, "", False)


def test_atom():
    feed = parse_feed(ATOM.encode("utf-8"), url="https://feeds.bbci.co.uk/zhongwen/simp/rss.xml")
    assert (feed.title, feed.link) == ("BBC 中文", "https://www.bbc.com/zhongwen/simp")
    first, second, third = feed.items
    assert first == FeedItem(
        title="<b>中国</b>两会开幕",
        link="https://feeds.bbci.co.uk/zhongwen/simp/articles/c1",
        guid="urn:bbc:c1",
        content_html="<p>全文</p>",
        has_full_content=True,
        published_ms=MS,  # published wins over updated
    )
    assert (second.published_ms, second.content_html, second.has_full_content) == (MS, "<p>仅摘要</p>", False)
    assert (third.content_html, third.has_full_content, third.published_ms) == ("<p>你好 <b>世界</b></p>", True, None)


def test_rdf():
    feed = parse_feed(RDF.encode("utf-8"))
    (item,) = feed.items
    assert item == FeedItem("法广新闻", "https://www.rfi.fr/cn/1", "https://www.rfi.fr/cn/1", "法广摘要", False, MS)


@pytest.mark.parametrize(
    "element",
    [
        "<pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate>",
        "<pubDate>Thu, 02 Mar 2023 02:39:03 +0800</pubDate>",
        "<dc:date>2023-03-01T18:39:03Z</dc:date>",
        "<atom:updated>2023-03-01T18:39:03Z</atom:updated>",
        "<atom:published>2023-03-01T18:39:03.000Z</atom:published>",
        "<dcterms:modified>2023-03-01T18:39:03Z</dcterms:modified>",
    ],
)
def test_dates_from_each_element(element):
    doc = (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom"'
        ' xmlns:dcterms="http://purl.org/dc/terms/"><channel><title>t</title>'
        f"<item><title>x</title>{element}</item></channel></rss>"
    )
    (item,) = parse_feed(doc.encode()).items
    assert item.published_ms == MS


@pytest.mark.parametrize("value", ["", "not a date", "10:30", "Tuesday", "March", "2 hours ago", "昨天"])
def test_missing_or_unparseable_dates_are_none_never_invented(value):
    doc = f"<rss version='2.0'><channel><title>t</title><item><title>x</title><pubDate>{value}</pubDate></item></channel></rss>"
    (item,) = parse_feed(doc.encode()).items
    assert item.published_ms is None
    # The malformed path must agree.
    (broken,) = parse_feed(doc.replace("</title><item>", "</title>&nbsp;<item>").encode()).items
    assert broken.published_ms is None


def test_relative_links_resolve_against_the_document_url_else_the_feed_link():
    doc = b"<rss version='2.0'><channel><title>t</title><link>https://example.org/news/</link><item><title>x</title><link>a/1.html</link></item></channel></rss>"
    assert parse_feed(doc, url="https://feeds.example.org/rss/all.xml").items[0].link == "https://feeds.example.org/rss/a/1.html"
    assert parse_feed(doc).items[0].link == "https://example.org/news/a/1.html"


def test_absent_link_and_guid_are_none():
    doc = b"<rss version='2.0'><channel><title>t</title><item><title>x</title><description>d</description></item></channel></rss>"
    (item,) = parse_feed(doc, url=URL).items
    assert (item.link, item.guid) == (None, None)


def test_zero_items_is_a_valid_feed():
    feed = parse_feed(b"<rss version='2.0'><channel><title>empty</title></channel></rss>")
    assert feed.items == () and feed.title == "empty" and feed.problem is None


def test_gb2312_feed_with_a_header():
    doc = '<?xml version="1.0" encoding="gb2312"?><rss version="2.0"><channel><title>新闻</title><item><title>中国经济</title></item></channel></rss>'
    feed = parse_feed(doc.encode("gb2312"), content_type="text/xml; charset=gb2312")
    assert (feed.encoding, feed.title, feed.items[0].title) == ("gb18030", "新闻", "中国经济")


def test_html_page_is_not_a_feed():
    page = "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>美国之音 - 首页</title></head><body><p>hi</p></body></html>"
    with pytest.raises(NotAFeedError, match=r"an HTML page, not a feed \(title: '美国之音 - 首页'\)"):
        parse_feed(page.encode(), content_type="text/html")


def test_cloudflare_challenge_is_not_a_feed():
    page = (
        "<!DOCTYPE html><html lang='en-US'><head><title>Just a moment...</title>"
        "<meta http-equiv='refresh' content='390'></head><body><div id='challenge-running'></div>"
        "<script src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1'></script></body></html>"
    )
    with pytest.raises(NotAFeedError, match="a Cloudflare challenge page, not a feed"):
        parse_feed(page.encode(), content_type="text/html; charset=UTF-8")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  \r\n ", "empty body"),
        (b"<?xml version='1.0'?><!-- nothing -->", "empty document"),
        (b'{"error": "not found"}', "JSON that is not a JSON Feed"),
        (b"[1, 2]", "JSON that is not a JSON Feed"),
        (b"{broken", "broken JSON"),
        (b"Service Unavailable", "plain text"),
        (b"<?xml version='1.0'?><opml version='2.0'><head><title>x</title></head><body/></opml>", "<opml> document"),
    ],
)
def test_other_non_feeds(body, reason):
    with pytest.raises(NotAFeedError, match=reason):
        parse_feed(body)


def test_a_feed_root_with_nothing_readable_is_a_parse_error():
    with pytest.raises(FeedParseError):
        parse_feed(b"<rss version='2.0'>")


def test_json_feed():
    doc = b'{"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": [{"id": "1", "url": "/p/1", "title": "T", "content_html": "<p>c</p>", "date_published": "2023-03-01T18:39:03Z"}]}'
    (item,) = parse_feed(doc, url="https://example.org/feed.json").items
    assert (item.title, item.link, item.guid, item.content_html, item.published_ms) == (
        "T", "https://example.org/p/1", "1", "<p>c</p>", MS
    )


def test_malformed_feed_is_parsed_with_a_problem():
    doc = (
        "<rss version='2.0'><channel><title>VOA &nbsp; 中文</title>"
        "<item><title>一 &amp; 二 &copy;</title><link>https://www.voachinese.com/a/1.html</link>"
        "<description><p>未闭合的段落</description><pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate></item>"
        "<item><title>第二条</title><link>https://www.voachinese.com/a/2.html</link>"
    )
    feed = parse_feed(doc.encode())
    assert feed.problem and "undefined entity" in feed.problem
    assert [item.title for item in feed.items] == ["一 & 二 ©", "第二条"]
    assert feed.items[0].published_ms == MS


def test_fast_and_thorough_paths_agree_on_these_documents():
    for doc in (RSS, ATOM, RDF):
        data = doc.encode()
        assert feed_differences(fast_parse(data, url=URL), thorough_parse(data, url=URL)) == []


def test_a_feed_of_fifty_long_items_parses_whole():
    # Its speed is measured by bench/run.py (the parse floor), not asserted here.
    items = "".join(
        f"<item><title>标题 {i}</title><link>https://www.voachinese.com/a/{i}.html</link><guid>{i}</guid>"
        f"<pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate><description>摘要</description>"
        f"<content:encoded><![CDATA[{'<p>正文段落，内容很长。</p>' * 40}]]></content:encoded></item>"
        for i in range(50)
    )
    doc = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        f"<channel><title>t</title>{items}</channel></rss>"
    ).encode()
    feed = parse_feed(doc, content_type="application/rss+xml", url=URL)
    assert len(feed.items) == 50 and feed.problem is None
    assert calendar.timegm(time.gmtime(feed.items[0].published_ms // 1000)) * 1000 == MS


def _both_paths(doc: str) -> list[list[int | None]]:
    """Item dates on the fast path, and on feedparser's path for the same document."""
    data = doc.encode()
    return [[item.published_ms for item in parse(data).items] for parse in (fast_parse, thorough_parse)]


@pytest.mark.parametrize("guid", ["130376", "20230301", "1677695943", "2023-03-01T18:39:03Z",
                                  "Wed, 01 Mar 2023 18:39:03 GMT"])
def test_an_undated_item_gets_no_date_from_its_guid(guid):
    # fastfeedparser itself takes a non-URL guid as the date of an undated item
    # (130376 is 13 March 1976 to it); only date elements give dates.
    doc = (f"<rss version='2.0'><channel><title>t</title>"
           f"<item><title>x</title><guid isPermaLink='false'>{guid}</guid></item>"
           f"<item><title>y</title><guid>{guid}-2</guid><pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate></item>"
           f"</channel></rss>")
    assert _both_paths(doc) == [[None, MS], [None, MS]]
    assert [item.published_ms for item in parse_feed(doc.encode()).items] == [None, MS]


def test_dates_come_from_the_items_own_elements_only():
    # Not from the channel's dates, not from an Atom entry's <source>, not from a title.
    doc = ("<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title><updated>2023-03-01T18:39:03Z</updated>"
           "<entry><title>2023-03-01T18:39:03Z</title><id>urn:x:1</id>"
           "<source><id>urn:s</id><updated>2023-03-01T18:39:03Z</updated></source></entry>"
           "<entry><title>b</title><id>urn:x:2</id><updated>2023-03-01T18:39:03Z</updated></entry></feed>")
    assert _both_paths(doc) == [[None, MS], [None, MS]]


@pytest.mark.parametrize("value", [
    "Fri, 31 Dec 9999 23:59:59 GMT", "9999-12-31T23:59:59Z", "Sat, 01 Jan 0000 00:00:00 GMT",
    "0000-01-01T00:00:00Z", "-0044-03-15T12:00:00Z", "2999-01-01T00:00:00Z", "Mon, 01 Jan 1800 00:00:00 GMT",
])
def test_out_of_range_dates_are_absent_beside_good_items(value):
    doc = (f"<rss version='2.0'><channel><title>t</title>"
           f"<item><title>x</title><guid>1</guid><pubDate>{value}</pubDate></item>"
           f"<item><title>y</title><guid>2</guid><pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate></item>"
           f"</channel></rss>")
    assert _both_paths(doc) == [[None, MS], [None, MS]]
    assert [item.published_ms for item in parse_feed(doc.encode()).items] == [None, MS]
    # Malformed XML goes to feedparser: the same.
    broken = doc.replace("</title><item>", "</title>&nbsp;<item>", 1)
    assert [item.published_ms for item in parse_feed(broken.encode()).items] == [None, MS]


def test_the_publication_date_wins_over_the_update_and_an_unreadable_one_falls_back():
    doc = ("<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><title>t</title>"
           "<item><title>a</title><dc:date>2023-03-05T00:00:00Z</dc:date><pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate></item>"
           "<item><title>b</title><pubDate>soon</pubDate><lastBuildDate>Wed, 01 Mar 2023 18:39:03 GMT</lastBuildDate></item>"
           "</channel></rss>")
    [fast, _thorough] = _both_paths(doc)
    assert fast == [MS, MS]


def test_json_feed_dates_are_read_and_checked_too():
    items = [
        {"id": "1", "url": "https://example.org/1", "title": "a", "content_html": "<p>a</p>",
         "date_published": "9999-12-31T23:59:59Z"},
        {"id": "130376", "url": "https://example.org/2", "title": "b", "content_html": "<p>b</p>"},
        {"id": "3", "url": "https://example.org/3", "title": "c", "content_html": "<p>c</p>",
         "date_modified": "2023-03-01T18:39:03Z"},
    ]
    doc = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": items}).encode()
    assert [item.published_ms for item in parse_feed(doc).items] == [None, None, MS]


def _json_feed(items: list, **feed: object) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "J", **feed,
                       "items": items}).encode()


def _json_item(number: int, **fields: object) -> dict:
    return {"id": str(number), "url": f"/p/{number}", "title": f"t{number}",
            "content_html": f"<p>{number}</p>", "date_published": "2023-03-01T18:39:03Z", **fields}


@pytest.mark.parametrize(("bad", "kind"), [
    (None, "null"), ("x", "a string"), (5, "a number"), ([1], "a list"), (True, "true or false"),
])
def test_a_json_feed_item_that_is_no_object_costs_only_itself(bad, kind):
    feed = parse_feed(_json_feed([_json_item(1), bad, _json_item(3)]), url="https://example.org/feed.json")
    assert [(item.title, item.link, item.published_ms) for item in feed.items] == [
        ("t1", "https://example.org/p/1", MS), ("t3", "https://example.org/p/3", MS)]
    assert feed.failed_items == (
        ItemFailure("item 2 of the JSON Feed", "parse", f"not a JSON object ({kind})"),)


def test_a_json_feed_item_with_a_numeric_date_costs_only_itself():
    items = [_json_item(1), None, _json_item(3, date_published=1677695943), "x", _json_item(5)]
    feed = parse_feed(_json_feed(items), url="https://example.org/feed.json")
    # The others are read as the whole feed would have been, links resolved and dated.
    assert [(item.title, item.link, item.guid, item.content_html, item.published_ms) for item in feed.items] == [
        ("t1", "https://example.org/p/1", "1", "<p>1</p>", MS),
        ("t5", "https://example.org/p/5", "5", "<p>5</p>", MS)]
    assert [(f.item, f.step, f.reason, f.bug) for f in feed.failed_items] == [
        ("item 2 of the JSON Feed", "parse", "not a JSON object (null)", False),
        ("item 4 of the JSON Feed", "parse", "not a JSON object (a string)", False),
        ("https://example.org/p/3", "parse", "date_published is a number, not a string", False)]


@pytest.mark.parametrize(("fields", "reason"), [
    ({"date_modified": 1677695943, "date_published": None}, "date_modified is a number, not a string"),
    ({"author": "某人"}, "author is a string, not an object"),
    ({"authors": "某人"}, "authors is a string, not a list of objects"),
    ({"attachments": 3}, "attachments is a number, not a list of objects"),
])
def test_a_json_feed_item_that_cannot_be_read_is_named_with_the_field_at_fault(fields, reason):
    # No address to resolve the item's link against but the feed's home page.
    feed = parse_feed(_json_feed([_json_item(1, **fields), _json_item(2)], home_page_url="https://example.org/"))
    assert [item.title for item in feed.items] == ["t2"]
    assert feed.failed_items == (ItemFailure("https://example.org/p/1", "parse", reason),)


def test_a_json_feed_of_only_bad_items_is_read_with_none():
    feed = parse_feed(_json_feed([None, _json_item(2, date_published=5)]))
    assert (feed.title, feed.items) == ("J", ())
    assert [f.reason for f in feed.failed_items] == [
        "not a JSON object (null)", "date_published is a number, not a string"]


def test_a_json_feed_that_is_bad_itself_still_fails_as_a_whole():
    # Not an item's fault: every item would fail alike, so the source fails, loudly.
    with pytest.raises(FeedParseError, match="a JSON Feed that could not be read"):
        parse_feed(_json_feed([_json_item(1), None], authors="某人"))


def test_no_date_is_completed_from_the_clock_whenever_the_module_is_imported():
    # There is no patch of the parsing libraries to install, so nothing depends on
    # import order: a fresh interpreter that uses fastfeedparser first agrees.
    code = (
        "import fastfeedparser\n"
        "fastfeedparser.parse(b\"<rss version='2.0'><channel><title>t</title><item><title>x</title>"
        "<pubDate>10:30</pubDate></item></channel></rss>\")\n"
        "from newsmirror.parse.feed import parse_feed\n"
        "doc = b\"<rss version='2.0'><channel><title>t</title><item><title>x</title><guid>130376</guid>"
        "<pubDate>10:30</pubDate></item></channel></rss>\"\n"
        "print(parse_feed(doc).items[0].published_ms)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "None"


@pytest.mark.parametrize("value", ["2023", "2023-05", "2023-02-29T00:00:00Z", "130376"])
def test_feedparsers_completions_are_no_dates_either(value):
    # feedparser reads these as 2023-01-01, 2023-05-01, 2023-03-01 and 2013-02-06.
    doc = f"<rss version='2.0'><channel><title>t</title><item><title>x</title><pubDate>{value}</pubDate></item></channel></rss>"
    assert _both_paths(doc) == [[None], [None]]


# Real-shaped items as VOA / RFI feeds carry them: runs of spaces, the ideographic space,
# and a '&quot;' that the feed escaped twice (the XML says '&amp;quot;').
TITLES_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>美国之音中文网</title><link>https://www.voachinese.com/</link>
<item><title>美中关系：  布林肯访华　会见王毅</title><link>https://www.voachinese.com/a/1.html</link>
  <guid>1</guid><pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate><description>x</description></item>
<item><title>拜登称中国气球事件 &amp;quot;不是重大违规&amp;quot;</title><link>https://www.voachinese.com/a/2.html</link>
  <guid>2</guid><pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate><description>x</description></item>
<item><title><![CDATA[法广　  专访：“我们  不会放弃” &quot;引号&quot;]]></title><link>https://www.rfi.fr/cn/3</link>
  <guid>3</guid><pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate><description>x</description></item>
<item><title>
    跨行的
    标题  </title><link>https://www.rfi.fr/cn/4</link><guid>4</guid><description>x</description></item>
</channel></rss>"""
EXPECTED_TITLES = [
    "美中关系：  布林肯访华　会见王毅",
    "拜登称中国气球事件 &quot;不是重大违规&quot;",
    "法广　  专访：“我们  不会放弃” &quot;引号&quot;",
    "跨行的\n    标题",
]


@pytest.mark.parametrize("path", ["fast", "thorough"])
def test_titles_come_as_the_feeds_parser_gives_them(path):
    data = TITLES_RSS.encode("utf-8")
    feed = fast_parse(data) if path == "fast" else thorough_parse(data)
    assert [item.title for item in feed.items] == EXPECTED_TITLES
    assert [item.title for item in parse_feed(data).items] == EXPECTED_TITLES


def test_such_titles_reach_line_2_byte_for_byte():
    from newsmirror.archive.article import normalise_title, render_article
    from newsmirror.models import Article

    items = parse_feed(TITLES_RSS.encode("utf-8")).items
    lines = [render_article(Article(MS, normalise_title(i.title), i.link, "<p>x</p>")).split(b"\n")[1] for i in items]
    assert lines == [
        "[美中关系：  布林肯访华　会见王毅](https://www.voachinese.com/a/1.html)".encode(),
        "[拜登称中国气球事件 &quot;不是重大违规&quot;](https://www.voachinese.com/a/2.html)".encode(),
        "[法广　  专访：“我们  不会放弃” &quot;引号&quot;](https://www.rfi.fr/cn/3)".encode(),
        "[跨行的 标题](https://www.rfi.fr/cn/4)".encode(),
    ]
