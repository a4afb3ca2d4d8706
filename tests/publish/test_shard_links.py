"""Where the main repository's lists, README and feeds send readers for an article a yearly
shard holds (archive/shards.py): the shard's own web page of the file, derived from the
primary remote, since no relative link crosses repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.addresses import suffixed_address
from newsmirror.archive.shards import archive_name, shard_web
from newsmirror.config import parse_config
from newsmirror.models import ArchivedEntry
from newsmirror.publish.lists import render_list, render_shards
from newsmirror.publish.mirrors import shard_file_address

PATH = "articles/voa/2027/01/新闻 (一)-0123456789ab.md"


def entry(shard: str) -> ArchivedEntry:
    return ArchivedEntry("voa", "0123456789ab", PATH, 1_798_765_200_000, "新闻 [一]", "https://voa.test/1",
                         "d" * 64, shard)


def config(tmp_path: Path, remote: str):
    return parse_config({"archive": {"remote": remote, "rotate": "yearly"},
                         "sources": [{"slug": "voa", "name": "VOA", "url": "https://voa.test/f"}]},
                        file="t.toml", base=tmp_path)


@pytest.mark.parametrize("url, shard", [
    ("git@github.com:me/news.git", "git@github.com:me/news-2027.git"),
    ("https://gitlab.com/me/news", "https://gitlab.com/me/news-2027"),
    ("https://codeberg.org/me/news.git/", "https://codeberg.org/me/news-2027.git"),
    ("/srv/git/news.git", "/srv/git/news-2027.git"),
    ("ssh://git@host:2222/me/news", "ssh://git@host:2222/me/news-2027"),
])
def test_a_shards_address_is_the_primarys_with_the_year_after_the_name(url, shard):
    assert suffixed_address(url, "-2027") == shard


@pytest.mark.parametrize("remote, web", [
    ("git@github.com:me/news.git", "https://github.com/me/news-2027/blob/main/"),
    ("https://gitlab.com/me/news.git", "https://gitlab.com/me/news-2027/-/blob/main/"),
    ("git@codeberg.org:me/news.git", "https://codeberg.org/me/news-2027/src/branch/main/"),
])
def test_a_shard_entry_links_to_its_shards_web_page(tmp_path, remote, web):
    cfg = config(tmp_path, remote)
    assert archive_name(cfg) == "news"
    where = shard_file_address(cfg)
    assert where(entry("")) is None
    assert where(entry("2027")) == web + "articles/voa/2027/01/%E6%96%B0%E9%97%BB%20%28%E4%B8%80%29-0123456789ab.md"
    page = render_list("VOA", [entry("2027"), entry("")], where).decode()
    assert f"1-1 [新闻 [一]]({web}articles/voa/2027/01/%E6" in page
    assert "1-1 [新闻 [一]](/articles/voa/2027/01/%E6" in page


def test_a_shard_without_a_web_address_is_named_not_linked(tmp_path):
    cfg = config(tmp_path, "/srv/git/news.git")
    assert shard_web(cfg, "2027") is None
    page = render_list("VOA", [entry("2027")], shard_file_address(cfg)).decode()
    assert "1-1 新闻 \\[一\\]（分卷 2027）" in page, page


def test_the_readme_table_lists_the_main_repository_and_each_shard():
    lines = render_shards(("news", 120), [("news-2027", 2027, "https://github.com/me/news-2027", 30),
                                         ("news-2028", 2028, None, 4)])
    assert "| news（本仓库） | — | 120 |" in lines
    assert "| [news-2027](https://github.com/me/news-2027) | 2027 | 30 |" in lines
    assert "| news-2028 | 2028 | 4 |" in lines


def test_a_shards_mirrors_are_the_mirrors_with_the_year_after_the_name(tmp_path, monkeypatch):
    from newsmirror.publish.mirrors import shard_config

    monkeypatch.setenv("GITLAB_URL", "https://oauth2:secret@gitlab.com/me/news.git")
    cfg = parse_config({"archive": {"remote": "git@github.com:me/news.git", "mirrors": [
        {"name": "cb", "url": "git@codeberg.org:me/news.git"},
        {"name": "gl", "url_env": "GITLAB_URL", "web": "https://gitlab.com/me/news", "kind": "gitlab"},
        {"name": "gone", "url_env": "UNSET_URL"}]},
        "sources": [{"slug": "voa", "name": "VOA", "url": "https://voa.test/f"}]}, file="t.toml", base=tmp_path)
    derived = shard_config(cfg, "2027")
    assert derived.remote == "git@github.com:me/news-2027.git"
    assert [(m.name, m.url, m.url_env, m.web) for m in derived.mirrors] == [
        ("cb-2027", "git@codeberg.org:me/news-2027.git", None, "https://codeberg.org/me/news-2027"),
        ("gl-2027", "https://oauth2:secret@gitlab.com/me/news-2027.git", None, "https://gitlab.com/me/news-2027"),
        ("gone-2027", None, "UNSET_URL", None)]


def test_a_feed_entry_of_a_shard_links_to_the_shards_file(tmp_path):
    from newsmirror.publish.feeds import FeedInfo, _entry, render_atom

    where = shard_file_address(config(tmp_path, "git@github.com:me/news.git"))
    own, away = entry(""), entry("2027")
    feed = render_atom(FeedInfo("all", "全部"), [_entry(e, "VOA", None, where(e)) for e in (away, own)], None).decode()
    assert 'href="https://github.com/me/news-2027/blob/main/articles/voa/2027/01/%E6' in feed
    assert 'href="../articles/voa/2027/01/%E6' in feed


def test_a_shards_site_address_is_the_main_sites_with_the_year(tmp_path):
    from newsmirror.publish.mirrors import shard_site_url

    def cfg(remote: str, url: str | None = None):
        return parse_config({"archive": {"remote": remote}, **({"site": {"url": url}} if url else {}),
                             "sources": [{"slug": "voa", "name": "VOA", "url": "https://voa.test/f"}]},
                            file="t.toml", base=tmp_path)

    github = "git@github.com:Me/news.git"
    assert shard_site_url(cfg(github), "2027") == "https://me.github.io/news-2027/"
    assert shard_site_url(cfg("https://github.com/me/me.github.io.git"), "2027") == \
        "https://me.github.io/me.github.io-2027/"
    # [site] url: the year after its last folder; at the root of its host, GitHub's again.
    assert shard_site_url(cfg(github, "https://news.example.org/archive/"), "2027") == \
        "https://news.example.org/archive-2027/"
    assert shard_site_url(cfg(github, "https://news.example.org/"), "2027") == "https://me.github.io/news-2027/"
    # Nowhere to derive it from: the shard's articles stay on the main site.
    assert shard_site_url(cfg("git@codeberg.org:me/news.git", "https://news.example.org/"), "2027") is None
    assert shard_site_url(cfg("/srv/git/news.git"), "2027") is None
