"""decode_document: the order of evidence and the Chinese encodings."""

from __future__ import annotations

import codecs
import re

import pytest

from newsmirror.content.chinese import convert_text
from newsmirror.parse.encoding import (
    chinese_evidence,
    decode_document,
    normalize_encoding,
    replace_xml_encoding,
)

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


# -- lying labels: a clean, plainly Chinese reading beats a label that gives nonsense ----
SIMPLIFIED_ITEMS = [  # as GB18030, every one of these also decodes as Big5, to nonsense
    "美国之音中文网：习近平会见拜登",
    "外交部：中方坚决反对",
    "国务院常务会议部署进一步稳定就业的措施",
    "这是我们今年看到的最大的一场雪",
    "他说中国经济发展的基本面没有改变",
]
TRADITIONAL_ITEMS = [
    "臺灣中央選舉委員會公布總統大選結果",
    "美國之音：這是今年以來最大的一場抗議",
    "他說中國經濟發展的基本面沒有改變",
    "香港立法會今日通過有關法案",
    "國務院常務會議部署進一步穩定就業的措施",
]


def feed(titles: list[str], declared: str | None = None) -> str:
    decl = f'<?xml version="1.0" encoding="{declared}"?>\n' if declared else ""
    items = "".join(f"<item><title>{title}</title></item>" for title in titles)
    return f'{decl}<rss version="2.0"><channel><title>News</title>{items}</channel></rss>'


def test_big5_label_on_a_gb18030_body_reads_as_gb18030():
    body = feed(SIMPLIFIED_ITEMS).encode("gb18030")
    assert body.decode("big5hkscs")  # the lie decodes without a single error: only nonsense
    for content_type, declared in (("text/xml; charset=big5", None), (None, "big5"),
                                   ("text/xml; charset=big5", "big5")):
        body = feed(SIMPLIFIED_ITEMS, declared).encode("gb18030")
        text, used = decode_document(body, content_type)
        assert used == "gb18030"
        assert all(title in text for title in SIMPLIFIED_ITEMS)


def test_utf8_label_on_a_big5_body_reads_as_big5():
    for content_type, declared in (("text/xml; charset=utf-8", None), (None, "utf-8"),
                                   ("application/rss+xml; charset=UTF-8", "utf-8")):
        body = feed(TRADITIONAL_ITEMS, declared).encode("big5")
        text, used = decode_document(body, content_type)
        assert used == "big5hkscs"
        assert all(title in text for title in TRADITIONAL_ITEMS)


def test_utf8_label_on_a_gb18030_body_is_not_read_as_korean():
    body = feed(SIMPLIFIED_ITEMS[:2]).encode("gb18030")
    text, used = decode_document(body, "text/xml; charset=utf-8")
    assert (used, all(title in text for title in SIMPLIFIED_ITEMS[:2])) == ("gb18030", True)


def test_latin1_label_on_chinese_bodies():
    for titles, codec, expected in ((SIMPLIFIED_ITEMS, "gb18030", "gb18030"),
                                    (TRADITIONAL_ITEMS, "big5", "big5hkscs")):
        text, used = decode_document(feed(titles).encode(codec), "text/html; charset=ISO-8859-1")
        assert used == expected and all(title in text for title in titles)


def test_a_label_that_needs_replacement_characters_gives_way():
    # Declared Big5, body GB18030 with characters Big5 has no bytes for: the label's
    # reading needs replacement characters, GB18030's is clean Chinese.
    titles = SIMPLIFIED_ITEMS + ["中国人民银行宣布下调存款准备金率", "人民日报发表评论员文章"]
    body = feed(titles).encode("gb18030")
    assert _needs_replacement(body, "big5hkscs")
    text, used = decode_document(body, "text/xml; charset=big5")
    assert used == "gb18030" and all(title in text for title in titles)


def _needs_replacement(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except UnicodeDecodeError:
        return True
    return False


def test_too_little_evidence_keeps_the_label():
    # Two characters are no evidence: the declaration stands, right or wrong.
    body = feed(["大家"]).encode("gb18030")
    assert decode_document(body, "text/xml; charset=big5")[1] == "big5hkscs"


def test_chinese_evidence_separates_text_from_nonsense():
    text = feed(SIMPLIFIED_ITEMS)
    common, share = chinese_evidence(text)
    assert common >= 10 and share > 0.2
    nonsense = text.encode("gb18030").decode("big5hkscs")
    assert chinese_evidence(nonsense)[1] < 0.05
    assert chinese_evidence("plain ASCII only") == (0, 0.0)


def _pages(testdata_dir):
    pages = sorted((testdata_dir / "chinese-news-pages" / "tests").glob("*/*.html"))
    assert len(pages) >= 50
    for page in pages:
        html = page.read_text("utf-8", errors="replace")
        # The page's own <meta charset="utf-8"> would be one more (true) label: drop it,
        # so that only the header speaks.
        html = re.sub(r"(?i)<meta[^>]*charset[^>]*>", "", html)
        yield page, html


def _paragraphs(html: str) -> list[str]:
    return [p for p in re.findall(r"<p[^>]*>([^<]{8,300})</p>", html)][:8]


@pytest.mark.parametrize("lie", ["big5", "utf-8", "iso-8859-1"])
def test_lying_labels_on_real_simplified_pages(testdata_dir, lie):
    for page, html in _pages(testdata_dir):
        body = html.encode("gb18030", errors="ignore")
        expected = body.decode("gb18030")
        text, used = decode_document(body, f"text/html; charset={lie}")
        assert (used, text == expected) == ("gb18030", True), page


@pytest.mark.parametrize("lie", ["gb2312", "utf-8", "iso-8859-1"])
def test_lying_labels_on_real_traditional_pages(testdata_dir, lie):
    for page, html in _pages(testdata_dir):
        body = convert_text(html, "s2tw").encode("big5hkscs", errors="ignore")
        expected = body.decode("big5hkscs")
        text, used = decode_document(body, f"text/html; charset={lie}")
        assert (used, text == expected) == ("big5hkscs", True), page


def test_honest_labels_are_never_overridden(testdata_dir):
    # Whole pages and single paragraphs (little evidence either way), in both scripts:
    # whatever the label says when it is true is what is used.
    checked = 0
    for page, html in _pages(testdata_dir):
        for sample in [html] + _paragraphs(html):
            for text, label, codec in ((sample, "gb2312", "gb18030"),
                                       (convert_text(sample, "s2tw"), "big5", "big5hkscs")):
                body = text.encode(codec, errors="ignore")
                if _needs_replacement(body, "utf-8") is False:
                    continue  # valid UTF-8 (ASCII only): the label is not consulted
                decoded, used = decode_document(body, f"text/html; charset={label}")
                assert (used, decoded) == (codec, body.decode(codec)), (page, sample[:40])
                checked += 1
    assert checked >= 300


@pytest.mark.parametrize(("label", "codec", "text"), [
    ("euc-kr", "euc_kr", "대한민국 정부는 오늘 새로운 경제 정책을 발표했습니다"),
    ("shift_jis", "shift_jis", "東京都は今日、新しい経済政策を発表しました。日本の中国人"),
    ("euc-jp", "euc_jp", "日本政府は中国との対話を続ける方針を示した"),
    ("windows-1251", "cp1251", "Правительство объявило о новой экономической политике"),
    ("iso-8859-1", "cp1252", "Le gouvernement a annoncé une nouvelle politique économique"),
])
def test_honest_non_chinese_labels_stand(label, codec, text):
    body = feed([text] * 3).encode(codec)
    decoded, used = decode_document(body, f"text/xml; charset={label}")
    assert used == codec and text in decoded
