"""The body steps a source may ask for (content/feedbody.py), one by one."""

from __future__ import annotations

from newsmirror.content.feedbody import (
    fill_placeholders,
    strip_boilerplate,
    text_paragraphs,
)


def test_plain_text_lines_become_paragraphs_whatever_the_line_break():
    assert text_paragraphs("一\r\n\r\n二\n三\r四") == "<p>一</p><p>二</p><p>三</p><p>四</p>"
    assert text_paragraphs("甲&#13;&#10;乙 &amp; 丙") == "<p>甲</p><p>乙 &amp; 丙</p>"


def test_a_body_with_any_markup_or_one_line_is_left_alone():
    for body in ("<p>一</p>\n<p>二</p>", "一<br>\n二", "一\n<!-- note -->\n二", "只有一行",
                 "  \r\n  ", ""):
        assert text_paragraphs(body) == body


def test_placeholders_are_filled_in_image_addresses_only():
    values = (("formatId", "906"),)
    html = ('<p>${formatId}</p><img alt="${formatId}" src="https://static.dw.com/image/1_$%7BformatId%7D.jpg">'
            "<picture><source srcset='https://static.dw.com/image/1_${formatId}.jpg 2x'></picture>"
            '<a href="https://www.dw.com/${formatId}">x</a>')
    assert fill_placeholders(html, values) == (
        '<p>${formatId}</p><img alt="${formatId}" src="https://static.dw.com/image/1_906.jpg">'
        "<picture><source srcset='https://static.dw.com/image/1_906.jpg 2x'></picture>"
        '<a href="https://www.dw.com/${formatId}">x</a>')
    assert fill_placeholders('<img src="a_${other}.jpg">', values) == '<img src="a_${other}.jpg">'


def test_boilerplate_goes_and_a_body_without_any_stays_byte_for_byte():
    body = ('<p>正文。</p><p> </p><p>&nbsp;<br></p><div class="share"><a href="#">微博</a></div>'
            "<p><strong>分享 ：</strong></p><p><img src='https://img.test/a.jpg'></p>")
    assert strip_boilerplate(body, remove=(".share",), texts=(r"分享\s*[:：]?",),
                             empty_paragraphs=True) == (
        '<p>正文。</p><p><img src="https://img.test/a.jpg"></p>')
    kept = "<p>正文 <br />第二行。</p>\n<p>分享经济正在改变城市。</p>"
    assert strip_boilerplate(kept, remove=(".share",), texts=(r"分享\s*[:：]?",),
                             empty_paragraphs=True) == kept
