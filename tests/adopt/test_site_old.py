"""The reading site and its search hold an older mirror's articles with the new ones."""

from __future__ import annotations

from pathlib import Path

from newsmirror.archive.store import open_store
from newsmirror.config import parse_config
from newsmirror.publish.site import build_site
from tests.adopt.oldarchive import TOP_ID, Old, commit_all, init_repo, write_folder
from tests.publish.test_site import article_page, search

T = 1_677_695_943_000


def test_old_articles_get_pages_and_are_found(tmp_path: Path):
    root = tmp_path / "archive"
    init_repo(root)
    write_folder(root, "voa", [Old(1000000, "乌克兰停火谈判", "https://v.test/1", "<p>卢卡申科会晤习近平</p>", T),
                               Old(999999, "白俄罗斯总统访华", "https://v.test/2", "<p>双边合作文件</p>", T + 3_600_000)])
    write_folder(root, "美国之音", [Old(TOP_ID, "早期/文章", "https://v.test/0", "<p>早期镜像的正文</p>", T - 10**9)],
                 titled=True)
    commit_all(root)
    config = parse_config({"archive": {"path": str(root)},
                           "sources": [{"slug": "voa", "name": "美国之音", "url": "https://v.test/feed"}]},
                          file="t.toml", base=tmp_path)
    out = tmp_path / "site"
    with open_store(root, writes=False, folders={"美国之音": "voa"}) as store:
        report = build_site(config, store, out)
    assert report.articles == 3
    for title in ("乌克兰停火谈判", "白俄罗斯总统访华", "早期/文章"):
        assert article_page(out, title).is_file()
    assert search(out, "卢卡申科") == {"乌克兰停火谈判"}
    assert search(out, "早期镜像") == {"早期/文章"}
    home = (out / "sources" / "voa" / "index.html").read_text(encoding="utf-8")
    assert home.index("白俄罗斯总统访华") < home.index("乌克兰停火谈判") < home.index("早期/文章")
