"""The feedparser test corpus (2,107 real-world-shaped documents), served over loopback HTTP.

Every document is served with its ``Header:`` lines, fetched with the project's
Fetcher and parsed; only NotAFeedError / FeedParseError may come out. The
encoding documents' titles are checked against feedparser's own reading of
the same bytes and headers, and the two parser paths are checked to agree.
"""

from __future__ import annotations

import asyncio
import io
import re
import time
import warnings
from collections import Counter

import feedparser
import pytest
from werkzeug import Request, Response

from newsmirror.fetch.client import Fetcher, FetchSettings
from newsmirror.models import ParsedFeed
from newsmirror.parse.encoding import decode_document, replace_xml_encoding
from newsmirror.parse.feed import FeedParseError, NotAFeedError, fast_parse, parse_feed, thorough_parse, xml_problem
from tests.parse.agreement import feed_differences

pytestmark = pytest.mark.slow

CONCURRENCY = 32


@pytest.fixture(scope="module")
def outcomes(corpus, make_httpserver):
    """rel path -> ParsedFeed or the NotAFeedError/FeedParseError raised, for every document."""
    httpserver = make_httpserver  # the session server behind the `httpserver` fixture
    by_path = {"/" + doc.rel: doc for doc in corpus}

    def serve(request: Request) -> Response:
        doc = by_path[request.path]
        response = Response(doc.body, headers=list(doc.headers))
        if doc.content_type is None:
            del response.headers["Content-Type"]  # not werkzeug's text/plain; charset=utf-8
        return response

    httpserver.expect_request(re.compile(r"/.*")).respond_with_handler(serve)

    async def fetch_and_parse(fetcher: Fetcher, doc) -> object:
        result = await fetcher.fetch(httpserver.url_for("/" + doc.rel))
        assert result.status == 200 and result.body == doc.body, doc.rel
        try:
            return parse_feed(result.body, content_type=result.content_type, url=result.url)
        except (NotAFeedError, FeedParseError) as exc:
            return exc

    async def run_all() -> list[object]:
        settings = FetchSettings(concurrency=CONCURRENCY, per_host=CONCURRENCY)
        async with Fetcher(settings, trust_env=False) as fetcher:
            return await asyncio.gather(*(fetch_and_parse(fetcher, doc) for doc in corpus))

    start = time.perf_counter()
    results = asyncio.run(run_all())
    elapsed = time.perf_counter() - start
    found = dict(zip((doc.rel for doc in corpus), results))
    counts = Counter(
        "parsed with problem" if isinstance(r, ParsedFeed) and r.problem else type(r).__name__ for r in results
    )
    print(f"\ncorpus: {len(corpus)} documents fetched and parsed in {elapsed:.1f}s: {dict(counts)}")
    for rel, result in found.items():
        if isinstance(result, Exception):
            print(f"  {rel}: {type(result).__name__}: {result}")
    return found


def test_every_document_parses_or_is_rejected_cleanly(corpus, outcomes):
    assert len(corpus) >= 2106  # 2,107 files besides LICENSE and SOURCE.txt
    counts = Counter(type(result).__name__ for result in outcomes.values())
    assert counts["ParsedFeed"] >= 2100
    assert counts["ParsedFeed"] + counts["NotAFeedError"] + counts["FeedParseError"] == len(corpus)
    problems = sum(1 for r in outcomes.values() if isinstance(r, ParsedFeed) and r.problem)
    assert problems >= 250  # the entities/ and illformed/ documents are malformed on purpose
    assert isinstance(outcomes["illformed/rss_empty_document.xml"], NotAFeedError)


def test_gb2312_and_big5_titles_come_out_as_chinese(outcomes):
    gb = outcomes["illformed/chardet/gb2312.xml"]
    assert gb.encoding == "gb18030"
    assert gb.items[0].title == "不归移民漫画系列：专业工作"
    big5 = outcomes["illformed/chardet/big5.xml"]
    assert big5.encoding in ("big5hkscs", "cp950")
    assert big5.title.startswith("我希望") and "成中文，并有助于改" in big5.title
    for rel in (
        "encoding/http_application_atom_xml_gb2312_charset.xml",
        "encoding/http_application_atom_xml_gb2312_charset_overrides_encoding.xml",
        "encoding/http_application_atom_xml_gb2312_encoding.xml",
    ):
        assert outcomes[rel].encoding in ("gb18030", "utf-8"), rel  # ASCII-only bodies are valid UTF-8
    assert outcomes["encoding/big5.xml"].problem is None


