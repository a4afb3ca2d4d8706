"""`newsmirror rebuild`: all derived state from the article files alone."""

import shutil
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.jobs.feeds import Item, rss


def test_rebuild_restores_catalog_lists_readme_and_feeds(mirror, httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/f.xml").respond_with_data(
        rss([Item(f"新闻{i}", f"https://news.test/{i}", f"<p>{i}</p>", guid=str(i), date_ms=10**12 + i)
             for i in range(4)]), content_type="application/rss+xml")
    sources = [{"slug": "s", "name": "源", "url": httpserver.url_for("/f.xml")}]
    mirror.run(sources, push=False)
    archive = mirror.archive
    before = {p: (archive / p).read_bytes() for p in ("lists/s.md", "README.md", "feeds/s.xml", "feeds/all.xml")}
    shutil.rmtree(archive / ".newsmirror" / "cache")
    shutil.rmtree(archive / "lists")
    (archive / "feeds" / "s.xml").unlink()
    (archive / "README.md").write_text("damaged")
    config = tmp_path / "n.toml"
    config.write_text(f'[archive]\npath = "{archive}"\n[[sources]]\nslug = "s"\nname = "源"\n'
                      f'url = "{httpserver.url_for("/f.xml")}"\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "newsmirror", "rebuild", "--config", str(config)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("4 articles read; 3 derived files rewritten")
    for path, data in before.items():
        assert (archive / path).read_bytes() == data, path


def test_a_rebuilt_catalog_answers_as_the_one_runs_built(mirror, httpserver: HTTPServer):
    """A cache miss: the catalog read back from the files holds what the runs recorded, but
    for what only a feed can tell (the feed digest and GUID, which a rebuild leaves unknown)."""
    import sqlite3

    from newsmirror.archive.store import open_store

    items = [Item(f"新闻 [{i}] `代码` <b>", f"https://news.test/{i}?a=1&b=(2)", f"<p>{i}</p>", guid=str(i),
                  date_ms=10**12 + i % 3) for i in range(6)]
    for name in ("a", "b"):
        httpserver.expect_request(f"/{name}.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    sources = [{"slug": s, "name": s, "url": httpserver.url_for(f"/{s}.xml")} for s in ("a", "b")]
    mirror.run(sources, push=False)
    columns = "slug, key, path, published_ms, title, link, digest, layout, old_link, path_id"

    def rows() -> list[tuple]:
        db = sqlite3.connect(mirror.archive / ".newsmirror" / "cache" / "catalog.sqlite")
        try:
            return db.execute(f"SELECT {columns} FROM articles ORDER BY slug, key").fetchall()
        finally:
            db.close()

    by_runs = rows()
    assert len(by_runs) == 12
    shutil.rmtree(mirror.archive / ".newsmirror" / "cache")
    with open_store(mirror.archive, writes=False) as store:
        assert store.catalog.rebuilt == {"": 12}
        latest = [e.path for e in store.catalog.latest(None, 5)]
    assert rows() == by_runs
    newest = sorted(by_runs, key=lambda r: (r[3], r[2]), reverse=True)[:5]
    assert latest == [r[2] for r in newest]
