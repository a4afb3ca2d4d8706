import sqlite3
from dataclasses import replace
from pathlib import Path

from newsmirror.archive.article import render_article
from newsmirror.archive.catalog import SCHEMA_VERSION, Catalog, digest_bytes
from newsmirror.archive.legacy import legacy_key
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


def indexes(catalog: Catalog) -> set[str]:
    return {row[0] for row in catalog.db.execute("SELECT sql FROM sqlite_schema WHERE type='index'")}


def test_a_rebuild_makes_its_indexes_again_and_stops_whole(tmp_path: Path):
    put_file(tmp_path, "voa", "a" * 12, 1_700_000_000_000, "一")
    catalog = Catalog(tmp_path / "c.sqlite")
    before = indexes(catalog)
    assert catalog.rebuild(tmp_path) == 1 and not catalog.db.in_transaction
    assert indexes(catalog) == before
    put_file(tmp_path, "voa", "b" * 12, 1_700_000_001_000, "二")
    catalog.begin()
    assert catalog.rebuild(tmp_path) == 2 and catalog.db.in_transaction
    catalog.db.execute("ROLLBACK")
    # A rebuild that never committed leaves the catalog it had, indexes and all.
    assert catalog.count() == 1 and indexes(catalog) == before


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


# -- schema versions ----------------------------------------------------------------------
VERSION_2 = Path(__file__).with_name("data") / "catalog-v2.sql"
"""A catalog as newsmirror wrote it at schema version 2 (before the catalog owned the
assets and feed_bodies tables): its file, dumped with sqlite3's iterdump."""


def old_catalog(path: Path, *, without: tuple[str, ...] = ()) -> Path:
    db = sqlite3.connect(path)
    db.executescript(VERSION_2.read_text(encoding="utf-8"))
    for table in without:
        db.execute(f"DROP TABLE {table}")
    db.commit()
    db.close()
    return path


def test_a_version_2_catalog_is_upgraded_and_keeps_its_entries_and_caches(tmp_path: Path):
    catalog = Catalog(old_catalog(tmp_path / "c.sqlite"))
    assert catalog.get_meta("schema") == SCHEMA_VERSION == "5"
    assert catalog.rebuilt == {}  # upgraded in place, not started over
    assert catalog.get_meta("head") == "0123456789abcdef0123456789abcdef01234567"
    entry, feed_digest = catalog.get("voa", "a" * 12)
    assert entry.title == "标题" and feed_digest == "f1"
    assert catalog.first_with_link("https://voa.test/a") == (entry.path, "标题")
    assert catalog.asset("https://voa.test/a.png") == "assets/voa/2024/01/abc.png"
    assert catalog.feed_body(entry.path, "d1") == (True, "<p>正文</p>")
    assert catalog.feed_body(entry.path, "d2") == (False, None)  # the file changed since
    catalog.close()
    reopened = Catalog(tmp_path / "c.sqlite")
    assert reopened.count() == 1 and reopened.feed_bodies() == 1


def test_a_version_2_catalog_that_never_held_images_gains_the_tables(tmp_path: Path):
    catalog = Catalog(old_catalog(tmp_path / "c.sqlite", without=("assets", "feed_bodies")))
    assert catalog.count() == 1 and catalog.asset("https://voa.test/a.png") is None
    catalog.put_asset("https://voa.test/a.png", "assets/voa/2024/01/abc.png")
    catalog.put_feed_body("articles/voa/2024/01/x-aaaaaaaaaaaa.md", "d1", None)
    assert catalog.asset("https://voa.test/a.png") == "assets/voa/2024/01/abc.png"
    assert catalog.feed_body("articles/voa/2024/01/x-aaaaaaaaaaaa.md", "d1") == (True, None)


def version_3_catalog(path: Path, rows: list[tuple], bodies: list[tuple]) -> Path:
    """A catalog as version 3 wrote it: version 2's tables, all of them there (upgrading
    from 2 to 3 only made the missing ones), holding `rows` and `bodies`."""
    db = sqlite3.connect(old_catalog(path))
    db.execute("DELETE FROM articles")
    db.execute("DELETE FROM feed_bodies")
    db.executemany("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO feed_bodies VALUES (?,?,?)", bodies)
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)",
                   [("schema", "3"), ("folders", '{"美国之音": "voa"}'), ("head", "ab" * 20)])
    db.commit()
    db.close()
    return path


