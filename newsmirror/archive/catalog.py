"""The catalog: a local SQLite cache of what the article files hold.

It is never committed and can always be rebuilt from the article files alone, which is
what happens after a fresh clone. It lets a run decide "new, updated or unchanged" and
build lists without reading every article file.

It owns every table in its file, under one SCHEMA_VERSION: `articles` and `meta`, and
two caches of the stages that use it, `assets` (image address → asset file, see
archive/assets.py) and `feed_bodies` (an article's sanitised body for the feeds, see
publish/feeds.py). One catalog covers the archive's own repository and its shards
(archive/shards.py): each entry names the shard that holds its file. Callers use its methods, never its connection. A catalog of an older
version is upgraded in place (its entries and caches kept); one of an unknown version,
or a damaged one, starts over and is rebuilt from the files.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from newsmirror.archive.paths import ARTICLES_DIR
from newsmirror.archive.article import ArticleFormatError, parse_article
from newsmirror.archive.dbfile import MetaDatabase
from newsmirror.archive.identity import normalise_link
from newsmirror.archive.legacy import NEWSMIRROR, Located, encode_folders, locate, walk_articles
from newsmirror.models import ArchivedEntry

SCHEMA_VERSION = "4"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    slug TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    published_ms INTEGER NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    digest TEXT NOT NULL,
    feed_digest TEXT,
    layout TEXT NOT NULL DEFAULT 'newsmirror',
    guid TEXT,
    old_link TEXT,
    shard TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (slug, key)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TIME_INDEXES = {
    "articles_by_time": "articles (slug, published_ms DESC)",
    "articles_by_time_all": "articles (published_ms DESC)",
}
_OLD_INDEXES = {
    "articles_old_by_link": "articles (slug, old_link) WHERE old_link IS NOT NULL",
    "articles_old_by_guid": "articles (slug, guid) WHERE guid IS NOT NULL",
}
"""The indexes on articles besides its keys; the old-layout ones need version 2's columns."""
_ALL_INDEXES = _TIME_INDEXES | _OLD_INDEXES


def _create_indexes(indexes: dict[str, str]) -> str:
    return "".join(f"CREATE INDEX IF NOT EXISTS {name} ON {on};\n" for name, on in indexes.items())


_SCHEMA += _create_indexes(_TIME_INDEXES)
_SCHEMA_2 = _create_indexes(_OLD_INDEXES)
_SCHEMA_3 = """
CREATE TABLE IF NOT EXISTS assets (url TEXT PRIMARY KEY, path TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feed_bodies (path TEXT PRIMARY KEY, digest TEXT NOT NULL, html TEXT);
"""
"""Version 2 had these tables too, made by their users when first needed, with the same
columns: upgrading to 3 only makes them where they are missing."""
_UPGRADE_1 = """
ALTER TABLE articles ADD COLUMN layout TEXT NOT NULL DEFAULT 'newsmirror';
ALTER TABLE articles ADD COLUMN guid TEXT;
ALTER TABLE articles ADD COLUMN old_link TEXT;
"""
_UPGRADE_3 = "ALTER TABLE articles ADD COLUMN shard TEXT NOT NULL DEFAULT '';"
"""Version 4 knows which shard repository holds each file (archive/shards.py)."""
_COLUMNS = "slug, key, path, published_ms, title, link, digest, shard"
"""The columns of an ArchivedEntry, in its order."""
_FIELDS = len(_COLUMNS.split(","))
_UPSERT = (
    f"INSERT INTO articles ({_COLUMNS}, feed_digest, layout, guid, old_link) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (slug, key) DO UPDATE SET "
    "path=excluded.path, published_ms=excluded.published_ms, title=excluded.title, "
    "link=excluded.link, digest=excluded.digest, shard=excluded.shard, feed_digest=excluded.feed_digest, "
    "layout=excluded.layout, guid=COALESCE(excluded.guid, guid), old_link=excluded.old_link")
_BATCH = 2000
"""Rows a rebuild hands SQLite at once."""


