"""render_atom writes its feed as text: the bytes must be lxml's for the same elements.

The reference below is how render_atom built the feed before (lxml, element by element,
`tostring(pretty_print=True)`); both are compared on the items of the feedparser corpus,
the shared Chinese pages as bodies, and on any text hypothesis makes up.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from newsmirror.archive.paths import README, feed_path, source_list_path
from newsmirror.parse.feed import FeedParseError, NotAFeedError, parse_feed
from newsmirror.publish.feeds import (
    ALL, ATOM_NS, FeedEntry, FeedInfo, archive_href, atom_time, entry_id, feed_id, render_atom,
)
from newsmirror.publish.links import original_link

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _add(parent, tag, text=None, **attrs):
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}",
                               {k: _NOT_XML.sub("", v) for k, v in attrs.items()})
    if text is not None:
        element.text = _NOT_XML.sub("", text)
    return element


def lxml_atom(info: FeedInfo, entries, base_url, where=None) -> bytes:
    href = where or (lambda path: archive_href(path, base_url))
    feed = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _add(feed, "id", feed_id(info.name))
    _add(feed, "title", info.title)
    _add(feed, "updated", atom_time(max((e.published_ms for e in entries), default=0)))
    if base_url:
        _add(feed, "link", rel="self", type="application/atom+xml", href=href(feed_path(info.name)))
    page = README if info.name == ALL else source_list_path(info.name)
    _add(feed, "link", rel="alternate", href=href(page))
    _add(feed, "generator", "newsmirror")
    for entry in entries:
        item = _add(feed, "entry")
        _add(item, "id", entry_id(entry.slug, entry.key))
        _add(item, "title", entry.title)
        _add(item, "updated", atom_time(entry.published_ms))
        _add(item, "published", atom_time(entry.published_ms))
        _add(item, "link", rel="alternate", href=entry.href or href(entry.path))
        related = original_link(entry.link)
        if related:
            _add(item, "link", rel="related", type="text/html", href=related)
        author = _add(item, "author")
        _add(author, "name", entry.source_name)
        _add(item, "category", term=entry.slug, label=entry.source_name)
        if entry.content_html is not None:
            _add(item, "content", entry.content_html, type="html")
    return etree.tostring(feed, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _corpus_entries(testdata_dir: Path) -> list[FeedEntry]:
    pages = sorted((testdata_dir / "chinese-news-pages").rglob("*.html"))
    entries = []
    for path in sorted((testdata_dir / "feedparser-corpus").rglob("*.xml")):
        try:
            feed = parse_feed(path.read_bytes(), url="http://example.org/feed")
        except (NotAFeedError, FeedParseError, ValueError):
            continue
        for n, item in enumerate(feed.items):
            body = item.content_html
            if n == 0 and pages:  # a whole news page as the body, now and then
                body = pages[len(entries) % len(pages)].read_text("utf-8", "replace")
            entries.append(FeedEntry(
                slug="s" + str(len(entries) % 7), key=f"{len(entries):012x}",
                path=f"articles/s/2024/05/{item.title[:40]}-{len(entries):012x}.md",
                title=item.title, link=item.link or item.guid or "", published_ms=item.published_ms or 0,
                source_name=item.title[::-1] or "源", content_html=body if n % 5 else None))
    return entries


def test_the_text_is_lxmls_on_the_feed_corpus(testdata_dir: Path) -> None:
    entries = _corpus_entries(testdata_dir)
    assert len(entries) > 1000
    for start in range(0, len(entries), 50):
        chunk = entries[start:start + 50]
        info = FeedInfo(chunk[0].slug if start % 100 else ALL, chunk[0].title)
        assert render_atom(info, chunk, None) == lxml_atom(info, chunk, None), start
        assert render_atom(info, chunk, "https://x.example/a/") == lxml_atom(info, chunk, "https://x.example/a/")


def test_an_empty_feed_is_lxmls() -> None:
    info = FeedInfo(ALL, "镜像")
    assert render_atom(info, [], None) == lxml_atom(info, [], None)


_ANY = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["", "a&b<c>d\"e'f", "\r\n\t", "]]>", "\x85\u2028\u2029", "\x00\x0b\ufffe", "&amp;", "\r"])


@settings(max_examples=300, deadline=None)
@given(title=_ANY, name=_ANY, link=_ANY, body=st.none() | _ANY, slug=_ANY, where=_ANY)
def test_any_text_is_written_as_lxml_writes_it(title, name, link, body, slug, where) -> None:
    entry = FeedEntry(slug=slug, key="0123456789ab", path="articles/x/a.md", title=title, link=link,
                      published_ms=1714550400123, source_name=name, content_html=body,
                      href=where or None)
    info = FeedInfo(slug, title)
    assert render_atom(info, [entry], "https://x.example") == lxml_atom(info, [entry], "https://x.example")
    assert render_atom(info, [entry], None, lambda p: where + p) == lxml_atom(info, [entry], None,
                                                                             lambda p: where + p)


@pytest.mark.parametrize("text", ["a\u0085b", "\U0001f600", "x\x7fy", "&#13;", "\r\r\n"])
def test_edge_characters(text: str) -> None:
    entry = FeedEntry(slug=text, key="k", path=text, title=text, link=text, published_ms=0,
                      source_name=text, content_html=text)
    info = FeedInfo(text, text)
    assert render_atom(info, [entry], text) == lxml_atom(info, [entry], text)
