"""OPML in and out: the pure functions, and `newsmirror sources import/export`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmirror.archive.paths import windows_reserved
from newsmirror.cli import app
from newsmirror.config import load_config
from newsmirror.sources.opml import parse_opml, render_opml, render_source_tables, slug_from_url

READER_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="中文新闻" title="中文新闻">
      <outline type="rss" text="BBC News 中文" xmlUrl="https://feeds.bbci.co.uk/zhongwen/simp/rss.xml"/>
      <outline type="rss" text="美国之音" xmlUrl="https://www.voachinese.com/api/zyg"/>
      <outline text="Deeper">
        <outline type="rss" title="端传媒 Initium" xmlUrl="https://theinitium.com/newsfeed/"/>
      </outline>
    </outline>
    <outline type="rss" text="BBC News 中文 (again)" xmlUrl="https://feeds.bbci.co.uk/zhongwen/simp/rss.xml"/>
    <outline type="rss" text="法广" xmlUrl="https://www.rfi.fr/cn/rss"/>
    <outline type="rss" text="法广" xmlUrl="https://www.rfi.fr/cn/中国/rss"/>
  </body>
</opml>
""".encode()


def test_parse_flattens_folders_and_derives_unique_slugs():
    feeds = parse_opml(READER_EXPORT)
    assert feeds == [
        {"slug": "bbc-news", "name": "BBC News 中文", "url": "https://feeds.bbci.co.uk/zhongwen/simp/rss.xml"},
        {"slug": "voachinese", "name": "美国之音", "url": "https://www.voachinese.com/api/zyg"},
        {"slug": "initium", "name": "端传媒 Initium", "url": "https://theinitium.com/newsfeed/"},
        {"slug": "rfi", "name": "法广", "url": "https://www.rfi.fr/cn/rss"},
        {"slug": "rfi-2", "name": "法广", "url": "https://www.rfi.fr/cn/中国/rss"},
    ]


def test_reserved_slugs_are_avoided():
    slugs = [f["slug"] for f in parse_opml(READER_EXPORT, reserved={"rfi", "bbc-news"})]
    assert slugs == ["bbc-news-2", "voachinese", "initium", "rfi-2", "rfi-3"]


def test_slug_from_url():
    assert slug_from_url("https://feeds.bbci.co.uk/zhongwen/simp/rss.xml") == "bbci"
    assert slug_from_url("https://www.voachinese.com/api/x") == "voachinese"
    assert slug_from_url("https://rss.dw.com/rdf/rss-chi-all") == "dw"
    assert slug_from_url("not a url") == ""


def test_round_trip_keeps_slugs_and_is_deterministic():
    sources = [
        {"slug": "voa", "name": "美国之音", "url": "https://www.voachinese.com/api/zyg"},
        {"slug": "bbc", "name": 'BBC "中文" & <more>', "url": "https://feeds.bbci.co.uk/x?a=1&b=2"},
    ]
    data = render_opml(sources)
    assert data == render_opml(sources)
    assert data.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<opml")
    assert b'version="2.0"' in data
    assert parse_opml(data) == sources


@pytest.mark.parametrize("data, words", [
    (b"", "not well-formed"),
    (b"<rss version='2.0'><channel/></rss>", "root element is <rss>"),
    (b"<opml version='2.0'><head/></opml>", "no <body>"),
    (b"\xff\xfe garbage", "not well-formed"),
])
def test_not_opml_is_a_clear_value_error(data, words):
    with pytest.raises(ValueError, match="not an OPML document") as caught:
        parse_opml(data)
    assert words in str(caught.value)


def test_entities_are_never_fetched_or_expanded(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    doc = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY s SYSTEM "file://{secret}">]>'
           '<opml version="2.0"><head><title>&s;</title></head><body>'
           '<outline text="a" xmlUrl="https://a.example/feed"/></body></opml>').encode()
    assert parse_opml(doc) == [{"slug": "a", "name": "a", "url": "https://a.example/feed"}]
    with pytest.raises(ValueError):
        parse_opml(doc.replace(b'text="a"', b'text="&s;"'))