def test_a_version_3_catalog_is_upgraded_in_place_and_answers_as_before(tmp_path: Path):
    own, old = "articles/voa/2024/01/x-aaaaaaaaaaaa.md", "articles/美国之音/123_标题.md"
    digest, feed_digest = digest_bytes(b"own"), digest_bytes(b"item")
    rows = [
        ("voa", "a" * 12, own, 1_704_067_200_000, "标题", "https://voa.test/a", digest, feed_digest,
         "newsmirror", "guid-a", None),
        ("voa", "b" * 12, "articles/voa/2024/01/y-bbbbbbbbbbbb.md", 1_704_067_300_000, "二",
         "https://voa.test/b", digest_bytes(b"b"), "page-pending", "newsmirror", None, None),
        ("voa", legacy_key(old), old, 1_600_000_000_000, "旧", "http://voa.test/old?", "d-not-hex",
         None, "titled", "guid-old", "http://voa.test/old"),
    ]
    bodies = [(own, digest, "<p>正文</p>" * 50), (old, "d-not-hex", None)]
    path = version_3_catalog(tmp_path / "c.sqlite", rows, bodies)
    size_3 = path.stat().st_size
    catalog = Catalog(path, {"美国之音": "voa"})
    assert catalog.get_meta("schema") == SCHEMA_VERSION == "5"
    assert catalog.rebuilt == {} and catalog.get_meta("head") == "ab" * 20  # kept, not started over
    assert catalog.count() == 3
    entry, found_digest = catalog.get("voa", "a" * 12)
    assert (entry.path, entry.title, entry.digest, found_digest) == (own, "标题", digest, feed_digest)
    assert catalog.get("voa", "b" * 12)[1] == "page-pending"
    by_guid = catalog.find_old("voa", "http://voa.test/elsewhere", "guid-old")
    by_link = catalog.find_old("voa", "http://voa.test/old")
    assert by_guid == by_link and by_guid[0].path == old and by_guid[0].link == "http://voa.test/old"
    assert by_guid[0].digest == "d-not-hex"
    assert catalog.find_old("voa", "https://voa.test/a", "guid-a") is None  # only old files by GUID
    assert [e.path for e in catalog.latest("voa", 3)] == [rows[1][2], own, old]
    assert catalog.first_with_link("https://voa.test/b") == (rows[1][2], "二")
    assert catalog.feed_body(own, digest) == (True, "<p>正文</p>" * 50)
    assert catalog.feed_body(own, digest_bytes(b"changed")) == (False, None)
    assert catalog.feed_body(old, "d-not-hex") == (True, None)
    assert catalog.asset("https://voa.test/a.png") == "assets/voa/2024/01/abc.png"
    layouts = catalog.db.execute("SELECT key, layout, guid FROM articles ORDER BY key").fetchall()
    assert sorted(layouts) == sorted([(bytes.fromhex("a" * 12), 0, None), (bytes.fromhex("b" * 12), 0, None),
                                      (bytes.fromhex(legacy_key(old)), 2, "guid-old")])
    assert catalog.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    catalog.forget_path(own)
    assert catalog.get("voa", "a" * 12) is None and catalog.count() == 2
    catalog.close()
    assert path.stat().st_size < size_3
    reopened = Catalog(path, {"美国之音": "voa"})
    assert reopened.count() == 2 and reopened.feed_bodies() == 2 and reopened.rebuilt == {}


VERSION_4 = Path(__file__).with_name("data") / "catalog-v4.sql"
"""A catalog as newsmirror wrote it at schema version 4 (keys as text), dumped with
sqlite3's iterdump: three entries of voa (one in the shard 2027, one an old file) and one
of bbc whose key is no hex, a feed body, an image."""


def test_a_version_4_catalog_is_upgraded_in_place_to_the_rows_puts_make(tmp_path: Path):
    path = tmp_path / "c.sqlite"
    db = sqlite3.connect(path)
    db.executescript(VERSION_4.read_text(encoding="utf-8"))
    db.close()
    folders = {"美国之音": "voa"}
    catalog = Catalog(path, folders)
    assert catalog.get_meta("schema") == SCHEMA_VERSION == "5"
    assert catalog.rebuilt == {} and catalog.get_meta("head") == "ab" * 20  # kept, not started over
    assert catalog.get_meta("head:2027") == "cd" * 20
    # The same entries put into a new catalog make the same rows, rowids apart.
    entries = [(entry, catalog.get(entry.slug, entry.key)[1]) for entry in catalog.entries()]
    assert len(entries) == 4
    fresh = Catalog(tmp_path / "fresh.sqlite", folders)
    guids = {"aaaaaaaaaaaa": "guid-a", legacy_key("articles/美国之音/123_标题.md"): "guid-old"}
    for entry, feed_digest in entries:
        fresh.put(entry, feed_digest, guid=guids.get(entry.key))

    def rows(c: Catalog) -> list[tuple]:
        return c.db.execute("SELECT * FROM articles ORDER BY slug, key").fetchall()
    assert rows(catalog) == rows(fresh)
    keys = dict(catalog.db.execute("SELECT path, key FROM articles").fetchall())
    assert keys["articles/voa/2024/01/x-aaaaaaaaaaaa.md"] == bytes.fromhex("a" * 12)
    assert keys["articles/bbc/2024/02/z.md"] == "Not-Hex-Key"  # no hex: kept as it was
    entry, feed_digest = catalog.get("voa", "a" * 12)
    assert (entry.key, entry.title, feed_digest) == ("a" * 12, "标题", digest_bytes(b"item"))
    assert catalog.get("voa", "b" * 12)[0].shard == "2027" and catalog.get("voa", "b" * 12)[1] == "page-pending"
    assert catalog.get("bbc", "Not-Hex-Key")[0].title == "三"
    assert catalog.find_old("voa", "http://voa.test/x", "guid-old")[0].key == legacy_key("articles/美国之音/123_标题.md")
    assert catalog.feed_body(entry.path, digest_bytes(b"own")) == (True, "<p>正文</p>")
    assert catalog.asset("https://voa.test/a.png") == "assets/voa/2024/01/abc.png"
    assert indexes(catalog) == indexes(fresh)
    assert catalog.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    catalog.put(replace(entry, title="新"), None)  # the upsert finds the packed key
    assert catalog.count() == 4 and catalog.get("voa", "a" * 12)[0].title == "新"


