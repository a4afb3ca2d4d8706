from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsmirror.archive.article import (
    ArticleFormatError,
    clean_link,
    js_trim,
    normalise_body,
    normalise_title,
    parse_article,
    parse_heading,
    render_article,
)
from newsmirror.models import Article


def test_example_round_trips_byte_for_byte(format_dir: Path):
    data = (format_dir / "example-article.md").read_bytes()
    article = parse_article(data)
    assert article.published_ms == 1677695943000
    assert article.title == "习近平会晤卢卡申科，双方呼吁俄乌停火并举行和谈"
    assert article.link.startswith("https://www.voachinese.com/a/china-belarus")
    assert render_article(article) == data


def test_js_trim_differs_from_python_strip():
    # U+FEFF is JavaScript white space; U+001C and U+0085 are not.
    assert js_trim("\ufeff a \u3000") == "a"
    assert js_trim("\x1ca\x85") == "\x1ca\x85"
    assert "\x1ca\x85".strip() == "a"


def test_body_lines_are_trimmed_and_joined():
    html = "\n  <p>一</p>  \r\n\t<p>二 三</p>\n\u3000<img src='x'>\n"
    assert normalise_body(html) == "<p>一</p><p>二 三</p><img src='x'>"


def test_title_cannot_break_the_layout():
    assert normalise_title("  标题\n第二行\t ") == "标题 第二行"
    data = render_article(Article(0, "a\nb", "https://x.test/", "<p>\nbody\n</p>"))
    assert data.decode().split("\n")[1] == "[a b](https://x.test/)"
    assert data.endswith(b"<p>body</p>\n")


def test_title_with_brackets_reads_back():
    article = Article(5, "[快讯] 标题 (更新)", "https://x.test/a_(b)", "<p>x</p>")
    assert parse_article(render_article(article)) == article


@pytest.mark.parametrize("bad", [b"", b"hello", b"<!--x-->\n[a](b)\n------\n\nbody\n",
                                 b"<!--1-->\nno link\n------\n\nbody\n", b"\xff\xfe"])
def test_malformed_files_are_reported(bad):
    with pytest.raises(ArticleFormatError) as whole:
        parse_article(bad, name="f.md")
    with pytest.raises(ArticleFormatError) as heading:
        parse_heading(bad, name="f.md")
    assert str(heading.value) == str(whole.value)


def heading_of(article: Article) -> tuple[int, str, str]:
    return article.published_ms, article.title, article.link


def test_the_heading_alone_reads_as_the_whole_file_does(format_dir: Path):
    """parse_heading, the catalog's fast path, against parse_article: the shared example
    and bodies that do and do not bear on line 2 (tests/cli/test_rebuild.py compares the
    catalogs both make of a real mirror run's files)."""
    files = [(format_dir / "example-article.md").read_bytes()]
    for body in ("[视频]: https://evil.example/def", "[x] <p>y</p>", "<p>[x]</p>", ""):
        files.append(render_article(Article(5, "[视频] 标题\\ [x]", "https://x.test/(1)", body)))
    bad_body = render_article(Article(5, "t", "https://x.test/", "<p>ok</p>"))[:-3] + b"\xff\n"
    for data in files:
        assert parse_heading(data) == heading_of(parse_article(data))
    with pytest.raises(ArticleFormatError, match="not UTF-8"):
        parse_heading(bad_body)  # the body is checked too, though not kept


# -- titles as the feed gave them (issue 17) -------------------------------------------------
def test_title_keeps_double_spaces_ideographic_spaces_and_entities():
    title = "拜登  会见习近平　讨论 &quot;台湾&quot;"
    assert normalise_title(f"\u3000 {title}\ufeff ") == title
    data = render_article(Article(1677695943000, title, "https://x.test/a", "<p>x</p>"))
    assert data.split(b"\n")[1] == f"[{title}](https://x.test/a)".encode()


def test_only_line_breaks_fold_and_a_run_with_one_becomes_one_space():
    assert normalise_title("上半句\r\n   下半句") == "上半句 下半句"
    assert normalise_title("a\u2028b\u0085c\x0bd") == "a b c d"
    assert normalise_title("a \t b") == "a \t b"


# -- control characters (issue 12) ------------------------------------------------------------
def test_control_characters_leave_titles_and_bodies():
    article = Article(5, "标题\x00\x1b[31m红\x7f\x9b", "https://x.test/\x00a", "<p>\x00正\x01文\x9f</p>\t<p>b</p>")
    data = render_article(article)
    assert b"\x00" not in data and b"\x1b" not in data and "\x9b".encode() not in data
    assert parse_article(data) == Article(5, "标题[31m红", "https://x.test/a", "<p>正文</p>\t<p>b</p>")


ARTICLES = st.builds(
    Article,
    published_ms=st.integers(min_value=-(2**53), max_value=2**53),
    title=st.text(max_size=60),
    link=st.text(max_size=60),
    body=st.text(max_size=200),
)


@settings(deadline=None, database=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(ARTICLES)
def test_parse_article_reads_back_what_render_article_wrote(article):
    data = render_article(article)
    back = parse_article(data)
    assert parse_heading(data) == heading_of(back)
    assert back == Article(article.published_ms, normalise_title(article.title),
                           clean_link(article.link), normalise_body(article.body))
    assert render_article(back) == data
    assert b"\x00" not in data


def test_a_title_escaped_for_the_labels_its_body_defines_reads_back():
    # The body defines the label "[视频]", so line 2 escapes the brackets; reading it back
    # must judge the line in the same context to undo exactly that.
    article = Article(5, "[视频] 标题", "https://x.test/1", "[视频]: https://evil.example/def")
    data = render_article(article)
    assert data.split(b"\n")[1] == "[\\[视频\\] 标题](https://x.test/1)".encode()
    assert parse_article(data) == article


def test_an_old_line_2_with_a_backslash_of_the_title_own_reads_back_as_written():
    data = '<!--5-->\n[他说\\"不\\"](https://x.test/1)\n------\n\n<p>正文</p>\n'.encode()
    assert parse_article(data).title == '他说\\"不\\"'
