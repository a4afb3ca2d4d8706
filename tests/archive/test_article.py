from pathlib import Path

import pytest

from newsmirror.archive.article import (
    ArticleFormatError, js_trim, normalise_body, normalise_title, parse_article, render_article,
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
    with pytest.raises(ArticleFormatError):
        parse_article(bad, name="f.md")