def test_a_key_found_twice_keeps_the_last_file_as_put_does(tmp_path: Path):
    first = put_file(tmp_path, "voa", "c" * 12, 1_700_000_000_000, "先")
    last = put_file(tmp_path, "voa", "c" * 12, 1_700_100_000_000, "后")
    by_puts = Catalog(tmp_path / "puts.sqlite")
    by_puts.reindex(tmp_path, sorted([first, last]))
    rebuilt = Catalog(tmp_path / "c.sqlite")
    assert rebuilt.rebuild(tmp_path) == 2
    assert rebuilt.count() == 1 and rebuilt.get("voa", "c" * 12) == by_puts.get("voa", "c" * 12)
    assert rebuilt.get("voa", "c" * 12)[0].path == max(first, last)


def test_a_catalog_of_an_unknown_version_starts_over(tmp_path: Path):
    path = old_catalog(tmp_path / "c.sqlite")
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='99' WHERE name='schema'")
    db.commit()
    db.close()
    catalog = Catalog(path)
    assert catalog.count() == 0 and catalog.get_meta("head") is None
    assert catalog.get_meta("schema") == SCHEMA_VERSION and catalog.feed_bodies() == 0


def test_feed_bodies_are_pruned_to_each_sources_newest(tmp_path: Path):
    catalog = Catalog(tmp_path / "c.sqlite")
    for i in range(5):
        path = f"articles/voa/2024/01/x-{i:012x}.md"
        catalog.put(ArchivedEntry("voa", f"{i:012x}", path, 1_700_000_000_000 + i, "t", "l", "d"))
        catalog.put_feed_body(path, "d", f"<p>{i}</p>")
    catalog.prune_feed_bodies(2)
    assert catalog.feed_bodies() == 2
    assert catalog.feed_body("articles/voa/2024/01/x-000000000004.md", "d") == (True, "<p>4</p>")


def test_changed_since_names_what_differs_from_a_snapshot(tmp_path: Path):
    """What the site's state keeps (path, source, digest of each article it shows) against
    the catalog: new, changed and gone entries, nothing of the unchanged ones."""
    kept, edited, gone = (put_file(tmp_path, "voa", k * 12, 1_700_000_000_000 + i, f"标题{i}")
                          for i, k in enumerate("abc"))
    catalog = Catalog(tmp_path / "c.sqlite")
    catalog.rebuild(tmp_path)
    snapshot = sqlite3.connect(tmp_path / "snapshot.sqlite")
    snapshot.execute("CREATE TABLE seen (path TEXT PRIMARY KEY, slug TEXT, digest TEXT, shard TEXT)")
    snapshot.executemany("INSERT INTO seen VALUES (?, ?, ?, ?)",
                         [(e.path, e.slug, e.digest, e.shard) for e in catalog.entries()])
    snapshot.commit()
    snapshot.close()
    assert catalog.changed_since(tmp_path / "snapshot.sqlite") == ([], [])

    new = put_file(tmp_path, "voa", "d" * 12, 1_700_000_000_010, "新的")
    (tmp_path / edited).write_bytes(render_article(
        Article(1_700_000_000_001, "改过的标题", "https://n.test/b", "<p>y</p>")))
    (tmp_path / gone).unlink()
    catalog.reindex(tmp_path, [new, edited, gone])
    changed, removed = catalog.changed_since(tmp_path / "snapshot.sqlite")
    assert sorted(e.path for e in changed) == sorted([new, edited])
    assert {e.path: e.title for e in changed}[edited] == "改过的标题"
    assert removed == [gone] and kept not in removed
    # the snapshot is only read, and the catalog keeps working afterwards
    assert catalog.count() == 3 and catalog.latest("voa", 1)[0].path == new


