"""Layout recognition, the `folder` and `list_path` keys, and where the README index goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsmirror.archive.catalog import Catalog
from newsmirror.archive.legacy import (
    NEWSMIRROR,
    NUMBERED,
    TITLED,
    legacy_key,
    locate,
)
from newsmirror.config import ConfigError, parse_config
from newsmirror.publish.readme import BEGIN, END, place_index


@pytest.mark.parametrize(("path", "layout", "slug", "old_id"), [
    ("articles/voa/1027090.md", NUMBERED, "voa", 1027090),
    ("articles/rfi/999999.md", NUMBERED, "rfi", 999999),
    ("articles/美国之音/1048575_中美/关系.md".replace("/关系", "--关系"), TITLED, "voa", 1048575),
    ("articles/voa/2023/03/标题-0123456789ab.md", NEWSMIRROR, "voa", None),
])
def test_each_layout_is_recognised(path, layout, slug, old_id):
    where = locate(path, {"美国之音": "voa"})
    assert where is not None and (where.layout, where.slug, where.old_id) == (layout, slug, old_id)
    assert where.key == ("0123456789ab" if layout == NEWSMIRROR else legacy_key(path))


@pytest.mark.parametrize("path", [
    "articles/voa/notes.md", "articles/voa/1027090.txt", "articles/voa/2023/1027090.md",
    "articles/voa/2023/03/no-hash.md", "lists/voa.md", "articles/1027090.md",
])
def test_other_files_are_not_articles(path):
    assert locate(path) is None


def test_two_old_files_with_one_link_keep_their_own_keys():
    assert legacy_key("articles/voa/1.md") != legacy_key("articles/voa/2.md")


def test_a_changed_folder_map_makes_the_catalog_read_the_files_again(tmp_path: Path):
    catalog = Catalog(tmp_path / "c.sqlite", {})
    catalog.set_meta("head", "abc")
    catalog.rebuild(tmp_path)
    catalog.set_meta("head", "abc")
    catalog.close()
    assert Catalog(tmp_path / "c.sqlite", {}).get_meta("head") == "abc"
    assert Catalog(tmp_path / "c.sqlite", {"美国之音": "voa"}).get_meta("head") is None


def config(**source):
    data = {"sources": [{"slug": "voa", "name": "美国之音", "url": "https://x.test/voa", **source},
                        {"slug": "rfi", "name": "法广", "url": "https://x.test/rfi"}]}
    return parse_config(data, file="mirror.toml", base=Path("/srv"))


def test_folder_and_list_path_are_taken():
    loaded = config(folder="美国之音", list_path="lists/美国之音.md")
    voa = loaded.sources[0]
    assert (voa.folder, voa.list_file) == ("美国之音", "lists/美国之音.md")
    assert loaded.folders == {"美国之音": "voa"} and loaded.sources[1].list_file == "lists/rfi.md"
    assert config(folder="voa").folders == {}


@pytest.mark.parametrize(("source", "key", "problem"), [
    ({"folder": "a/b"}, "folder", "must be the name of one folder under articles/"),
    ({"folder": ".."}, "folder", "must be the name of one folder"),
    ({"folder": " x"}, "folder", "without surrounding spaces"),
    ({"folder": "rfi"}, "folder", "articles/rfi/ already belongs to source 'rfi'"),
    ({"folder": 3}, "folder", "must be a string"),
    ({"list_path": "/lists/a.md"}, "list_path", "must be a path inside the archive"),
    ({"list_path": "lists/../a.md"}, "list_path", "must be a path inside the archive"),
    ({"list_path": "lists/a.html"}, "list_path", "must name a Markdown file"),
    ({"list_path": "README.md"}, "list_path", "is reserved (the archive README)"),
    ({"list_path": "lists/requests.md"}, "list_path", "is reserved"),
    ({"list_path": "articles/voa/list.md"}, "list_path", "is inside articles/"),
    ({"list_path": "lists/rfi.md"}, "list_path", "lists/rfi.md is already the list page of source 'rfi'"),
])
def test_wrong_places_are_named(source, key, problem):
    with pytest.raises(ConfigError) as err:
        config(**source)
    assert str(err.value).startswith(f"mirror.toml: sources[0] (voa).{key}: ")
    assert problem in str(err.value)


def test_two_sources_cannot_share_an_old_folder():
    data = {"sources": [{"slug": "a", "name": "A", "url": "https://x.test/a", "folder": "旧"},
                        {"slug": "b", "name": "B", "url": "https://x.test/b", "folder": "旧"}]}
    with pytest.raises(ConfigError, match=r"sources\[1\] \(b\)\.folder: articles/旧/ already belongs to source 'a'"):
        parse_config(data, file="m.toml", base=Path("/srv"))


INDEX = b"# Mirror\n\n| Source | Articles | Latest article (UTC+8) |\n| --- | ---: | --- |\n"


def test_a_readme_newsmirror_wrote_is_rewritten_whole():
    assert place_index(None, INDEX) == INDEX
    assert place_index(INDEX.replace(b"Mirror", b"Old"), INDEX) == INDEX
    welcome = b"# x\n\nIt is empty until the first run; `newsmirror run` then replaces this README with\n"
    assert place_index(welcome, INDEX) == INDEX


def test_an_operators_readme_keeps_every_byte_outside_the_markers():
    own = "# 我的镜像\n\n请勿转载。\n".encode()
    first = place_index(own, INDEX)
    assert first == own + b"\n" + BEGIN + b"\n" + INDEX + END + b"\n"
    # The operator moved the section up and wrote below it; only its inside changes.
    moved = b"# top\n\n" + BEGIN + b"\nold index\n" + END + b"\n\nmore of mine\n"
    assert place_index(moved, INDEX) == b"# top\n\n" + BEGIN + b"\n" + INDEX + END + b"\n\nmore of mine\n"
    assert place_index(place_index(moved, INDEX), INDEX) == place_index(moved, INDEX)


def test_a_damaged_readme_of_newsmirrors_is_restored_whole():
    assert place_index(b"damaged", INDEX, committed=INDEX) == INDEX
    assert place_index(b"damaged", INDEX, committed=b"# mine\n").startswith(b"damaged\n\n" + BEGIN)
