"""content/text.py: the one reading of HTML as text (extraction, watch and adoption use it)."""

from __future__ import annotations

from newsmirror.content.text import html_text, page_text, squashed


def test_html_text_one_line_per_block():
    assert html_text("<p>甲</p><p> 乙 <br>丙</p><ul><li>丁</li></ul>") == "甲\n乙\n丙\n丁"


def test_html_text_leaves_out_what_is_not_read():
    html = "<p>前<script>var x = 1;</script>后</p><nav>首页</nav><style>p{}</style><p>尾</p>"
    assert html_text(html) == "前后\n尾"


def test_html_text_of_nothing_and_of_broken_markup():
    assert html_text("") == ""
    assert html_text("   ") == ""
    assert html_text("<p>未闭合<b>粗") == "未闭合粗"
    assert html_text("<p>a<![if x]>b<![endif]>c</p>") == "abc"


def test_page_text_ignores_layout_only():
    assert page_text("<p>台湾 会晤</p>\n<p>\u3000第二段</p>") == "台湾会晤第二段"
    assert page_text("<div><p>台湾会晤</p><p>第二段</p></div>") == page_text("<p>台湾会晤第二段</p>")
    assert page_text("<p>台湾会晤</p>") != page_text("<p>台湾会谈</p>")
    assert squashed(" a\tb\nc\u3000d ") == "abcd"
