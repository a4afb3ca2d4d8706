"""Simplified/Traditional conversion of text and of HTML text nodes only."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.archive.article import parse_article
from newsmirror.content import chinese
from newsmirror.content.chinese import check_config, convert_html, convert_text


@pytest.mark.parametrize(
    ("config", "text", "expected"),
    [
        ("t2s", "中國國家主席習近平", "中国国家主席习近平"),
        ("s2t", "中国国家主席习近平", "中國國家主席習近平"),
        ("s2twp", "鼠标和软件", "滑鼠和軟體"),
        ("tw2sp", "滑鼠和軟體", "鼠标和软件"),
        ("s2hk", "香港特别行政区", "香港特別行政區"),
        ("hk2s", "香港特別行政區", "香港特别行政区"),
        ("s2tw", "台湾", "臺灣"),
    ],
)
def test_convert_text(config: str, text: str, expected: str) -> None:
    assert convert_text(text, config) == expected


def test_ascii_and_empty_text_are_unchanged() -> None:
    assert convert_text("", "t2s") == ""
    assert convert_text("Alexander Lukashenko 2023", "s2t") == "Alexander Lukashenko 2023"


@pytest.mark.parametrize("config", ["S2T", "s2t.json", " t2s "])
def test_config_names_are_normalised(config: str) -> None:
    assert check_config(config) in chinese.CONFIGS


def test_unknown_config_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown OpenCC config 'x'; choose one of .*s2t.*t2s"):
        convert_text("中文", "x")
    with pytest.raises(ValueError, match="unknown OpenCC config"):
        convert_html("<p>中文</p>", "zh-hans")


def test_one_converter_per_config_is_cached() -> None:
    chinese._converter.cache_clear()
    convert_text("国", "s2t")
    convert_html("<p>国</p>", "S2T.json")
    convert_text("國", "t2s")
    assert chinese._converter.cache_info().currsize == 2


def test_only_text_nodes_change() -> None:
    html = ('<p class="软件" title="软件"><a href="https://x.com/软件?q=软件">软件</a>'
            '<img src="/图片/软件.jpg" alt="软件"></p>')
    assert convert_html(html, "s2twp") == (
        '<p class="软件" title="软件"><a href="https://x.com/软件?q=软件">軟體</a>'
        '<img src="/图片/软件.jpg" alt="软件"></p>'
    )


def test_script_style_comments_and_entities_are_untouched() -> None:
    html = ('<style>.国{content:"国"}</style><script>var 国 = "国";</script><!-- 国 -->'
            "<p>国&amp;国&#22269;&#x56fd;&nbsp;国</p>")
    assert convert_html(html, "s2t") == (
        '<style>.国{content:"国"}</style><script>var 国 = "国";</script><!-- 国 -->'
        "<p>國&amp;國&#22269;&#x56fd;&nbsp;國</p>"
    )


def test_markup_bytes_are_kept_verbatim() -> None:
    html = "<DIV  class=x ><P>国<BR/>家</P ><img src='a.jpg'   /></DIV>\n<p>国 < 家 &lt;</p>"
    assert convert_html(html, "s2t") == (
        "<DIV  class=x ><P>國<BR/>家</P ><img src='a.jpg'   /></DIV>\n<p>國 < 家 &lt;</p>"
    )


def test_title_and_textarea_text_is_converted() -> None:
    assert convert_html("<title>国家</title><textarea>国</textarea>", "s2t") == (
        "<title>國家</title><textarea>國</textarea>"
    )


def test_round_trip_on_example_article(format_dir: Path) -> None:
    body = parse_article((format_dir / "example-article.md").read_bytes()).body
    traditional = convert_html(body, "s2t")
    assert traditional != body
    assert "中國" in traditional
    # Markup untouched: the weserv image addresses and the caption style survive as is.
    assert traditional.count('src="https://images.weserv.nl?url=gdb.voanews.com/') == 2
    assert traditional.count('<small style="color: #999;">') == 2
    assert len(traditional) == len(body)  # s2t maps character for character here
    assert convert_html(traditional, "t2s") == body