def test_source_tables_escape_like_toml():
    import tomllib

    sources = [{"slug": "x", "name": 'a "b" \\ c\n\x01', "url": "https://x.example/"}]
    assert tomllib.loads(render_source_tables(sources))["sources"] == sources


# -- the commands --------------------------------------------------------------------------
CONFIG = """\
# my mirror
[archive]
path = "archive"

[[sources]]
slug = "voa"
name = "美国之音"
url = "https://www.voachinese.com/api/zyg"
"""


def invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_import_appends_new_sources_and_skips_known_ones(tmp_path: Path):
    config = tmp_path / "newsmirror.toml"
    config.write_text(CONFIG, encoding="utf-8")
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(READER_EXPORT.replace(b"</body>", b'<outline text="f" xmlUrl="ftp://f/x"/></body>'))

    result = invoke("sources", "import", str(opml), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "4 added, 2 skipped" in result.stdout
    text = config.read_text(encoding="utf-8")
    assert text.startswith(CONFIG), "what the reader wrote stays as it was"
    loaded = load_config(config)
    assert [s.slug for s in loaded.sources] == ["voa", "bbc-news", "initium", "rfi", "rfi-2"]
    assert loaded.sources[1].name == "BBC News 中文"

    again = invoke("sources", "import", str(opml), "--config", str(config))
    assert again.exit_code == 0 and "0 added, 6 skipped" in again.stdout
    assert config.read_text(encoding="utf-8") == text


def test_import_avoids_the_bundled_sources_in_use(tmp_path: Path):
    from newsmirror.sources.bundled import bundled_sources

    first = bundled_sources()[0]
    config = tmp_path / "newsmirror.toml"
    config.write_text("bundled_sources = true\n", encoding="utf-8")
    opml = tmp_path / "feeds.opml"
    opml.write_bytes(render_opml([first, {"slug": first["slug"], "name": "其他",
                                          "url": "https://other.example/rss"}]))
    result = invoke("sources", "import", str(opml), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "1 added, 1 skipped" in result.stdout
    added = load_config(config).sources[0]
    assert added.url == "https://other.example/rss" and added.slug != first["slug"]


def test_import_refuses_what_is_not_opml_and_leaves_the_config_alone(tmp_path: Path):
    config = tmp_path / "newsmirror.toml"
    config.write_text(CONFIG, encoding="utf-8")
    bad = tmp_path / "feed.xml"
    bad.write_text("<rss version='2.0'/>")
    result = invoke("sources", "import", str(bad), "--config", str(config))
    assert result.exit_code == 2
    assert "not an OPML document" in result.stderr
    assert config.read_text(encoding="utf-8") == CONFIG


def test_export_to_stdout_and_to_a_file(tmp_path: Path):
    config = tmp_path / "newsmirror.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = invoke("sources", "export", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert parse_opml(result.stdout_bytes) == [
        {"slug": "voa", "name": "美国之音", "url": "https://www.voachinese.com/api/zyg"}]

    target = tmp_path / "out.opml"
    result = invoke("sources", "--config", str(config), "export", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert parse_opml(target.read_bytes())[0]["slug"] == "voa"


def test_windows_device_names_never_become_slugs():
    data = b"""<?xml version="1.0"?><opml version="2.0" xmlns:newsmirror="urn:newsmirror:opml"><body>
    <outline type="rss" text="CON" xmlUrl="https://con.test/rss"/>
    <outline type="rss" text="x" newsmirror:slug="aux" xmlUrl="https://aux.test/rss"/>
    <outline type="rss" text="Nul" slug="nul" xmlUrl="https://nul.test/rss"/>
    </body></opml>"""
    slugs = [f["slug"] for f in parse_opml(data)]
    assert not any(windows_reserved(slug) for slug in slugs), slugs
    assert slugs == ["con-2", "aux-2", "nul-2"]  # "x" is too short: the host names it
