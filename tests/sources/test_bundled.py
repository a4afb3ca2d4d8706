"""The bundled source list: well-formed, and accepted by the config checker. No network."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from newsmirror.config import BODY_KEYS, parse_config
from newsmirror.sources.bundled import bundled_sources

SHIPPED = {"voa", "bbc", "rfi", "dw", "nytimes", "rfa", "cdt", "ftchinese",
           "initium", "cna", "udn", "rthk", "ltn"}


def test_every_entry_has_slug_name_url():
    sources = bundled_sources()
    assert sources
    for entry in sources:
        for key in ("slug", "name", "url"):
            assert isinstance(entry.get(key), str) and entry[key].strip(), (entry, key)


def test_slugs_are_valid_and_unique():
    slugs = [entry["slug"] for entry in bundled_sources()]
    assert len(slugs) == len(set(slugs))
    for slug in slugs:
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,39}", slug), slug
    assert slugs == [s["slug"] for s in bundled_sources()]


def test_urls_are_http_addresses():
    for entry in bundled_sources():
        parts = urlsplit(entry["url"])
        assert parts.scheme in ("https", "http"), entry
        assert parts.netloc and " " not in entry["url"], entry


def test_only_known_keys_and_modes():
    for entry in bundled_sources():
        assert set(entry) <= {"slug", "name", "url", "full_text", *BODY_KEYS}, entry
        assert entry.get("full_text", "feed") in ("feed", "page", "auto"), entry


def test_fresh_copies_each_call():
    first = bundled_sources()
    first[0]["url"] = "https://example.invalid/changed"
    first.append({"slug": "extra"})
    second = bundled_sources()
    assert second[0]["url"] != "https://example.invalid/changed"
    assert "extra" not in {s["slug"] for s in second}


def test_ships_the_expected_outlets():
    assert {entry["slug"] for entry in bundled_sources()} == SHIPPED


def test_whole_list_passes_config_validation():
    config = parse_config({"bundled_sources": True}, file="t.toml", base=Path("."))
    slugs = {s.slug for s in config.sources}
    assert slugs == SHIPPED
    by_slug = {s.slug: s for s in config.sources}
    assert by_slug["dw"].url == "https://rss.dw.com/rdf/rss-chi-all"
    assert by_slug["ftchinese"].full_text == "auto"
    assert by_slug["cdt"].full_text == "feed"


def test_config_can_pick_some_and_override_one():
    config = parse_config(
        {"bundled_sources": ["voa", "bbc"],
         "sources": [{"slug": "bbc", "name": "BBC", "url": "https://mirror.example/bbc.xml"}]},
        file="t.toml", base=Path("."))
    by_slug = {s.slug: s for s in config.sources}
    assert set(by_slug) == {"voa", "bbc"}
    assert by_slug["bbc"].url == "https://mirror.example/bbc.xml"
