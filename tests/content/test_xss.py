"""No known XSS vector survives sanitize_html (checked on the output as lxml parses it)."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import lxml.html
import pytest

from newsmirror.content.clean import DEFAULT_VIDEO_HOSTS, sanitize_html
from newsmirror.content.markup import srcset_urls

VECTORS_FILE = Path(__file__).with_name("xss_vectors.txt")
_CONTROLS = {"{TAB}": "\t", "{LF}": "\n", "{CR}": "\r", "{FF}": "\f", "{NUL}": "\x00"}


def _load_vectors() -> list[str]:
    vectors = []
    for line in VECTORS_FILE.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("# "):
            continue
        for name, char in _CONTROLS.items():
            line = line.replace(name, char)
        vectors.append(line)
    return vectors


VECTORS = _load_vectors()
FORBIDDEN_ELEMENTS = {
    "script", "style", "object", "embed", "applet", "form", "input", "button", "select",
    "textarea", "meta", "base", "link", "frame", "frameset", "svg", "math", "template",
    "isindex", "keygen", "bgsound", "layer", "portal", "noscript", "xmp", "noembed",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "cite",
                  "background", "data", "dynsrc", "lowsrc", "code", "codebase", "ping"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")


def _compact(value: str) -> str:
    """A URL as a browser sees it: entities decoded, white space and controls gone."""
    return _INVISIBLE.sub("", htmllib.unescape(value)).lower()


def _bad_url(value: str, *, data_image_ok: bool) -> bool:
    compact = _compact(value)
    if data_image_ok and compact.startswith("data:image/"):
        return False
    return compact.startswith(BAD_SCHEMES)


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def assert_safe(output: str) -> None:
    assert not re.search(r"<\s*/?\s*(script|style|iframe\s+srcdoc)", output, re.IGNORECASE)
    if not output.strip():
        return
    root = lxml.html.fragment_fromstring(output, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions cannot run anything
        tag = _local(element.tag)
        assert tag not in FORBIDDEN_ELEMENTS, f"<{tag}> survived"
        for name, value in element.attrib.items():
            attr = name.lower()
            assert not attr.startswith("on"), f"event handler {attr} survived"
            assert attr != "srcdoc"
            if attr in URL_ATTRIBUTES or attr.endswith(":href"):
                ok = tag == "img" and attr == "src"
                assert not _bad_url(value, data_image_ok=ok), f"{tag} {attr}={value!r}"
            if attr == "srcset":
                for start, end in srcset_urls(value):
                    assert not _bad_url(value[start:end], data_image_ok=tag in ("img", "source"))
            if attr == "style":
                compact = _compact(value)
                for danger in ("expression", "javascript", "url(", "behavior", "binding", "\\"):
                    assert danger not in compact, f"style {value!r}"
        if tag == "iframe":
            src = element.get("src", "")
            assert src.startswith("https://"), src
            host = src.split("/")[2]
            allowed = {entry.split("/")[0] for entry in DEFAULT_VIDEO_HOSTS}
            assert any(host == h or host.endswith("." + h) for h in allowed), src


def test_corpus_is_large_and_distinct() -> None:
    assert len(VECTORS) >= 100
    assert len(set(VECTORS)) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=range(len(VECTORS)))
def test_vector_is_neutralised(vector: str) -> None:
    assert_safe(sanitize_html(vector))


@pytest.mark.parametrize("vector", VECTORS, ids=range(len(VECTORS)))
def test_vector_is_neutralised_with_base_url(vector: str) -> None:
    assert_safe(sanitize_html(vector, base_url="https://www.voachinese.com/a/story.html"))


@pytest.mark.parametrize("vector", VECTORS, ids=range(len(VECTORS)))
def test_vector_inside_article_markup(vector: str) -> None:
    wrapped = f'<div><p>正文<a href="/a">链接</a></p>{vector}<p>结尾</p></div>'
    assert_safe(sanitize_html(wrapped, base_url="https://www.voachinese.com/"))


def test_sanitising_twice_changes_nothing_more() -> None:
    for vector in VECTORS:
        once = sanitize_html(vector)
        assert sanitize_html(once) == once, vector


def test_all_vectors_at_once() -> None:
    assert_safe(sanitize_html("".join(VECTORS)))