def test_a_rebuild_makes_the_rows_reindex_makes_of_each_file(tmp_path: Path):
    """A rebuild reads the files its own way (each folder once, no entry per file): its
    rows equal those of reading each file alone, in every layout and for every file it
    leaves out, a long one read in several pieces included."""
    put_file(tmp_path, "voa", "a" * 12, 1_700_000_000_000, "一")
    long = render_article(Article(1_700_000_001_000, "长", "https://n.test/long", "<p>长</p>" * 30_000))
    assert len(long) > 3 * 65536
    (tmp_path / article_path("voa", 1_700_000_001_000, "长", "b" * 12)).write_bytes(long)
    old = render_article(Article(1_600_000_000_000, "旧", "HTTP://Voa.test/old", "<p>o</p>"))
    (tmp_path / "articles/美国之音").mkdir(parents=True)
    (tmp_path / "articles/美国之音/1048575.md").write_bytes(old)
    (tmp_path / "articles/美国之音/1048574_旧--题.md").write_bytes(old)
    (tmp_path / "articles/美国之音/notes.md").write_bytes(old)  # no layout's name
    (tmp_path / "articles/voa/2023/11/bad-cccccccccccc.md").write_bytes(b"<!--1-->\n[x](y)\n------\n\n\xff\n")
    (tmp_path / "articles/voa/2023/11/half-dddddddddddd.md").write_bytes(b"<!--1-->\n[x](y)\n")
    (tmp_path / "articles/voa/2023/11/empty-eeeeeeeeeeee.md").write_bytes(b"")
    (tmp_path / "articles/voa/2099/1/odd-ffffffffffff.md").parent.mkdir(parents=True)
    (tmp_path / "articles/voa/2099/1/odd-ffffffffffff.md").write_bytes(old)  # not a month folder
    folders = {"美国之音": "voa"}
    every = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "articles").rglob("*.md"))
    by_reads = Catalog(tmp_path / "reads.sqlite", folders)
    by_reads.reindex(tmp_path, every)
    rebuilt = Catalog(tmp_path / "c.sqlite", folders)
    assert rebuilt.rebuild(tmp_path) == 4 and rebuilt.rebuilt == {"": 4}

    def rows(catalog: Catalog) -> list[tuple]:
        return catalog.db.execute("SELECT * FROM articles ORDER BY slug, key").fetchall()
    assert rows(rebuilt) == rows(by_reads) and len(rows(rebuilt)) == 4
    assert {row[8] for row in rows(rebuilt)} == {0, 1, 2}  # every layout
    # A path is kept without its source's folder when it is in it, else whole.
    kept = dict(rebuilt.db.execute("SELECT path, rest FROM articles").fetchall())
    own = article_path("voa", 1_700_000_000_000, "一", "a" * 12)
    assert kept[own] == own.removeprefix("articles/voa/")
    assert kept["articles/美国之音/1048575.md"] == "/articles/美国之音/1048575.md"


def test_every_path_reads_back_as_it_was_put(tmp_path: Path):
    catalog = Catalog(tmp_path / "c.sqlite")
    paths = ["articles/voa/2024/01/x-aaaaaaaaaaaa.md", "articles/voa/articles/y.md", "articles/voa2/z.md",
             "articles/voa", "elsewhere/voa/w.md", "articles/voa//v.md", "/articles/voa/u.md"]
    for i, path in enumerate(paths):
        catalog.put(ArchivedEntry("voa", f"{i:012x}", path, i, "t", "l", "0" * 64))
    assert sorted(e.path for e in catalog.entries()) == sorted(paths)
    assert [catalog.get("voa", f"{i:012x}")[0].path for i in range(len(paths))] == paths
    catalog.forget_path(paths[1])
    assert catalog.get("voa", f"{1:012x}") is None and catalog.count() == len(paths) - 1


def test_shard_counts_follow_the_entries(tmp_path: Path):
    path = put_file(tmp_path, "voa", "a" * 12, 1_700_000_000_000, "一")
    catalog = Catalog(tmp_path / "c.sqlite")
    assert catalog.shard_counts() == {}
    catalog.rebuild(tmp_path, "2027")
    assert catalog.shard_counts() == {"2027": 1}
    entry = catalog.get("voa", "a" * 12)[0]
    catalog.put(ArchivedEntry("voa", "b" * 12, "articles/voa/b.md", 1, "t", "l", "0" * 64))
    assert catalog.shard_counts() == {"2027": 1, "": 1}
    catalog.forget_path(path, "2027")
    assert catalog.shard_counts() == {"": 1} and entry.shard == "2027"
    catalog.rebuild(tmp_path)
    assert catalog.shard_counts() == {"": 1}
