"""Item links that urljoin would give back unchanged skip it (parse/feed._absolute): the
shortcut must agree with urljoin on every link it takes."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

from hypothesis import given, settings
from hypothesis import strategies as st

from newsmirror.parse.feed import _JOINS_AS_ITSELF, _absolute

BASES = ["http://example.org/feed.xml", "https://example.org/a/b/?q=1#f", "feed://x/", "x/y", "//h/p",
         "http://[::1]/", "https://例子.测试/新闻/"]


def _joined(base: str, link: str) -> str:
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def test_the_links_of_the_feed_corpus_join_as_urljoin_joins_them(testdata_dir: Path) -> None:
    corpus = testdata_dir / "feedparser-corpus"
    links = {m.group(1).strip() for path in corpus.rglob("*.xml")
             for m in re.finditer(r'(?:href="|<link>|<guid[^>]*>)([^"<]+)', path.read_text("utf-8", "replace"))}
    taken = [link for link in links if _JOINS_AS_ITSELF.fullmatch(link)]
    assert len(taken) > 100
    for link in sorted(links):
        for base in BASES:
            assert _absolute(base, link) == _joined(base, link.strip()), (base, link)


_URL_CHARS = st.sampled_from(list("aZ09/?#;:@[]%&=+.-_~!$'()*, \t\r\n\x00\x1f\x7f\\") + ["中", "é", "\u3000", "\ufeff"])


@settings(max_examples=2000, deadline=None)
@given(scheme=st.sampled_from(["http://", "https://", "HTTP://", "Https://", "ftp://", "http:/", ""]),
       rest=st.text(_URL_CHARS, max_size=30), base=st.sampled_from(BASES))
def test_any_link_the_shortcut_takes_is_what_urljoin_gives(scheme: str, rest: str, base: str) -> None:
    link = scheme + rest
    if _JOINS_AS_ITSELF.fullmatch(link):
        assert _joined(base, link) == link
    assert _absolute(base, link) == (_joined(base, link.strip()) if link.strip() else None)