def _row(entry: ArchivedEntry, where: Located | None, feed_digest: str | None,
         guid: str | None) -> tuple:
    """The values of _UPSERT for an entry found at `where` (locate() of its path)."""
    layout = where.layout if where is not None else NEWSMIRROR
    # An old file's link as a browser writes it, which is how feed items are looked up:
    # an older mirror may have written it as the feed gave it.
    old_link = None if layout == NEWSMIRROR else (normalise_link(entry.link) or entry.link)
    return (entry.slug, entry.key, entry.path, entry.published_ms, entry.title, entry.link,
            entry.digest, entry.shard, feed_digest, layout, guid, old_link)


@dataclass(frozen=True)
class SourceStats:
    articles: int
    newest_ms: int | None


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_entry(root: Path, relpath: str, folders: Mapping[str, str] | None = None, *,
               where: Located | None = None) -> tuple[ArchivedEntry | None, str | None]:
    """Read one file under articles/ into a catalog entry, in any layout newsmirror knows
    (see archive/legacy.py); else None and why (None: not an article file at all).
    `where`: what locate() said of `relpath`, when the caller already asked."""
    where = where or locate(relpath, folders)
    if where is None:
        return None, None
    try:
        # A plain open: a Path per file costs a rebuild more than parsing its heading.
        with open(f"{root}/{relpath}", "rb") as file:
            data = file.read()
        article = parse_article(data, name=relpath)
    except ArticleFormatError as err:
        return None, str(err).removeprefix(f"{relpath}: ")
    except OSError as err:
        return None, f"cannot be read: {err.strerror or err}"
    return ArchivedEntry(
        slug=where.slug,
        key=where.key,
        path=relpath,
        published_ms=article.published_ms,
        title=article.title,
        link=article.link,
        digest=digest_bytes(data),
    ), None


def entry_from_file(root: Path, relpath: str, folders: Mapping[str, str] | None = None
                    ) -> ArchivedEntry | None:
    """Read one article file into a catalog entry; None when it is not an article file."""
    return read_entry(root, relpath, folders)[0]


