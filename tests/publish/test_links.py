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
