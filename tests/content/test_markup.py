"""The lossless tokeniser the image and conversion stages edit bodies with."""

from __future__ import annotations

import pytest

from newsmirror.content.markup import (
    Edit,
    Tag,
    Text,
    apply_edits,
    set_attr,
    srcset_urls,
    tokenize,
    unescape_attr,
)


def _kinds(html: str) -> list[tuple[str, str]]:
    return [(type(token).__name__, html[token.start : token.end]) for token in tokenize(html)]


@pytest.mark.parametrize(
    "html",
    [
        "",
        "plain",
        "<p>a</p>",
        "<!-- c --><!--><!---><!-- x --!>t<!doctype html><?pi?></ >",
        "<script>if (a < b) { x = '</p>'; }</script>",
        "a < b <3 </ x> <",
        '<img src="x" alt=\'y\' hidden data-x=z/>',
        "<p><img src=\"unterminated",
    ],
)
def test_tokens_cover_the_input_exactly(html: str) -> None:
    tokens = list(tokenize(html))
    assert "".join(html[t.start : t.end] for t in tokens) == html
    for before, after in zip(tokens, tokens[1:]):
        assert before.end == after.start


def test_comments_and_raw_text_are_not_markup() -> None:
    html = '<!-- <img src=a> --><script><img src=b></script><style>p{}</style><p>'
    assert _kinds(html) == [
        ("Other", "<!-- <img src=a> -->"),
        ("Tag", "<script>"),
        ("Text", "<img src=b>"),
        ("Tag", "</script>"),
        ("Tag", "<style>"),
        ("Text", "p{}"),
        ("Tag", "</style>"),
        ("Tag", "<p>"),
    ]
    raw = [t for t in tokenize(html) if isinstance(t, Text)]
    assert all(t.raw for t in raw)


def test_attributes() -> None:
    html = "<IMG Src = \"a&amp;b\" alt='x \"y\"' hidden width=10 src=dup =odd>"
    (tag,) = tokenize(html)
    assert isinstance(tag, Tag) and tag.name == "img"
    assert [(a.name, a.value, a.quote) for a in tag.attrs] == [
        ("src", "a&b", '"'),
        ("alt", 'x "y"', "'"),
        ("hidden", None, ""),
        ("width", "10", ""),
        ("=odd", None, ""),
    ]
    src = tag.attr("src")
    assert html[src.value_start : src.end] == '"a&amp;b"'
    assert tag.attrs_end == len(html) - 1


def test_unterminated_tag_is_other() -> None:
    assert _kinds('<p>x</p><img src="a"') == [("Tag", "<p>"), ("Text", "x"), ("Tag", "</p>"), ("Other", '<img src="a"')]


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("a&amp;b", "a&b"),
        ("?a=1&copy=2", "?a=1&copy=2"),
        ("&copy 2023", "\u00a9 2023"),
        ("&copyx", "&copyx"),
        ("&#x41;&#66;&#0;", "AB\ufffd"),
        ("&#128;", "\u20ac"),
        ("&unknown;", "&unknown;"),
        ("&notin;&notit;", "\u2209&notit;"),
    ],
)
def test_unescape_attr_follows_the_attribute_rules(raw: str, value: str) -> None:
    assert unescape_attr(raw) == value


def test_set_attr_replaces_or_appends() -> None:
    html = "<img src='a' hidden>"
    (tag,) = tokenize(html)
    assert apply_edits(html, [set_attr(tag, "src", "b&c")]) == "<img src='b&amp;c' hidden>"
    assert apply_edits(html, [set_attr(tag, "hidden", "x")]) == "<img src='a' hidden=\"x\">"
    assert apply_edits(html, [set_attr(tag, "alt", "'\"")]) == "<img src='a' hidden alt=\"'&quot;\">"


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(ValueError):
        apply_edits("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")])


@pytest.mark.parametrize(
    ("value", "urls"),
    [
        ("a.jpg", ["a.jpg"]),
        ("a.jpg 1x, b.jpg 2x", ["a.jpg", "b.jpg"]),
        ("a.jpg 1x,b.jpg 2x", ["a.jpg", "b.jpg"]),
        ("https://x/a,b.jpg 100w, c.jpg 200w", ["https://x/a,b.jpg", "c.jpg"]),
        ("a.jpg, b.jpg", ["a.jpg", "b.jpg"]),
        ("  , a.jpg (x, y) 1x , b.jpg", ["a.jpg", "b.jpg"]),
        ("", []),
    ],
)
def test_srcset_urls(value: str, urls: list[str]) -> None:
    assert [value[s:e] for s, e in srcset_urls(value)] == urls
