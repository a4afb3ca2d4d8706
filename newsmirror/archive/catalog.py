"""The catalog: a local SQLite cache of what the article files hold.

It is never committed and can always be rebuilt from the article files alone, which is
what happens after a fresh clone. It lets a run decide "new, updated or unchanged" and
build lists without reading every article file.

It owns every table in its file, under one SCHEMA_VERSION: `articles` and `meta`, and
two caches of the stages that use it, `assets` (image address → asset file, see
archive/assets.py) and `feed_bodies` (an article's sanitised body for the feeds, see
publish/feeds.py). One catalog covers the archive's own repository and its shards
(archive/shards.py): each entry names the shard that holds its file. Callers use its
methods, never its connection. A catalog of an older
version is upgraded in place (its entries and caches kept); one of an unknown version,
or a damaged one, starts over and is rebuilt from the files.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import overload

from newsmirror.archive.paths import ARTICLES_DIR
from newsmirror.archive.article import ArticleFormatError, parse_heading
from newsmirror.archive.dbfile import MetaDatabase, start_over
from newsmirror.archive.identity import normalise_link
from newsmirror.archive.legacy import LAYOUTS, NEWSMIRROR, Located, encode_folders, locate, walk_articles
from newsmirror.models import ArchivedEntry

SCHEMA_VERSION = "4"
_ARTICLES = """
CREATE TABLE IF NOT EXISTS articles (
    slug TEXT NOT NULL,
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    published_ms INTEGER NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    digest BLOB NOT NULL,
    feed_digest BLOB,
    layout INTEGER NOT NULL DEFAULT 0,
    guid TEXT,
    old_link TEXT,
    path_id INTEGER NOT NULL,
    shard TEXT NOT NULL DEFAULT ''
);
"""
"""Version 4, made to stay small (issue 16): a digest is kept as its 32 bytes (see
_pack_digest), the layout as its place in legacy.LAYOUTS (0, newsmirror's own, takes no
bytes), a path is found by `path_id` (see _path_id: an 8-byte index instead of one that
repeats every path), and an entry of newsmirror's own layout keeps no GUID (only old files
are looked up by theirs). `shard` names the yearly shard that holds the file
(archive/shards.py; '' for the archive's own repository, which takes no bytes). The table has no key of its own but its rowid, and every index
is made once a rebuild's rows are in (see rebuild)."""
_SCHEMA = _ARTICLES + """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS assets (url TEXT PRIMARY KEY, path TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feed_bodies (path_id INTEGER PRIMARY KEY, digest BLOB NOT NULL, html BLOB);
"""
_KEY_INDEX = ("articles_by_key", "UNIQUE", "articles (slug, key)")
_INDEXES = (
    _KEY_INDEX,
    ("articles_by_path", "", "articles (path_id)"),
    ("articles_by_time", "", "articles (slug, published_ms DESC)"),
    ("articles_by_time_all", "", "articles (published_ms DESC)"),
    ("articles_old_by_link", "", "articles (slug, old_link) WHERE old_link IS NOT NULL"),
    ("articles_old_by_guid", "", "articles (slug, guid) WHERE guid IS NOT NULL"),
)
"""Every index on articles: (name, UNIQUE or not, what it indexes)."""


def _create_index(index: tuple[str, str, str]) -> str:
    name, unique, on = index
    return f"CREATE {unique} INDEX IF NOT EXISTS {name} ON {on};\n"


_SCHEMA += "".join(map(_create_index, _INDEXES))
_UPGRADE_1 = (
    "ALTER TABLE articles ADD COLUMN layout TEXT NOT NULL DEFAULT 'newsmirror'",
    "ALTER TABLE articles ADD COLUMN guid TEXT",
    "ALTER TABLE articles ADD COLUMN old_link TEXT",
)
"""Version 1 to 2: every entry of a version-1 catalog is of newsmirror's own layout."""
_LAYOUT_CODE = " ".join(f"WHEN '{name}' THEN {code}" for code, name in enumerate(LAYOUTS))
_UPGRADE_TO_4 = (
    "ALTER TABLE articles RENAME TO articles_3",
    _ARTICLES,
    "INSERT INTO articles SELECT slug, key, path, published_ms, title, link, pack_digest(digest), "
    f"pack_digest(feed_digest), CASE layout {_LAYOUT_CODE} ELSE 0 END, "
    f"CASE layout WHEN '{NEWSMIRROR}' THEN NULL ELSE guid END, old_link, path_id(path), '' "
    "FROM articles_3 ORDER BY rowid",
    "DROP TABLE articles_3",
    "ALTER TABLE meta RENAME TO meta_3",
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "INSERT INTO meta SELECT name, value FROM meta_3",
    "DROP TABLE meta_3",
)
"""Versions 2 and 3 to 4, the entries kept (the indexes are made afterwards). Version 2
had the assets and feed_bodies tables too, made by their users when first needed, with
the columns of version 3: _UPGRADE_CACHES_TO_4 carries over those that exist."""
_UPGRADE_CACHES_TO_4 = {
    "assets": (
        "ALTER TABLE assets RENAME TO assets_3",
        "CREATE TABLE assets (url TEXT PRIMARY KEY, path TEXT NOT NULL) WITHOUT ROWID",
        "INSERT INTO assets SELECT url, path FROM assets_3",
        "DROP TABLE assets_3",
    ),
    "feed_bodies": (
        "ALTER TABLE feed_bodies RENAME TO feed_bodies_3",
        "CREATE TABLE feed_bodies (path_id INTEGER PRIMARY KEY, digest BLOB NOT NULL, html BLOB)",
        "INSERT OR REPLACE INTO feed_bodies SELECT path_id(path), pack_digest(digest), pack_body(html) "
        "FROM feed_bodies_3",
        "DROP TABLE feed_bodies_3",
    ),
}
_COLUMNS = "slug, key, path, published_ms, title, link, digest, shard"
"""The columns of an ArchivedEntry, in its order."""
_FIELDS = len(_COLUMNS.split(","))
_INSERT = ("INSERT INTO articles (slug, key, path, published_ms, title, link, digest, feed_digest, "
           "layout, guid, old_link, path_id, shard) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
_UPSERT = (
    f"{_INSERT} ON CONFLICT (slug, key) DO UPDATE SET "
    "path=excluded.path, published_ms=excluded.published_ms, title=excluded.title, "
    "link=excluded.link, digest=excluded.digest, feed_digest=excluded.feed_digest, "
    "layout=excluded.layout, guid=COALESCE(excluded.guid, guid), old_link=excluded.old_link, "
    "path_id=excluded.path_id, shard=excluded.shard")


def _path_id(path: str) -> int:
    """The number a path is found by: its first 8 bytes of BLAKE2b, signed as SQLite's
    integers are. Two paths may share one (at 300,000 paths, about 1 in 400 million), so
    a lookup by path asks for both the number and the path."""
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def _pack_digest(digest: str | None) -> bytes | str | None:
    """A digest as the catalog keeps it: a SHA-256 in hex as its 32 bytes, anything else
    (the feed digest's PAGE_PENDING, say) as it is; _unpack_digest undoes it."""
    if digest is not None and len(digest) == 64:
        try:
            packed = bytes.fromhex(digest)
        except ValueError:
            return digest
        if packed.hex() == digest:
            return packed
    return digest


@overload
def _unpack_digest(digest: bytes | str) -> str: ...
@overload
def _unpack_digest(digest: None) -> None: ...
def _unpack_digest(digest: bytes | str | None) -> str | None:
    return digest.hex() if isinstance(digest, bytes) else digest


_HEX_DIGEST = "CASE WHEN typeof(a.digest) = 'blob' THEN lower(hex(a.digest)) ELSE a.digest END"
"""SQL for an entry's digest as text, as _unpack_digest gives it (`a`: the articles table)."""


def _pack_body(html: str | None) -> bytes | None:
    """A feed body as the catalog keeps it: UTF-8, deflated at zlib's fastest level (HTML
    shrinks to about 40%, and the levels above it gain a few percent for 40% more time)."""
    return None if html is None else zlib.compress(html.encode("utf-8"), 1)


def _unpack_body(data: bytes | None) -> str | None:
    return None if data is None else zlib.decompress(data).decode("utf-8")


def _entry(row: tuple) -> ArchivedEntry:
    """The entry of a row that starts with _COLUMNS."""
    return ArchivedEntry(row[0], row[1], row[2], row[3], row[4], row[5], _unpack_digest(row[6]), row[7])


def _row(entry: ArchivedEntry, where: Located | None, feed_digest: str | None,
         guid: str | None) -> tuple:
    """The values of _INSERT for an entry found at `where` (locate() of its path)."""
    layout = where.layout if where is not None else NEWSMIRROR
    if layout == NEWSMIRROR:
        # Only an old file is looked up by its GUID (find_old) or its link as browsers write it.
        return (entry.slug, entry.key, entry.path, entry.published_ms, entry.title, entry.link,
                _pack_digest(entry.digest), _pack_digest(feed_digest), 0, None, None,
                _path_id(entry.path), entry.shard)
    # An old file's link as a browser writes it, which is how feed items are looked up:
    # an older mirror may have written it as the feed gave it.
    old_link = normalise_link(entry.link) or entry.link
    return (entry.slug, entry.key, entry.path, entry.published_ms, entry.title, entry.link,
            _pack_digest(entry.digest), _pack_digest(feed_digest), LAYOUTS.index(layout), guid,
            old_link, _path_id(entry.path), entry.shard)


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
        published_ms, title, link = parse_heading(data, name=relpath)
    except ArticleFormatError as err:
        return None, str(err).removeprefix(f"{relpath}: ")
    except OSError as err:
        return None, f"cannot be read: {err.strerror or err}"
    return ArchivedEntry(
        slug=where.slug,
        key=where.key,
        path=relpath,
        published_ms=published_ms,
        title=title,
        link=link,
        digest=digest_bytes(data),
    ), None


def entry_from_file(root: Path, relpath: str, folders: Mapping[str, str] | None = None
                    ) -> ArchivedEntry | None:
    """Read one article file into a catalog entry; None when it is not an article file."""
    return read_entry(root, relpath, folders)[0]


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    # A cache that can always be rebuilt: a crash of the process still leaves it whole
    # (the journal is written), only a crash of the machine might not.
    db.execute("PRAGMA synchronous=OFF")
    return db


def _upgrade(db: sqlite3.Connection, version: str, tables: set[str]) -> None:
    """Bring a catalog of version 1, 2 or 3 to this one in place, entries and caches kept,
    in one transaction; then let the file shrink to what it now holds."""
    db.create_function("pack_digest", 1, _pack_digest, deterministic=True)
    db.create_function("path_id", 1, _path_id, deterministic=True)
    db.create_function("pack_body", 1, _pack_body, deterministic=True)
    steps = [*(_UPGRADE_1 if version == "1" else ()), *_UPGRADE_TO_4]
    for table, upgrade in _UPGRADE_CACHES_TO_4.items():
        if table in tables:
            steps += upgrade
    # Statement by statement: executescript() would commit half-way.
    steps += [statement for statement in _SCHEMA.split(";") if statement.strip()]
    steps.append(f"INSERT OR REPLACE INTO meta VALUES ('schema', '{SCHEMA_VERSION}')")
    db.execute("BEGIN")
    try:
        for step in steps:
            db.execute(step)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    db.execute("VACUUM")


class Catalog(MetaDatabase):
    def __init__(self, path: Path, folders: Mapping[str, str] | None = None):
        self.path = path
        self.folders = dict(folders or {})
        """Old article folders that belong to a source of another slug (folder -> slug)."""
        self.rebuilt: int | None = None
        """How many files the last rebuild() read, when this instance did one."""
        self._old_files: bool | None = None
        """Whether an entry may be an old-layout file (None: not asked yet). Without one,
        find_old has nothing to find: a cold run then asks nothing for each new item."""
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
            db = _connect(self.path)
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
            found = db.execute("SELECT value FROM meta WHERE name='schema'").fetchone() if "meta" in tables else None
            version = found[0] if found else None
            if version in ("1", "2", "3"):
                _upgrade(db, version, tables)
            elif version != SCHEMA_VERSION and (version is not None or tables):
                raise sqlite3.DatabaseError(f"unknown schema {version}")
            db.executescript(_SCHEMA)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            return db
        except sqlite3.DatabaseError:
            # A cache: when it is damaged or outdated, start over; rebuild() refills it.
            try:
                db.close()
            except UnboundLocalError:
                pass
            return start_over(self.path, _SCHEMA, ("schema", SCHEMA_VERSION), _connect)

    # -- entries ------------------------------------------------------------------------
    def get(self, slug: str, key: str) -> tuple[ArchivedEntry, str | None] | None:
        """The entry and the digest of the feed item it was last written from."""
        row = self.db.execute(
            f"SELECT {_COLUMNS}, feed_digest FROM articles WHERE slug=? AND key=?", (slug, key)
        ).fetchone()
        return (_entry(row), _unpack_digest(row[_FIELDS])) if row else None

    def put(self, entry: ArchivedEntry, feed_digest: str | None = None, *,
            guid: str | None = None) -> None:
        """Record an entry. `guid`: the feed's GUID for the item, when it is known (an old
        file is found by it, as by its link); an entry keeps the GUID it had otherwise."""
        self.db.execute("DELETE FROM articles WHERE path_id=? AND path=? AND NOT (slug=? AND key=?)",
                        (_path_id(entry.path), entry.path, entry.slug, entry.key))
        row = _row(entry, self.locate(entry.path), feed_digest, guid)
        if row[8] != 0:  # not newsmirror's own layout (legacy.LAYOUTS[0])
            self._old_files = True
        self.db.execute(_UPSERT, row)

    def find_old(self, slug: str, link: str, guid: str | None = None
                 ) -> tuple[ArchivedEntry, str | None] | None:
        """The old-layout file (archive/legacy.py) of a feed item that has no entry of
        newsmirror's own: by the GUID it was last seen with, else by its link. When several
        old files hold the link, the newest (by stamp, then path) stands for them. `link` is
        normalised (identity.normalise_link), and so is the returned entry's link, so that
        it compares with the item's as newsmirror's own entries do."""
        if self._old_files is None:
            # Every old file's entry has an old_link (_row): its partial index answers this.
            self._old_files = self.db.execute(
                "SELECT 1 FROM articles WHERE old_link IS NOT NULL LIMIT 1").fetchone() is not None
        if not self._old_files:
            return None
        rows = []
        if guid:
            rows = self.db.execute(
                f"SELECT {_COLUMNS}, feed_digest, old_link FROM articles WHERE slug=? AND guid=? "
                "AND layout != 0 ORDER BY published_ms DESC, path LIMIT 1",
                (slug, guid)).fetchall()
        if not rows:
            rows = self.db.execute(
                f"SELECT {_COLUMNS}, feed_digest, old_link FROM articles WHERE slug=? AND old_link=? "
                "ORDER BY published_ms DESC, path LIMIT 1",
                (slug, link)).fetchall()
        if not rows:
            return None
        entry = _entry(rows[0])
        return replace(entry, link=rows[0][_FIELDS + 1] or entry.link), _unpack_digest(rows[0][_FIELDS])

    def forget_path(self, path: str, shard: str = "") -> None:
        self.db.execute("DELETE FROM articles WHERE path_id=? AND path=? AND shard=?",
                        (_path_id(path), path, shard))

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
        return [_entry(row) for row in rows]

    def entries(self, slug: str | None = None, *, shard: str | None = None) -> Iterator[ArchivedEntry]:
        """Every entry (of the source `slug`; of the repository `shard`, '' the archive's own)."""
        query = f"SELECT {_COLUMNS} FROM articles"
        tests, values = [], []
        if slug:
            tests.append("slug=?")
            values.append(slug)
        if shard is not None:
            tests.append("shard=?")
            values.append(shard)
        if tests:
            query += " WHERE " + " AND ".join(tests)
        for row in self.db.execute(query, values):
            yield _entry(row)

    def changed_since(self, snapshot: Path, shard: str | None = None) -> tuple[list[ArchivedEntry], list[str]]:
        """How the catalog differs from `snapshot`, a SQLite file whose table
        `seen (path PRIMARY KEY, slug, digest, shard)` says what something derived from it
        (the reading site) was made from: the entries new since or changed (another
        digest, source or shard), and the paths `seen` has that the catalog no longer has
        (`shard`: counting only the entries that repository holds, as a shard's own site
        does). Both are joins on indexed paths inside SQLite, so an hour with a few
        changes costs no Python per archived article."""
        held, args = ("", ()) if shard is None else (" AND a.shard = ?", (shard,))
        self.db.execute("ATTACH DATABASE ? AS snapshot", (str(snapshot),))
        try:
            rows = self.db.execute(
                f"SELECT {', '.join('a.' + c for c in _COLUMNS.split(', '))} FROM articles a "
                "LEFT JOIN snapshot.seen s ON s.path = a.path "
                f"WHERE (s.path IS NULL OR s.digest != {_HEX_DIGEST} OR s.slug != a.slug "
                f"OR s.shard != a.shard){held}", args).fetchall()
            # NOT IN: SQLite makes one index of the catalog's paths for it (articles has
            # none on path itself, only on path_id).
            gone = self.db.execute(
                "SELECT path FROM snapshot.seen WHERE path NOT IN (SELECT path FROM articles a"
                f"{held.replace(' AND', ' WHERE', 1)})", args).fetchall()
        finally:
            self.db.execute("DETACH DATABASE snapshot")
        return [_entry(row) for row in rows], [path for (path,) in gone]

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
        """(found, html): the body kept for the file at `path` while it has `digest`.
        Bodies are kept by path_id alone: two paths that share one take turns, and the
        digest tells them apart."""
        row = self.db.execute("SELECT digest, html FROM feed_bodies WHERE path_id=?",
                              (_path_id(path),)).fetchone()
        return (True, _unpack_body(row[1])) if row and row[0] == _pack_digest(digest) else (False, None)

    def put_feed_body(self, path: str, digest: str, html: str | None) -> None:
        self.db.execute("INSERT OR REPLACE INTO feed_bodies VALUES (?, ?, ?)",
                        (_path_id(path), _pack_digest(digest), _pack_body(html)))

    def feed_bodies(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM feed_bodies").fetchone()[0]

    def prune_feed_bodies(self, newest: int) -> None:
        """Forget the bodies of all but each source's `newest` articles."""
        self.db.execute(
            "DELETE FROM feed_bodies WHERE path_id NOT IN (SELECT path_id FROM (SELECT path_id, "
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
        Every index is dropped first and made again once the rows are in: the rows stream
        into SQLite in the order of the walk, and a sort per index is much cheaper than
        growing it row by row. The table is empty and each path comes once, so put()'s
        clean-up of a moved path has nothing to do; a key found twice (in two folders of
        one source) keeps the last file, as put() does. `shard`: the shard whose repository
        is at `root`; only its entries are forgotten and read."""
        own = not self.db.in_transaction
        if own:
            self.begin()
        for name, _unique, _on in _INDEXES:
            self.db.execute(f"DROP INDEX IF EXISTS {name}")
        self.db.execute("DELETE FROM articles WHERE shard=?", (shard,))
        count = 0

        def rows() -> Iterator[tuple]:
            nonlocal count
            for relpath in walk_articles(root):
                where = self.locate(relpath)
                if where is None:
                    continue
                entry = read_entry(root, relpath, self.folders, where=where)[0]
                if entry is not None:
                    count += 1
                    yield _row(replace(entry, shard=shard) if shard else entry, where, None, None)

        self.db.executemany(_INSERT, rows())
        try:
            self.db.execute(_create_index(_KEY_INDEX))
        except sqlite3.IntegrityError:
            self.db.execute("DELETE FROM articles WHERE rowid NOT IN "
                            "(SELECT MAX(rowid) FROM articles GROUP BY slug, key)")
            self.db.execute(_create_index(_KEY_INDEX))
        for index in _INDEXES:
            self.db.execute(_create_index(index))
        self.set_meta("folders", encode_folders(self.folders))
        if own:
            self.commit()
        self.rebuilt = count
        self._old_files = None  # asked again when find_old is first called
        return count
