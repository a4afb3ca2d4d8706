"""Line 2 and list lines: one Markdown link, escaped only where it must be, read back exactly.

What a git host shows is checked with markdown-it-py (tests/rendered.py), not with the
code under test."""

from __future__ import annotations

import os
import re
import string

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from newsmirror.archive.article import clean_link, normalise_title
from newsmirror.archive.mdlink import markdown_link, split_link
from tests.rendered import href_of, only_link

PROPERTY = settings(deadline=None, database=None, max_examples=int(os.environ.get("NEWSMIRROR_EXAMPLES", "400")),
                    suppress_health_check=[HealthCheck.too_slow])

# Characters that give Markdown its structure, mixed into arbitrary Unicode so that the
# generated titles and links hit them often.
MARKUP = st.sampled_from(list("[]()<>\\`!*_&;:#| \u3000") + ["](", "\\]", "&quot;", "&#93;", "&#92;", "<b>",
                                                              "<https://e.test>", "`]`", "javascript:"])
TEXT = st.lists(st.one_of(st.text(min_size=1, max_size=3), MARKUP), max_size=12).map("".join)
URLS = st.one_of(
    TEXT,
    st.builds(lambda path, tail: f"https://x.test/{path}{tail}", TEXT, st.sampled_from(["", ")", "(", "](a)", " "])),
)


# -- titles the old mirrors wrote stay byte for byte ---------------------------------------
@pytest.mark.parametrize("title", [
    "习近平会晤卢卡申科，双方呼吁俄乌停火并举行和谈",
    "[视频] 拜登  与习近平通话　两小时",
    "【快讯】美国 &quot;重返&quot; 亚洲 (更新)",
    "Why `ls -l` is slow: a < b && c > d",
    "C:\\Users and other paths",
    "50% off *today* _only_ ~~maybe~~ | pipes",
    "[a] [b] [[c]]",
])
def test_titles_that_render_right_unescaped_are_written_as_they_are(title):
    line = markdown_link(title, "https://www.voachinese.com/a/x-20230301/6985312.html")
    assert line == f"[{title}](https://www.voachinese.com/a/x-20230301/6985312.html)"
    assert split_link(line) == (title, "https://www.voachinese.com/a/x-20230301/6985312.html")


def test_links_that_render_right_unescaped_are_written_as_they_are():
    for link in ["https://x.test/a_(b)?q=1&r=2#frag", "https://x.test/%E4%B8%AD?a=[1]", "/articles/voa/2024/05/a-b.md"]:
        assert markdown_link("t", link) == f"[t]({link})"


# -- everything else renders as exactly one link to the original ----------------------------
HOSTILE_TITLES = [
    "a](https://evil.example/phish) [b",
    "a] [b](https://evil.example/phish",
    "trailing backslash \\",
    "unbalanced [ bracket",
    "x]: https://evil.example/def",
    "[link](https://evil.example) inside",
    "<a href=\"https://evil.example\">raw html</a>",
    "<https://evil.example> autolink",
    "![img](https://evil.example/pixel.gif)",
    "code `](https://evil.example)` and [ half",
    "`",
    "\\[escaped\\] already",
    "&#93;(https://evil.example)",
]
HOSTILE_LINKS = [
    "https://x.test/a)b",
    "https://x.test/a b",
    "https://x.test/a](javascript:alert(1)",
    "https://x.test/<a>",
    "https://x.test/a\\)b",
    "https://x.test/?a=1&amp;b=2",
    "https://x.test/" + "(" * 40,
    "",
]


@pytest.mark.parametrize("title", HOSTILE_TITLES)
@pytest.mark.parametrize("link", ["https://www.voachinese.com/a/1.html", *HOSTILE_LINKS])
def test_hostile_titles_and_links_render_as_one_link_and_read_back(title, link):
    line = markdown_link(title, link)
    shown = only_link(line)
    assert shown is not None, line
    assert shown.href == href_of(link), line
    if "`" not in title and "&" not in title:  # code spans and entities show as such
        assert shown.text == title, line
    assert split_link(line) == (title, link)


def test_the_phishing_title_is_escaped_minimally():
    line = markdown_link("a](https://evil.example/phish) [b", "https://www.voachinese.com/a/1.html")
    assert line == "[a\\](https://evil.example/phish) \\[b](https://www.voachinese.com/a/1.html)"
    assert "evil.example" not in only_link(line).href


def test_a_link_with_a_closing_parenthesis_or_space_goes_in_angle_brackets():
    assert markdown_link("t", "https://x.test/a)b") == "[t](<https://x.test/a)b>)"
    assert markdown_link("t", "https://x.test/a b") == "[t](<https://x.test/a b>)"
    assert markdown_link("t", "https://x.test/<a>") == "[t](<https://x.test/\\<a\\>>)"


def test_a_label_the_body_defines_cannot_hijack_the_heading():
    body = "[视频]: https://evil.example/def"
    context = f"\n------\n\n{body}\n"
    line = markdown_link("[视频] 标题", "https://x.test/1", context=context)
    shown = only_link(line + context)
    assert shown is not None and shown.href == "https://x.test/1" and shown.text == "[视频] 标题"
    # Without such a body the same title stays as it is.
    assert markdown_link("[视频] 标题", "https://x.test/1") == "[[视频] 标题](https://x.test/1)"


