"""The one rule for addresses on every surface: never javascript:, vbscript: or data:."""

from __future__ import annotations

import pytest

from newsmirror.publish.links import original_link, safe_href, url_scheme

SCRIPTS = [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "\x01javascript:alert(1)",
    "java\tscript:alert(1)", "java\nscript:alert(1)", "jav\r\nascript:alert(1)", "vbscript:msgbox(1)",
    "VBScript:msgbox(1)", "data:text/html,<script>alert(1)</script>", "DATA:text/html;base64,PHNjcmlwdD4=",
    "\u0000data:,x",
]


@pytest.mark.parametrize("href", SCRIPTS)
def test_script_and_data_addresses_are_refused(href):
    assert safe_href(href) is None
    assert original_link(href) is None
    assert url_scheme(href) in ("javascript", "vbscript", "data")


@pytest.mark.parametrize("href", ["/articles/voa/2024/05/a.md", "../lists/voa.md", "lists/voa.md",
                                  "a.html#javascript:x", "?q=data:x", "https://x.test/javascript:alert(1)"])
def test_relative_and_web_addresses_pass_unchanged(href):
    assert safe_href(href) == href


def test_originals_must_be_absolute_web_addresses():
    assert original_link("https://www.voachinese.com/a/1.html") == "https://www.voachinese.com/a/1.html"
    assert original_link("HTTP://x.test/") == "HTTP://x.test/"
    for link in ("/relative", "//x.test/a", "ftp://x.test/", "mailto:a@x.test", "", None):
        assert original_link(link) is None


def test_quote_path_is_urllibs_quote_on_the_corpus_paths_and_any_text(testdata_dir) -> None:
    from urllib.parse import quote

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from newsmirror.archive.paths import article_path
    from newsmirror.publish.links import quote_path

    titles = [line.strip() for path in sorted((testdata_dir / "chinese-news-pages").rglob("*.html"))
              for line in path.read_text("utf-8", "replace").splitlines()[:40]]
    paths = [article_path("voa", 1714550400123 + n, title, f"{n:012x}") for n, title in enumerate(titles)]
    assert len(paths) > 1000
    for path in paths + ["", "a b/(c)%20~_.-/\u00e9", "articles/s/2024/05/新闻 (1)-0123456789ab.md"]:
        assert quote_path(path) == quote(path, safe="/-_.~"), path

    @settings(max_examples=500, deadline=None)
    @given(st.text(st.characters(codec="utf-8")))
    def same(text: str) -> None:
        assert quote_path(text) == quote(text, safe="/-_.~")

    same()