class Catalog(MetaDatabase):
    def __init__(self, path: Path, folders: Mapping[str, str] | None = None):
        self.path = path
        self.folders = dict(folders or {})
        """Old article folders that belong to a source of another slug (folder -> slug)."""
        self.rebuilt: int | None = None
        """How many files the last rebuild() read, when this instance did one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._open()
        if self.get_meta("folders") != encode_folders(self.folders):
            # Files were cataloged under other sources: forget the commit seen, so that
            # opening the store reads every file again.
            self.set_meta("head", None)

    def locate(self, relpath: str):
        """The layout, source and key of an archive path under this catalog's folder map."""
        return locate(relpath, self.folders)

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
            db.executescript(_SCHEMA)
            found = db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            if found and found[0] == "1":
                # Every entry of a version-1 catalog is of newsmirror's own layout.
                db.executescript(_UPGRADE_1)
            elif found and found[0] not in ("2", "3", SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"unknown schema {found[0]}")
            if found and found[0] != SCHEMA_VERSION:
                db.executescript(_UPGRADE_3)  # every file of an older one is the archive's own
            db.executescript(_SCHEMA_2 + _SCHEMA_3)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            return db
        except sqlite3.DatabaseError:
            # A cache: when it is damaged or outdated, start over; rebuild() refills it.
            try:
                db.close()
            except UnboundLocalError:
                pass
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None)
            db.executescript(_SCHEMA + _SCHEMA_2 + _SCHEMA_3)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            return db

    # -- entries ------------------------------------------------------------------------
    def get(self, slug: str, key: str) -> tuple[ArchivedEntry, str | None] | None:
        """The entry and the digest of the feed item it was last written from."""
        row = self.db.execute(
            f"SELECT {_COLUMNS}, feed_digest FROM articles WHERE slug=? AND key=?", (slug, key)
        ).fetchone()
        return (ArchivedEntry(*row[:_FIELDS]), row[_FIELDS]) if row else None

    def put(self, entry: ArchivedEntry, feed_digest: str | None = None, *,
            guid: str | None = None) -> None:
        """Record an entry. `guid`: the feed's GUID for the item, when it is known (an old
        file is found by it, as by its link); an entry keeps the GUID it had otherwise."""
        self.db.execute("DELETE FROM articles WHERE path=? AND NOT (slug=? AND key=?)",
                        (entry.path, entry.slug, entry.key))
        self.db.execute(_UPSERT, _row(entry, self.locate(entry.path), feed_digest, guid))

    def find_old(self, slug: str, link: str, guid: str | None = None
                 ) -> tuple[ArchivedEntry, str | None] | None:
        """The old-layout file (archive/legacy.py) of a feed item that has no entry of
        newsmirror's own: by the GUID it was last seen with, else by its link. When several
        old files hold the link, the newest (by stamp, then path) stands for them. `link` is
        normalised (identity.normalise_link), and so is the returned entry's link, so that
        it compares with the item's as newsmirror's own entries do."""
        rows = []
        if guid:
            rows = self.db.execute(
                f"SELECT {_COLUMNS}, feed_digest, old_link FROM articles WHERE slug=? AND guid=? "
                "AND layout != 'newsmirror' ORDER BY published_ms DESC, path LIMIT 1",
                (slug, guid)).fetchall()
        if not rows:
            rows = self.db.execute(
                f"SELECT {_COLUMNS}, feed_digest, old_link FROM articles WHERE slug=? AND old_link=? "
                "ORDER BY published_ms DESC, path LIMIT 1",
                (slug, link)).fetchall()
        if not rows:
            return None
        entry = ArchivedEntry(*rows[0][:_FIELDS])
        return replace(entry, link=rows[0][_FIELDS + 1] or entry.link), rows[0][_FIELDS]

    def forget_path(self, path: str, shard: str = "") -> None:
        self.db.execute("DELETE FROM articles WHERE path=? AND shard=?", (path, shard))

    def latest(self, slug: str | None, limit: int) -> list[ArchivedEntry]:
        """Newest first (ties broken by path, so the order is stable)."""
        if slug is None:
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM articles ORDER BY published_ms DESC, path DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM articles WHERE slug=? "
                "ORDER BY published_ms DESC, path DESC LIMIT ?",
                (slug, limit),
            )
        return [ArchivedEntry(*row) for row in rows]

    def entries(self, slug: str | None = None) -> Iterator[ArchivedEntry]:
        query = f"SELECT {_COLUMNS} FROM articles"
        rows = self.db.execute(query + " WHERE slug=?", (slug,)) if slug else self.db.execute(query)
        for row in rows:
            yield ArchivedEntry(*row)

    def changed_since(self, snapshot: Path) -> tuple[list[ArchivedEntry], list[str]]:
        """How the catalog differs from `snapshot`, a SQLite file whose table
        `seen (path PRIMARY KEY, slug, digest, shard)` says what something derived from it
        (the reading site) was made from: the entries new since or changed (another
        digest, source or shard), and the paths `seen` has that the catalog no longer has. Both are joins
        on indexed paths inside SQLite, so an hour with a few changes costs no Python
        per archived article."""
        self.db.execute("ATTACH DATABASE ? AS snapshot", (str(snapshot),))
        try:
            rows = self.db.execute(
                f"SELECT {', '.join('a.' + c for c in _COLUMNS.split(', '))} FROM articles a "
                "LEFT JOIN snapshot.seen s ON s.path = a.path "
                "WHERE s.path IS NULL OR s.digest != a.digest OR s.slug != a.slug "
                "OR s.shard != a.shard").fetchall()
            gone = self.db.execute(
                "SELECT s.path FROM snapshot.seen s WHERE NOT EXISTS "
                "(SELECT 1 FROM articles a WHERE a.path = s.path)").fetchall()
        finally:
            self.db.execute("DETACH DATABASE snapshot")
        return [ArchivedEntry(*row) for row in rows], [path for (path,) in gone]

    def first_with_link(self, link: str) -> tuple[str, str] | None:
        """(path, title) of an entry whose link is exactly `link` (the first by path)."""
        row = self.db.execute(
            "SELECT path, title FROM articles WHERE link=? ORDER BY path LIMIT 1", (link,)).fetchone()
        return (row[0], row[1]) if row else None

    def stats(self) -> dict[str, SourceStats]:
        rows = self.db.execute("SELECT slug, COUNT(*), MAX(published_ms) FROM articles GROUP BY slug")
        return {slug: SourceStats(count, newest) for slug, count, newest in rows}

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    def shard_counts(self) -> dict[str, int]:
        """Articles per repository: '' for the archive's own, else each shard's."""
        return dict(self.db.execute("SELECT shard, COUNT(*) FROM articles GROUP BY shard").fetchall())

    # -- assets: image address -> asset file (archive/assets.py) ------------------------
    def asset(self, url: str) -> str | None:
        """The asset path the image at `url` was last downloaded to (the file may be gone)."""
        row = self.db.execute("SELECT path FROM assets WHERE url=?", (url,)).fetchone()
        return row[0] if row else None

    def put_asset(self, url: str, path: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO assets (url, path) VALUES (?, ?)", (url, path))

    # -- feed bodies: an article's sanitised body by file digest (publish/feeds.py) ------
    def feed_body(self, path: str, digest: str) -> tuple[bool, str | None]:
        """(found, html): the body kept for the file at `path` while it has `digest`."""
        row = self.db.execute("SELECT digest, html FROM feed_bodies WHERE path=?", (path,)).fetchone()
        return (True, row[1]) if row and row[0] == digest else (False, None)

    def put_feed_body(self, path: str, digest: str, html: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO feed_bodies VALUES (?, ?, ?)", (path, digest, html))

    def feed_bodies(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM feed_bodies").fetchone()[0]

    def prune_feed_bodies(self, newest: int) -> None:
        """Forget the bodies of all but each source's `newest` articles."""
        self.db.execute(
            "DELETE FROM feed_bodies WHERE path NOT IN (SELECT path FROM (SELECT path, "
            "ROW_NUMBER() OVER (PARTITION BY slug ORDER BY published_ms DESC, path DESC) AS n "
            "FROM articles) WHERE n <= ?)", (newest,))

    # -- keeping in step with the files -------------------------------------------------
    def reindex(self, root: Path, relpaths: Iterable[str], shard: str = "") -> int:
        """Bring the entries for these paths in line with the files of the repository at
        `root` (the archive's own, or the shard `shard`'s)."""
        done = 0
        for relpath in relpaths:
            if not relpath.startswith(f"{ARTICLES_DIR}/") or not relpath.endswith(".md"):
                continue
            if (root / relpath).is_file():
                entry = entry_from_file(root, relpath, self.folders)
                if entry is None:
                    self.forget_path(relpath, shard)
                    continue
                entry = replace(entry, shard=shard)
                current = self.get(entry.slug, entry.key)
                if current and current[0] == entry:
                    continue
                self.put(entry, None)
            else:
                self.forget_path(relpath, shard)
            done += 1
        return done

    def rebuild(self, root: Path, shard: str = "") -> int:
        """Forget everything and read every article file again, in one transaction (the
        caller's, else its own): a rebuild that stops half-way leaves the catalog it had.
        The indexes besides the keys are dropped first and made again once the rows are
        in, and the rows go to SQLite in batches sorted by key (each path located once);
        the table is empty and each path comes once, so put()'s clean-up of a moved path
        has nothing to do (a key found twice keeps the last file, as put() does: the sort
        is stable and a batch never spans a key's two folders out of order). `shard`: the
        shard whose repository is at `root`; only its entries are forgotten and read."""
        own = not self.db.in_transaction
        if own:
            self.begin()
        for name in _ALL_INDEXES:
            self.db.execute(f"DROP INDEX IF EXISTS {name}")
        self.db.execute("DELETE FROM articles WHERE shard=?", (shard,))
        count = 0
        rows: list[tuple] = []
        folder = None
        for relpath in walk_articles(root):
            where = self.locate(relpath)
            if where is None:
                continue
            if where.folder != folder or len(rows) >= _BATCH:
                self._insert_sorted(rows)
                folder = where.folder
            entry = read_entry(root, relpath, self.folders, where=where)[0]
            if entry is not None:
                rows.append(_row(replace(entry, shard=shard), where, None, None))
                count += 1
        self._insert_sorted(rows)
        for name, on in _ALL_INDEXES.items():
            self.db.execute(f"CREATE INDEX {name} ON {on}")
        self.set_meta("folders", encode_folders(self.folders))
        if own:
            self.commit()
        self.rebuilt = count
        return count

    def _insert_sorted(self, rows: list[tuple]) -> None:
        """Hand `rows` (_row()'s) to SQLite in key order, then forget them."""
        rows.sort(key=lambda row: (row[0], row[1]))
        self.db.executemany(_UPSERT, rows)
        rows.clear()