def _reference_titles(doc) -> tuple[str, list[str]]:
    """feedparser's own feed and item titles for the same bytes and headers, normalised as ours are."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = feedparser.parse(io.BytesIO(doc.body), response_headers=dict(doc.headers))

    def norm(value: str) -> str:
        return (value or "").strip()

    return norm(result.feed.get("title", "")), [norm(entry.get("title", "")) for entry in result.entries]


# feedparser's decoding differs from ours on purpose here: it trusts a text/* header's
# us-ascii/latin-1 default, or a declaration, over bytes that are valid UTF-8 (or
# windows-1252), and it repairs double-encoded or C1-mangled text after the fact.
DECODING_DIFFERS = {
    "encoding/bozo_http_i18n.xml",
    "encoding/bozo_linenoise.xml",
    "encoding/demoronize-1.xml",
    "encoding/demoronize-2.xml",
    "encoding/demoronize-3.xml",
    "encoding/double-encoded-html.xml",
    "encoding/bozo_double-encoded-html.xml",
    # UTF-8 with a BOM and one Latin-1 byte: we keep the BOM's word (and replace that
    # byte); feedparser re-decodes it all as windows-1252, garbling the valid UTF-8.
    "encoding/bozo_invalid-bytes-with-bom.xml",
}


def test_encoding_documents_titles_match_feedparser(corpus, outcomes):
    checked, mismatches = 0, []
    for doc in corpus:
        if not doc.rel.startswith(("encoding/", "illformed/chardet/")) or doc.rel in DECODING_DIFFERS:
            continue
        ours = outcomes[doc.rel]
        if not isinstance(ours, ParsedFeed):
            continue
        feed_title, item_titles = _reference_titles(doc)
        checked += 1
        if (ours.title, [item.title for item in ours.items]) != (feed_title, item_titles):
            mismatches.append((doc.rel, ours.title, [i.title for i in ours.items], feed_title, item_titles))
    print(f"\nencoding documents whose titles match feedparser's: {checked - len(mismatches)}/{checked}")
    assert mismatches == []
    assert checked >= 80


def test_fast_and_thorough_paths_agree_on_wellformed_documents(corpus):
    compared, disagreements = 0, []
    for doc in corpus:
        if doc.rel.startswith("json/") or _EXOTIC.search(doc.rel):
            continue
        text, _ = decode_document(doc.body, doc.content_type)
        data = replace_xml_encoding(text.lstrip("\ufeff")).encode()
        if xml_problem(data):
            continue
        try:
            fast = fast_parse(data, url="http://127.0.0.1/feed.xml")
        except Exception:  # noqa: BLE001 - a document fastfeedparser does not take goes to feedparser anyway
            continue
        compared += 1
        differences = feed_differences(fast, thorough_parse(data, url="http://127.0.0.1/feed.xml"))
        if differences:
            disagreements.append((doc.rel, differences))
    print(f"\nfastfeedparser and feedparser agree on all {compared} comparable well-formed documents")
    assert disagreements == []
    assert compared >= 400


# Documents exercising what one parser supports and the other does not: Atom 0.3
# (base64 / inline / naked markup), xhtml or xml:base-relative titles and content,
# RSS fullitem/xhtml:body, MathML/SVG namespaces, several authors, link rel rules,
# permalink rules, media:title, and feedparser's C1/double-encoding repairs.
_EXOTIC = re.compile(
    r"^wellformed/(atom|amp|sanitize|lang|base|psc|media-rss|node_precedence)/"
    r"|^wellformed/namespace/atom(mathml|svg|xlink)"
    r"|base64|inline_markup|naked_markup|xhtml|fullitem|_body|application_xml|escaped_markup|demoronize"
    r"|double-encoded|multiple|date_overwriting|LocalNameClash|summary_and|and_summary|xml_base"
    r"|encoding_attribute_crash|entry_link_|entry_id_no_normalization|entry_authors_|author_detail"
    r"|guid_not_permalink|guid_isPermaLink_ValueError|item_category_image|entity_in_doctype"
    r"|relative_uri|_in_attr\.|_uppercase|NSwithModules|channel_dc_title"  # xhtml / dc: / itunes: feed titles
)


_DATE_ELEMENT = re.compile(
    rb"<((?:[\w.-]+:)?(?:pubDate|date|published|updated|issued|modified|created|lastBuildDate))\b[^>]*?"
    rb"(?:/>|>.*?</\1\s*>)", re.DOTALL | re.IGNORECASE)
_GUID = re.compile(rb"<((?:[\w.-]+:)?(?:guid|id))(\s[^>]*)?>[^<]*</\1\s*>", re.IGNORECASE)
_ITEM_START = re.compile(rb"<(item|entry)(\s[^>]*)?>")


def undated(data: bytes) -> bytes:
    """``data`` with every date element cut out, every guid and id set to 130376 (a date
    to dateutil: 13 March 1976), and one more such guid at the start of every item."""
    data = _DATE_ELEMENT.sub(b"", data)
    data = _GUID.sub(lambda m: b"<%s%s>130376</%s>" % (m[1], m[2] or b"", m[1]), data)
    return _ITEM_START.sub(lambda m: m[0] + b"<guid>130376</guid>", data)


def test_real_feeds_without_their_dates_get_no_dates_whatever_their_guids(corpus):
    """Every corpus feed, undated: no item may come out with a date, on either path."""
    checked = items = 0
    for doc in corpus:
        if doc.rel.startswith("json/") or not _ITEM_START.search(doc.body):
            continue
        text, _ = decode_document(doc.body, doc.content_type)
        data = undated(replace_xml_encoding(text.lstrip("\ufeff")).encode())
        try:
            feeds = [parse_feed(data), thorough_parse(data)]
        except (NotAFeedError, FeedParseError):
            continue
        if not xml_problem(data):
            try:
                feeds.append(fast_parse(data))
            except Exception:  # noqa: BLE001, S110 - documents fastfeedparser does not take go to feedparser
                pass
        dated = [(doc.rel, item.published_ms) for feed in feeds for item in feed.items if item.published_ms]
        assert dated == []
        checked += 1
        items += len(feeds[0].items)
    print(f"\n{checked} real documents ({items} items) stripped of their dates: no item dated")
    assert checked >= 800 and items >= 800