# -- properties over arbitrary Unicode ------------------------------------------------------
@PROPERTY
@given(title=TEXT, link=URLS)
@example(title="a](https://evil.example/phish) [b", link="https://x.test/a](javascript:alert(1)")
@example(title="\\", link="<")
def test_any_title_and_link_read_back_exactly(title, link):
    title, link = normalise_title(title), clean_link(link)
    line = markdown_link(title, link)
    assert "\n" not in line and "\r" not in line
    assert split_link(line) == (title, link)


@PROPERTY
@given(title=TEXT, link=URLS)
def test_any_title_and_link_render_as_exactly_one_link(title, link):
    title, link = normalise_title(title), clean_link(link)
    line = markdown_link(title, link)
    shown = only_link(line + "\n------\n")
    assert shown is not None, line
    assert shown.href == href_of(link), line
    assert "image" not in shown.kinds and "link_open" not in shown.kinds


PLAIN = st.text(alphabet=st.sampled_from(list("ab 中文[]()<>\\!:#|\u3000")), max_size=20)


@PROPERTY
@given(title=PLAIN)
def test_plain_titles_show_exactly_their_characters(title):
    title = normalise_title(title)
    shown = only_link(markdown_link(title, "https://x.test/1"))
    assert shown is not None and shown.text == title


@PROPERTY
@given(title=TEXT)
@example(title="[视频] 标题")
@example(title="a `]` b")
@example(title="<b>粗</b>")
@example(title="a &#92; b \\|")
def test_a_title_is_escaped_exactly_when_unescaped_it_would_not_be_one_link(title):
    title = normalise_title(title)
    raw = f"[{title}](https://x.test/1)"
    shown = only_link(raw + "\n------\n")
    renders_right = (
        shown is not None
        and shown.href == "https://x.test/1"
        and "image" not in shown.kinds
        # A backslash before punctuation is an escape: the reader would not see it.
        and not re.search(f"\\\\[{re.escape(string.punctuation)}]", title)
        and "&#0092;" not in title  # how line 2 writes a backslash before '|'
    )
    assert (markdown_link(title, "https://x.test/1") == raw) == renders_right, raw


# -- old lines 2 with a backslash of the title's own (written raw, unescaped) ----------------
@pytest.mark.parametrize("title", [
    '他说\\"不\\"',
    "C:\\\\Users\\\\新闻",
    "a\\|b",
    "\\[视频\\] 标题",
    "ends with \\*",
    "&#0092; as a feed wrote it",
])
def test_an_old_raw_line_reads_back_with_the_title_as_written(title):
    link = "https://www.voachinese.com/a/1.html"
    line = f"[{title}]({link})"  # as the older mirrors wrote every title
    assert split_link(line) == (title, link)


def test_what_newsmirror_writes_for_such_a_title_reads_back_too():
    title = '他说\\"不\\"'
    line = markdown_link(title, "https://x.test/1")
    assert line != f"[{title}](https://x.test/1)"  # it shows the backslashes
    assert split_link(line) == (title, "https://x.test/1")


@PROPERTY
@given(title=TEXT)
@example(title='他说\\"不\\"')
@example(title="\\\\\\[x")
def test_a_raw_line_reads_back_as_written_unless_newsmirror_writes_it_for_another_title(title):
    title = normalise_title(title)
    line = f"[{title}](https://x.test/1)"
    found = split_link(line)
    assume(found is not None and found[1] == "https://x.test/1")
    text = found[0]
    assert text == title or markdown_link(text, "https://x.test/1") == line


# -- the shortcut for plain targets says what the parser says ----------------------------
def _parser_reads_as_itself(target: str) -> bool:
    from markdown_it.helpers import parseLinkDestination

    found = parseLinkDestination(target + ")", 0, len(target) + 1)
    return found.ok and found.pos == len(target) and found.str == target


PLAIN_TARGETS = st.text(alphabet=string.ascii_letters + string.digits + "-._~:/?#@!$&'*+,;=%[]"
                        + "()\\ \t<>\x7f\u3000\u00e9\"`^{|}疫情香港-\U0001f600\u2028\x85", min_size=1, max_size=30)


@PROPERTY
@given(target=st.one_of(PLAIN_TARGETS, URLS))
@example(target="https://x.test/?a=1&amp;b=2")
@example(target="https://x.test/?a=1&b=2;c")
@example(target="https://x.test/&#91;x")
def test_a_plain_target_is_taken_as_it_is_exactly_when_the_parser_reads_it_so(target):
    from newsmirror.archive.mdlink import _PLAIN_TARGET, _raw_target_ok

    if not target or "](" in target or "<" in target or ">" in target:
        return  # decided before the shortcut
    if _PLAIN_TARGET.fullmatch(target) and not ("&" in target and ";" in target):
        assert _parser_reads_as_itself(target), target
    assert _raw_target_ok(target) == _parser_reads_as_itself(target), target


def test_the_links_of_the_feed_corpus_are_judged_as_the_parser_judges_them(testdata_dir) -> None:
    corpus = testdata_dir / "feedparser-corpus"
    links = {m.group(1) for path in corpus.rglob("*.xml")
             for m in re.finditer(r'(?:href="|<link>)([^"<\s]+)', path.read_text("utf-8", "replace"))}
    assert len(links) > 100
    from newsmirror.archive.mdlink import _raw_target_ok

    for link in sorted(links):
        if "](" not in link and "<" not in link and ">" not in link:
            assert _raw_target_ok(link) == _parser_reads_as_itself(link), link
