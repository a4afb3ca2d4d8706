from pathlib import Path

from newsmirror.archive.article import render_article
from newsmirror.archive.catalog import Catalog, digest_bytes
from newsmirror.archive.paths import article_path
from newsmirror.models import ArchivedEntry, Article


def put_file(root: Path, slug: str, key: str, ms: int, title: str) -> str:
    path = article_path(slug, ms, title, key)
    data = render_article(Article(ms, title, f"https://n.test/{key}", "<p>x</p>"))
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    (root / path).write_bytes(data)
    return path


def test_rebuild_reads_every_article_file(tmp_path: Path):
    paths = [put_file(tmp_path, "voa", f"{i:012x}", 1_700_000_000_000 + i * 1000, f"标题{i}")
             for i in range(25)]
    (tmp_path / "articles/voa/2023/11/not-an-article.md").write_text("hello")
    catalog = Catalog(tmp_path / "c.sqlite")
    assert catalog.rebuild(tmp_path) == 25
    assert catalog.stats()["voa"].articles == 25
    latest = catalog.latest("voa", 3)
    assert [e.path for e in latest] == paths[::-1][:3]
    found, feed_digest = catalog.get("voa", f"{3:012x}")
    assert found.title == "标题3" and feed_digest is None
    assert found.digest == digest_bytes((tmp_path / found.path).read_bytes())


def test_reindex_follows_changes_and_deletions(tmp_path: Path):
    catalog = Catalog(tmp_path / "c.sqlite")
    path = put_file(tmp_path, "bbc", "a" * 12, 1_700_000_000_000, "旧标题")
    catalog.reindex(tmp_path, [path])
    assert catalog.count() == 1
    (tmp_path / path).unlink()
    catalog.reindex(tmp_path, [path])
    assert catalog.count() == 0


def test_a_damaged_catalog_starts_over(tmp_path: Path):
    db = tmp_path / "c.sqlite"
    db.write_bytes(b"this is not sqlite" * 100)
    catalog = Catalog(db)
    catalog.put(ArchivedEntry("voa", "b" * 12, "articles/voa/x-bbbbbbbbbbbb.md", 1, "t", "l", "d"))
    assert catalog.count() == 1
