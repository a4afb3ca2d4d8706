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
