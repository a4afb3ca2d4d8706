"""decode_document: the order of evidence and the Chinese encodings."""

from __future__ import annotations

import codecs

import pytest

from newsmirror.parse.encoding import decode_document, normalize_encoding, replace_xml_encoding

TITLE = "美国之音中文网：习近平会见拜登"
TRAD = "美國之音中文網：臺灣選舉結果出爐"


def rss(title: str, declared: str | None = None) -> str:
    decl = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else ""
    return f"{decl}<rss version=\"2.0\"><channel><title>{title}</title></channel></rss>"


def test_utf8_served_with_a_wrong_charset_header_is_still_utf8():
    body = rss(TITLE, "utf-8").encode("utf-8")
    for header in ("text/xml; charset=iso-8859-1", "application/rss+xml; charset=gb2312", "text/xml; charset=big5"):
        text, used = decode_document(body, header)
        assert used == "utf-8"
        assert TITLE in text


def test_utf8_declared_as_gbk_in_the_xml_declaration_is_still_utf8():
    text, used = decode_document(rss(TITLE, "gbk").encode("utf-8"))
    assert (used, TITLE in text) == ("utf-8", True)


@pytest.mark.parametrize("label", ["gb2312", "GB2312", "gbk", "x-gbk", "cp936", "gb_2312-80", "'gb2312'", '"gbk"'])
def test_gb_family_from_the_http_header_decodes_as_gb18030(label):
    body = rss(TITLE).encode("gb2312")
    text, used = decode_document(body, f"application/rss+xml; charset={label}")
    assert used == "gb18030"
    assert TITLE in text


@pytest.mark.parametrize("label", ["gb2312", "gbk", "GB18030"])
def test_gb_family_from_the_xml_declaration(label):
    # GBK-only characters (鎔, 喆) and a GB18030-only one (€ is 0x80 in GBK/cp936 but
    # not in GB2312) all decode, because every GB label reads as GB18030.
    title = TITLE + "朱鎔基 陶喆"
    text, used = decode_document(rss(title, label).encode("gbk"))
    assert used == "gb18030"
    assert title in text


def test_big5_from_header_and_declaration():
    body = rss(TRAD, "big5").encode("big5")
    for content_type in (None, "text/xml; charset=big5", "text/xml; charset=x-x-big5"):
        text, used = decode_document(body, content_type)
        assert used == "big5hkscs"
        assert TRAD in text


def test_big5_hkscs_characters_decode():
    title = TRAD + "㗎嘅"  # Cantonese characters only in HKSCS
    text, used = decode_document(rss(title, "big5").encode("big5hkscs"))
    assert title in text and used == "big5hkscs"


def test_meta_charset_in_an_html_page():
    page = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>{TITLE}</title></head></html>'
    text, used = decode_document(page.encode("gb2312"), "text/html")
    assert (used, TITLE in text) == ("gb18030", True)
    page5 = f'<html><head><meta charset="big5"><title>{TRAD}</title></head></html>'
    assert TRAD in decode_document(page5.encode("big5"))[0]


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    ],
)
def test_a_bom_wins_over_header_and_declaration(bom, codec, name):
    body = bom + rss(TITLE, "gb2312").encode(codec)
    text, used = decode_document(body, "text/xml; charset=big5")
    assert used == name
    assert text.startswith("<?xml") and TITLE in text  # the BOM itself is dropped


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_bomless_utf16_and_utf32_are_recognised_by_their_first_characters(codec):
    text, used = decode_document(rss(TITLE, "utf-16").encode(codec))
    assert (used, TITLE in text) == (codec, True)


@pytest.mark.parametrize("label", ["bogus", "x-unknown-charset", "base64", "rot13", "utf-7", "idna", "", "'", "none"])
def test_bogus_encoding_names_fall_back_gracefully(label):
    body = rss(TITLE, label or None).encode("gb18030")
    text, used = decode_document(body, f"text/xml; charset={label}")
    assert TITLE in text  # found by detection
    assert normalize_encoding(label) is None


def test_detection_without_any_declaration():
    # A realistic amount of text: detectors need a few dozen characters.
    title = "中国人民银行宣布下调存款准备金率，以支持实体经济发展，市场普遍预期将进一步宽松。"
    body = "".join(f"<item><title>{title}{i}</title></item>" for i in range(3))
    gb_text, gb_used = decode_document(f"<rss><channel>{body}</channel></rss>".encode("gb2312"))
    assert title in gb_text and gb_used == "gb18030"
    trad = "臺灣中央選舉委員會公布總統大選結果，投票率創下歷史新高，各黨派陸續發表談話。"
    body5 = "".join(f"<item><title>{trad}{i}</title></item>" for i in range(3))
    b5_text, b5_used = decode_document(f"<rss><channel>{body5}</channel></rss>".encode("big5"))
    assert trad in b5_text and b5_used in ("big5hkscs", "cp950")


def test_header_beats_the_xml_declaration():
    body = rss(TITLE, "big5").encode("gb2312")
    text, used = decode_document(body, "text/xml; charset=gbk")
    assert (used, TITLE in text) == ("gb18030", True)


def test_a_wrong_declaration_is_skipped_when_it_cannot_decode():
    body = rss(TITLE, "shift_jis").encode("gb2312")
    text, used = decode_document(body, "text/xml; charset=utf-8")
    assert TITLE in text and used == "gb18030"


@pytest.mark.parametrize(
    "body",
    [b"", b"\xff", b"\x00\x00\x00", b"\xef\xbb\xbf\xff\xfe", bytes(range(256)) * 4, b"<rss>\x81\xfe\xff</rss>"],
)
def test_decoding_never_raises(body):
    for content_type in (None, "text/xml; charset=gb2312", "text/xml; charset=bogus", "text/xml; charset=utf-16"):
        text, used = decode_document(body, content_type)
        assert isinstance(text, str) and codecs.lookup(used)


def test_latin1_labels_read_as_windows_1252():
    text, used = decode_document(b'<?xml version="1.0" encoding="iso-8859-1"?><a>don\x92t \xe9</a>')
    assert (used, "don\u2019t \xe9" in text) == ("cp1252", True)


def test_replace_xml_encoding():
    doc = "<?xml version='1.0' encoding='gb2312' standalone='yes'?>\n<rss/>"
    assert replace_xml_encoding(doc) == "<?xml version='1.0' encoding=\"utf-8\" standalone='yes'?>\n<rss/>"
    assert replace_xml_encoding(doc, None) == "<?xml version='1.0' standalone='yes'?>\n<rss/>"
    assert replace_xml_encoding("<rss encoding='x'/>") == "<rss encoding='x'/>"
    assert replace_xml_encoding('<?xml version="1.0"?><rss/>') == '<?xml version="1.0"?><rss/>'
