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
import os
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
from newsmirror.archive.files import read_in
from newsmirror.archive.legacy import (LAYOUTS, NEWSMIRROR, Located, encode_folders, folder_locator, locate,
                                       walk_folders)
from newsmirror.models import ArchivedEntry

SCHEMA_VERSION = "5"
_ARTICLES = f"""
CREATE TABLE IF NOT EXISTS articles (
    slug TEXT NOT NULL,
    key BLOB NOT NULL,
    rest TEXT NOT NULL,
    published_ms INTEGER NOT NULL,
    title TEXT NOT NULL,
    link TEXT NOT NULL,
    digest BLOB NOT NULL,
    feed_digest BLOB,
    layout INTEGER NOT NULL DEFAULT 0,
    guid TEXT,
    old_link TEXT,
    path_id INTEGER NOT NULL,
    shard TEXT NOT NULL DEFAULT '',
    path TEXT GENERATED ALWAYS AS (CASE WHEN substr(rest, 1, 1) = '/' THEN substr(rest, 2)
                                   ELSE '{ARTICLES_DIR}/' || slug || '/' || rest END) VIRTUAL
);
"""
"""Versions 4 and 5, made to stay small (issue 16): a digest is kept as its 32 bytes (see
_pack_digest); since version 5 a key of 12 hex digits as its 6 bytes (_pack_key) and a
path as `rest`, without the `articles/<slug>/` nearly every path starts with (_rest), the
computed column `path` being what every query reads (SQLite keeps no bytes of it); the
layout as its place in legacy.LAYOUTS (0, newsmirror's own, takes no bytes); a path is
found by `path_id` (see _path_id: an 8-byte index instead of one that repeats every path),
and an entry of newsmirror's own layout keeps no GUID (only old files are looked up by
theirs). `shard` names the yearly shard that holds the file (archive/shards.py; '' for the
archive's own repository, which takes no bytes). The table has no key of its own but its
rowid, and every index is made once a rebuild's rows are in (see rebuild)."""
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
_STORED = "slug, key, rest, published_ms, title, link, digest, feed_digest, layout, guid, old_link, path_id, shard"
"""The columns a row is written with (`path` is computed from them)."""
_LAYOUT_CODE = " ".join(f"WHEN '{name}' THEN {code}" for code, name in enumerate(LAYOUTS))
_UPGRADE_3 = (
    "ALTER TABLE articles RENAME TO articles_3",
    _ARTICLES,
    f"INSERT INTO articles ({_STORED}) SELECT slug, pack_key(key), rest(slug, path), published_ms, title, link, "
    "pack_digest(digest), "
    f"pack_digest(feed_digest), CASE layout {_LAYOUT_CODE} ELSE 0 END, "
    f"CASE layout WHEN '{NEWSMIRROR}' THEN NULL ELSE guid END, old_link, path_id(path), '' "
    "FROM articles_3 ORDER BY rowid",
    "DROP TABLE articles_3",
    "ALTER TABLE meta RENAME TO meta_3",
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "INSERT INTO meta SELECT name, value FROM meta_3",
    "DROP TABLE meta_3",
)
"""Versions 2 and 3 to this one, the entries kept (the indexes are made afterwards). Version 2
had the assets and feed_bodies tables too, made by their users when first needed, with
the columns of version 3: _UPGRADE_CACHES_3 carries over those that exist."""
_UPGRADE_CACHES_3 = {
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
_UPGRADE_4 = (
    "ALTER TABLE articles RENAME TO articles_4",
    _ARTICLES,
    f"INSERT INTO articles ({_STORED}) SELECT slug, pack_key(key), rest(slug, path), published_ms, title, link, digest, "
    "feed_digest, layout, guid, old_link, path_id, shard FROM articles_4 ORDER BY rowid",
    "DROP TABLE articles_4",
)
"""Version 4 to 5, where only the keys and paths changed (_pack_key, _rest). Its other
tables are as they are in version 5."""
_COLUMNS = "slug, key, path, published_ms, title, link, digest, shard"
"""The columns of an ArchivedEntry, in its order."""
_FIELDS = len(_COLUMNS.split(","))
_INSERT = f"INSERT INTO articles ({_STORED}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
_UPSERT = (
    f"{_INSERT} ON CONFLICT (slug, key) DO UPDATE SET "
    "rest=excluded.rest, published_ms=excluded.published_ms, title=excluded.title, "
    "link=excluded.link, digest=excluded.digest, feed_digest=excluded.feed_digest, "
    "layout=excluded.layout, guid=COALESCE(excluded.guid, guid), old_link=excluded.old_link, "
    "path_id=excluded.path_id, shard=excluded.shard")


def _path_id(path: str) -> int:
    """The number a path is found by: its first 8 bytes of BLAKE2b, signed as SQLite's
    integers are. Two paths may share one (at 300,000 paths, about 1 in 400 million), so
    a lookup by path asks for both the number and the path."""
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


@overload
def _pack_hex(value: str, digits: int) -> bytes | str: ...
@overload
def _pack_hex(value: None, digits: int) -> None: ...
def _pack_hex(value: str | None, digits: int) -> bytes | str | None:
    """`value` as the catalog keeps it when it is `digits` lowercase hex digits: as their
    bytes, half as many; anything else as it is. _unpack_hex undoes it."""
    if value is not None and len(value) == digits:
        try:
            packed = bytes.fromhex(value)
        except ValueError:
            return value
        if packed.hex() == value:
            return packed
    return value


@overload
def _pack_digest(digest: str) -> bytes | str: ...
@overload
def _pack_digest(digest: None) -> None: ...
def _pack_digest(digest: str | None) -> bytes | str | None:
    """A digest as the catalog keeps it: a SHA-256 in hex as its 32 bytes, anything else
    (the feed digest's PAGE_PENDING, say) as it is."""
    return _pack_hex(digest, 64)


def _pack_key(key: str) -> bytes | str:
    """A key as the catalog keeps it: newsmirror's 12 hex digits (legacy keys too) as their
    6 bytes, any other as it is. It is in the row and in the key index: 12 bytes less per
    entry."""
    return _pack_hex(key, 12)


def _rest(slug: str, path: str) -> str:
    """A path as the catalog keeps it (`rest`): without `articles/<slug>/` when it starts
    so (a file in its source's own folder: nearly all), else whole after a '/', which no
    shortened path starts with. The computed column `path` undoes it."""
    prefix = f"{ARTICLES_DIR}/{slug}/"
    if path.startswith(prefix) and not path.startswith("/", len(prefix)):
        return path[len(prefix):]
    return f"/{path}"


@overload
def _unpack_hex(value: bytes | str) -> str: ...
@overload
def _unpack_hex(value: None) -> None: ...
def _unpack_hex(value: bytes | str | None) -> str | None:
    return value.hex() if isinstance(value, bytes) else value


_HEX_DIGEST = "CASE WHEN typeof(a.digest) = 'blob' THEN lower(hex(a.digest)) ELSE a.digest END"
"""SQL for an entry's digest as text, as _unpack_hex gives it (`a`: the articles table)."""


def _pack_body(html: str | None) -> bytes | None:
    """A feed body as the catalog keeps it: UTF-8, deflated at zlib's fastest level (HTML
    shrinks to about 40%, and the levels above it gain a few percent for 40% more time)."""
    return None if html is None else zlib.compress(html.encode("utf-8"), 1)


def _unpack_body(data: bytes | None) -> str | None:
    return None if data is None else zlib.decompress(data).decode("utf-8")


def _entry(row: tuple) -> ArchivedEntry:
    """The entry of a row that starts with _COLUMNS."""
    return ArchivedEntry(row[0], _unpack_hex(row[1]), row[2], row[3], row[4], row[5], _unpack_hex(row[6]),
                         row[7])


def _row(entry: ArchivedEntry, where: Located | None, feed_digest: str | None,
         guid: str | None) -> tuple:
    """The values of _INSERT for an entry found at `where` (locate() of its path)."""
    return _values(where, entry.slug, entry.key, entry.path, entry.published_ms, entry.title, entry.link,
                   _pack_digest(entry.digest), _pack_digest(feed_digest), guid, entry.shard)


def _values(where: Located | None, slug: str, key: str, path: str, published_ms: int, title: str,
            link: str, digest: bytes | str | None, feed_digest: bytes | str | None, guid: str | None,
            shard: str) -> tuple:
    """The values of _INSERT, the digests packed (_pack_digest; the key and the path are
    packed here, _pack_key and _rest): _row's, and a rebuild's own, which makes no entry of
    each file."""
    layout = where.layout if where is not None else NEWSMIRROR
    if layout == NEWSMIRROR:
        # Only an old file is looked up by its GUID (find_old) or its link as browsers write it.
        return (slug, _pack_key(key), _rest(slug, path), published_ms, title, link, digest, feed_digest, 0,
                None, None, _path_id(path), shard)
    # An old file's link as a browser writes it, which is how feed items are looked up:
    # an older mirror may have written it as the feed gave it.
    old_link = normalise_link(link) or link
    return (slug, _pack_key(key), _rest(slug, path), published_ms, title, link, digest, feed_digest,
            LAYOUTS.index(layout), guid, old_link, _path_id(path), shard)


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
    return ArchivedEntry(where.slug, where.key, relpath, published_ms, title, link, digest_bytes(data)), None


def _read_rows(root: Path, folders: Mapping[str, str], shard: str) -> Iterator[tuple]:
    """The values of _INSERT for every article file under `root`/articles (the shard
    `shard`'s), in the order of walk_articles; the files that cannot be read or are not in
    the format left out, as read_entry leaves them. What a rebuild reads, as read_entry
    reads one file, only cheaper per file: each folder's path is looked at once, its files
    are opened relative to it (read_in), and no entry is made of each."""
    for folder, names in walk_folders(root):
        find = folder_locator(folder, folders)
        found = [(name, where) for name in names if (where := find(name)) is not None]
        if not found:
            continue
        try:
            folder_fd = os.open(f"{root}/{folder}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            for name, where in found:
                relpath = f"{folder}/{name}"
                try:
                    data = read_in(folder_fd, name)
                    published_ms, title, link = parse_heading(data, name=relpath)
                except (ArticleFormatError, OSError):
                    continue
                yield _values(where, where.slug, where.key, relpath, published_ms, title, link,
                              hashlib.sha256(data).digest(), None, None, shard)
        finally:
            os.close(folder_fd)


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
    """Bring a catalog of version 1, 2, 3 or 4 to this one in place, entries and caches kept,
    in one transaction; then let the file shrink to what it now holds."""
    db.create_function("pack_digest", 1, _pack_digest, deterministic=True)
    db.create_function("pack_key", 1, _pack_key, deterministic=True)
    db.create_function("rest", 2, _rest, deterministic=True)
    db.create_function("path_id", 1, _path_id, deterministic=True)
    db.create_function("pack_body", 1, _pack_body, deterministic=True)
    if version == "4":
        steps = list(_UPGRADE_4)
    else:
        steps = [*(_UPGRADE_1 if version == "1" else ()), *_UPGRADE_3]
        for table, upgrade in _UPGRADE_CACHES_3.items():
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
        self.rebuilt: dict[str, int] = {}
        """How many files each rebuild() of this instance read, by shard ('' for the
        archive's own repository): what opening the store and the shards already read."""
        self._old_files: bool | None = None
        """Whether an entry may be an old-layout file (None: not asked yet). Without one,
        find_old has nothing to find: a cold run then asks nothing for each new item."""
        self._shard_counts: dict[str, int] | None = None
        """shard_counts() until the entries next change (None: ask SQLite)."""
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
            if version in ("1", "2", "3", "4"):
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
        return self.get_both(slug, key, key)[0]

    def get_both(self, slug: str, key: str, other: str
                 ) -> tuple[tuple[ArchivedEntry, str | None] | None, tuple[ArchivedEntry, str | None] | None]:
        """`get` of two keys of a source in one query."""
        found = {}
        for row in self.db.execute(f"SELECT {_COLUMNS}, feed_digest FROM articles WHERE slug=? AND key IN (?, ?)",
                                   (slug, _pack_key(key), _pack_key(other))):
            entry = _entry(row)
            found[entry.key] = (entry, _unpack_hex(row[_FIELDS]))
        return found.get(key), found.get(other)

    def put(self, entry: ArchivedEntry, feed_digest: str | None = None, *,
            guid: str | None = None) -> None:
        """Record an entry. `guid`: the feed's GUID for the item, when it is known (an old
        file is found by it, as by its link); an entry keeps the GUID it had otherwise."""
        row = _row(entry, self.locate(entry.path), feed_digest, guid)
        self.db.execute("DELETE FROM articles WHERE path_id=? AND path=? AND NOT (slug=? AND key=?)",
                        (row[11], entry.path, entry.slug, row[1]))  # row[11]: _path_id(entry.path)
        self._shard_counts = None
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
        return replace(entry, link=rows[0][_FIELDS + 1] or entry.link), _unpack_hex(rows[0][_FIELDS])

    def forget_path(self, path: str, shard: str = "") -> None:
        self._shard_counts = None
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
        """Articles per repository: '' for the archive's own, else each shard's. A count of
        the whole table, which a run of a sharded archive asks for up to three times (opening
        the shards, the index, the README): kept until the entries change."""
        if self._shard_counts is None:
            self._shard_counts = dict(self.db.execute(
                "SELECT shard, COUNT(*) FROM articles GROUP BY shard").fetchall())
        return dict(self._shard_counts)

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
        self._shard_counts = None
        self.db.execute("DELETE FROM articles WHERE shard=?", (shard,))
        count = self.db.executemany(_INSERT, _read_rows(root, self.folders, shard)).rowcount
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
        self.rebuilt[shard] = count
        self._old_files = None  # asked again when find_old is first called
        return count
