import re

import pytest

from newsmirror.archive.identity import assign_keys, key_hash, normalise_link
from newsmirror.archive.legacy import locate
from newsmirror.archive.paths import article_path, key_from_path, safe_title, windows_reserved
from newsmirror.models import FeedItem


def item(title="t", link=None, guid=None, content="c", date=None):
    return FeedItem(title=title, link=link, guid=guid, content_html=content,
                    has_full_content=True, published_ms=date)


def test_links_are_normalised_like_a_browser():
    assert normalise_link("HTTPS://WWW.Example.COM:443/a b/中文?q=1#f") == \
        "https://www.example.com/a%20b/%E4%B8%AD%E6%96%87?q=1#f"
    assert normalise_link("http://Example.com") == "http://example.com/"
    assert normalise_link("/rel", "https://news.test/feed.xml") == "https://news.test/rel"
    assert normalise_link("javascript:alert(1)") is None
    assert normalise_link("not a url") is None
    assert normalise_link("") is None


def test_identity_prefers_guid_then_link_then_content():
    keys = assign_keys([item(guid="g1", link="https://a.test/1"), item(link="https://A.test/2"),
                        item(title="x", content="y")])
    assert keys[0] == "guid:g1"
    assert keys[1] == "link:https://a.test/2"
    assert keys[2].startswith("hash:")


def test_duplicate_guids_in_one_feed_are_told_apart():
    items = [item(guid="same", link="https://a.test/1"), item(guid="same", link="https://a.test/2"),
             item(guid="same", link="https://a.test/2", title="other")]
    keys = assign_keys(items)
    assert keys[0] != keys[1] and None not in keys[:2]
    assert keys[2] is None  # same GUID and same link: the same article, archived once


def test_an_item_listed_twice_is_archived_once():
    items = [item(link="https://a.test/1"), item(link="https://a.test/1")]
    assert assign_keys(items)[1] is None


def test_key_hash_is_stable_and_per_source():
    assert key_hash("voa", "guid:1") == key_hash("voa", "guid:1")
    assert key_hash("voa", "guid:1") != key_hash("bbc", "guid:1")
    assert re.fullmatch(r"[0-9a-f]{12}", key_hash("voa", "x"))


UNSAFE = set('/\\:*?"<>|')


@pytest.mark.parametrize("title", [
    "习近平会晤卢卡申科，双方呼吁俄乌停火并举行和谈",
    '../../etc/passwd', "..", ".hidden", "trailing dot.", "trailing space ", "CON", "a\x00b\x1fc",
    'what? "quoted" <tag> a|b c:d e*f', "#1 100% [x](y)", "", "   ", "\u202etxt.exe",
    "长" * 300, "🙂" * 100,
])
def test_file_names_are_safe_everywhere(title):
    path = article_path("voa", 1677695943000, title, "0123456789ab")
    folder, name = path.rsplit("/", 1)
    assert folder == "articles/voa/2023/03"
    assert len(name.encode()) <= 200
    assert not (UNSAFE & set(name))
    assert all(ord(c) >= 32 for c in name)
    assert not name.startswith(".") and not name.rstrip(".md").endswith((".", " "))
    assert name.endswith("-0123456789ab.md")
    assert key_from_path(path) == "0123456789ab" and locate(path).slug == "voa"


def test_folders_are_by_china_time_month():
    # 2023-03-31 17:00 UTC is already April 1st in UTC+8.
    assert article_path("voa", 1680282000000, "x", "0" * 12).startswith("articles/voa/2023/04/")


def test_bad_slug_cannot_escape():
    with pytest.raises(ValueError):
        article_path("../x", 0, "t", "0" * 12)


def test_safe_title_keeps_readable_text():
    # A full-width colon is an ordinary character on every system and stays.
    assert safe_title("美国 与 中国：会谈", 100) == "美国-与-中国：会谈"


WINDOWS_DEVICES = ["aux", "CON", "con.txt", "CON.txt", "Nul", "nul.tar.gz", "PRN", "LPT9", "lpt1.md",
                   "COM1", "com0", "COM\u00b9", "lpt\u00b3.x", "CONIN$", "conout$.log", "aux .txt"]


@pytest.mark.parametrize("name", WINDOWS_DEVICES)
def test_windows_device_names_are_never_produced(name):
    assert windows_reserved(name)
    made = safe_title(name, 100)
    assert not windows_reserved(made), made
    path = article_path("voa", 1680282000000, name, "0" * 12)
    assert not any(windows_reserved(part) for part in path.split("/")), path


@pytest.mark.parametrize("name", ["auxiliary", "con-ference", "console.log", "com10", "lpt", "nullable", "aux-x"])
def test_names_that_only_look_like_devices_stay(name):
    assert not windows_reserved(name)
    assert safe_title(name, 100) == name


@pytest.mark.parametrize("slug", ["con", "aux", "nul", "prn", "com1", "lpt9"])
def test_device_names_are_not_slugs(slug):
    with pytest.raises(ValueError):
        article_path(slug, 0, "t", "0" * 12)


def test_a_double_escaped_title_gives_a_readable_file_name():
    assert safe_title("美国 &quot;重返&quot; 亚洲 &amp; AT&amp;T", 100) == "美国-重返-亚洲-&-AT&T"


def test_an_item_known_by_its_content_keeps_its_identity_across_title_spellings():
    from newsmirror.archive.identity import base_key
    from newsmirror.models import FeedItem

    def item(title):
        return FeedItem(title=title, link=None, guid=None, content_html="<p>x</p>",
                        has_full_content=True, published_ms=None)

    # As titles came before they were kept exactly, and as they come now.
    assert base_key(item('美国 "重返" 亚洲 新闻')) == base_key(item("美国  &quot;重返&quot;\u3000亚洲\n新闻"))
    assert base_key(item("一")) != base_key(item("二"))


def test_a_printable_title_has_no_character_that_safe_title_drops():
    """safe_title skips its per-character filter for a printable text: sound only while
    str.isprintable is False for every character of category C, in this Python's tables."""
    import sys
    import unicodedata

    assert not [c for c in map(chr, range(sys.maxunicode + 1))
                if unicodedata.category(c)[0] == "C" and c.isprintable()]
    assert safe_title("a\u200bb\x07c\ue000d", 100) == "abcd"
