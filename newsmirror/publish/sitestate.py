"""What a built reading site was made from, kept next to it (`.newsmirror-site.db`, a
SQLite file that is never published), so that a rebuild reads and writes only what an
hour changed, however large the archive:

* ``seen``: every article the site shows, as the catalog had it (path, source, key, time,
  title, digest, the shard holding its file), with its search id (``doc``) and the digest its index entry was made
  from (``indexed``). The catalog compares itself with this table (Catalog.changed_since)
  to name what is new, changed or gone since the last build. A digest of '' means the
  article failed to build: the catalog's differs, so the next build tries it again.
  ``indexed`` is NULL for an article not in the search index, 0 for one whose index
  entry was made from an older digest (or from its title alone), 1 when it is current.
* ``files``: every file the site holds and the key of what it was made from, so an
  unchanged page is not rendered again and a file of an earlier build that no longer
  belongs is removed (never any file this table does not list).
* ``meta``: the format, the key of what every page shares, the search index's version
  and its next id.

A state that cannot be read, or of another format, is started over: the build is then
a full one. A build changes the state in one transaction, committed when it ends, so a
build that is killed leaves the state of the one before (whose diff is then redone).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsmirror.archive.dbfile import MetaDatabase, start_over
from newsmirror.models import ArchivedEntry

STATE = ".newsmirror-site.db"
STATE_FORMAT = "1"
LEGACY_MANIFEST = ".newsmirror-site.json"
"""The one JSON file of every generated file that builds before the state kept."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (
    path TEXT PRIMARY KEY,
    slug TEXT NOT NULL,
    key TEXT NOT NULL,
    published_ms INTEGER NOT NULL,
    title TEXT NOT NULL,
    digest TEXT NOT NULL,
    shard TEXT NOT NULL,
    doc INTEGER,
    indexed INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_by_source ON seen (slug, published_ms, path);
CREATE INDEX IF NOT EXISTS seen_by_time ON seen (published_ms, path);
CREATE INDEX IF NOT EXISTS seen_by_doc ON seen (doc);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID;
"""
_ENTRY = "slug, key, path, published_ms, title, '', digest, shard"
"""An ArchivedEntry's columns from `seen` (the site never needs the link)."""


def _entries(rows: Iterable[tuple]) -> list[ArchivedEntry]:
    return [ArchivedEntry(*row) for row in rows]


class SiteState(MetaDatabase):
    def __init__(self, path: Path):
        self.path = path
        self.fresh = False
        """True when nothing was known of an earlier build (a full build)."""
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
            db.executescript(_SCHEMA)
            found = db.execute("SELECT value FROM meta WHERE name='format'").fetchone()
            if found and found[0] == STATE_FORMAT:
                return db
            db.close()
        except sqlite3.DatabaseError:
            pass
        self.fresh = True
        return start_over(self.path, _SCHEMA, ("format", STATE_FORMAT),
                          lambda path: sqlite3.connect(path, isolation_level=None))

    # -- the articles shown -------------------------------------------------------------
    def seen(self, path: str) -> tuple[ArchivedEntry, int | None] | None:
        """The entry as the last build showed it, and its search id."""
        row = self.db.execute(f"SELECT {_ENTRY}, doc FROM seen WHERE path=?", (path,)).fetchone()
        return (ArchivedEntry(*row[:8]), row[8]) if row else None

    def put_seen(self, entry: ArchivedEntry) -> None:
        """Record `entry` as shown, keeping its search id and what its index entry was
        made from."""
        self.db.execute(
            "INSERT INTO seen (path, slug, key, published_ms, title, digest, shard) "
            "VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT (path) DO UPDATE SET slug=excluded.slug, key=excluded.key, "
            "shard=excluded.shard, "
            "published_ms=excluded.published_ms, title=excluded.title, digest=excluded.digest, "
            "indexed=CASE WHEN seen.digest = excluded.digest AND seen.slug = excluded.slug "
            "THEN seen.indexed WHEN seen.indexed IS NULL THEN NULL ELSE 0 END",
            (entry.path, entry.slug, entry.key, entry.published_ms, entry.title, entry.digest,
             entry.shard))

    def forget_seen(self, path: str) -> None:
        self.db.execute("DELETE FROM seen WHERE path=?", (path,))

    def retry(self, paths: Iterable[str]) -> None:
        """Articles that failed to build: the next build finds them changed."""
        self.db.executemany("UPDATE seen SET digest='', indexed=CASE WHEN indexed IS NULL "
                            "THEN NULL ELSE 0 END WHERE path=?",
                            ((p,) for p in paths))

    def every_seen(self) -> Iterator[ArchivedEntry]:
        for row in self.db.execute(f"SELECT {_ENTRY} FROM seen ORDER BY path"):
            yield ArchivedEntry(*row)

    def sources(self) -> dict[str, tuple[int, int]]:
        """slug -> (articles, newest time) of every source shown."""
        rows = self.db.execute("SELECT slug, COUNT(*), MAX(published_ms) FROM seen GROUP BY slug")
        return {slug: (count, newest) for slug, count, newest in rows}

    def latest(self, slug: str | None, limit: int) -> list[ArchivedEntry]:
        """Newest first, ties broken by path (the order of the pages)."""
        if slug is None:
            return _entries(self.db.execute(
                f"SELECT {_ENTRY} FROM seen ORDER BY published_ms DESC, path DESC LIMIT ?",
                (limit,)))
        return _entries(self.db.execute(
            f"SELECT {_ENTRY} FROM seen WHERE slug=? ORDER BY published_ms DESC, path DESC "
            "LIMIT ?", (slug, limit)))

    def times(self, slug: str) -> list[int]:
        """The times of a source's articles, oldest first (the order of its pages)."""
        rows = self.db.execute(
            "SELECT published_ms FROM seen WHERE slug=? ORDER BY published_ms, path", (slug,))
        return [t for (t,) in rows]

    def position(self, slug: str, published_ms: int, path: str) -> int:
        """How many of the source's articles come before (published_ms, path)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM seen WHERE slug=? AND (published_ms < ? OR "
            "(published_ms = ? AND path < ?))", (slug, published_ms, published_ms, path)).fetchone()[0]

    def oldest_first(self, slug: str, offset: int) -> list[ArchivedEntry]:
        return _entries(self.db.execute(
            f"SELECT {_ENTRY} FROM seen WHERE slug=? ORDER BY published_ms, path "
            "LIMIT -1 OFFSET ?", (slug, offset)))

    # -- search ids ---------------------------------------------------------------------
    def forget_search(self) -> None:
        self.db.execute("UPDATE seen SET doc=NULL, indexed=NULL")

    def unnumbered(self, limit: int, after: tuple[int, str] | None = None,
                   elsewhere: Iterable[str] = ()) -> list[tuple[int, str]]:
        """(time, path) of up to `limit` articles without a search id, oldest first, from
        after the (time, path) `after` (so a full build numbers them batch by batch), but
        none a shard in `elsewhere` holds (their own sites index them)."""
        away = _not_in("shard", elsewhere)
        if after is None:
            rows = self.db.execute(f"SELECT published_ms, path FROM seen WHERE doc IS NULL{away.sql} "
                                   "ORDER BY published_ms, path LIMIT ?", (*away.args, limit))
        else:
            rows = self.db.execute(f"SELECT published_ms, path FROM seen WHERE doc IS NULL{away.sql} AND "
                                   "(published_ms, path) > (?, ?) ORDER BY published_ms, path "
                                   "LIMIT ?", (*away.args, *after, limit))
        return rows.fetchall()

    def number(self, numbered: Iterable[tuple[int, str]]) -> None:
        self.db.executemany("UPDATE seen SET doc=? WHERE path=?", numbered)

    def to_index(self, paths: Iterable[str] | None) -> Iterator[tuple[int, ArchivedEntry, bool]]:
        """(id, entry, indexed before) of the articles among `paths` (None: all) with a
        search id whose index entry was not made from their digest, by id."""
        query = (f"SELECT doc, {_ENTRY}, indexed IS NOT NULL FROM seen "
                 "WHERE indexed IS NOT 1 AND doc IS NOT NULL")
        if paths is None:
            rows: Iterable[tuple] = self.db.execute(query + " ORDER BY doc")
        else:
            rows = sorted(row for path in paths
                          for row in self.db.execute(query + " AND path=?", (path,)))
        for row in rows:
            yield row[0], ArchivedEntry(*row[1:9]), bool(row[9])

    def indexed(self, done: Iterable[tuple[str, bool]]) -> None:
        """(path, current) of the articles just indexed: current when from their body,
        not when from their title alone (the body could not be read)."""
        self.db.executemany("UPDATE seen SET indexed=? WHERE path=?",
                            ((int(current), path) for path, current in done))

    # -- files --------------------------------------------------------------------------
    def file_key(self, path: str) -> str | None:
        row = self.db.execute("SELECT key FROM files WHERE path=?", (path,)).fetchone()
        return row[0] if row else None

    def put_file(self, path: str, key: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?)", (path, key))

    def forget_file(self, path: str) -> None:
        self.db.execute("DELETE FROM files WHERE path=?", (path,))

    def files_under(self, folder: str) -> list[str]:
        """The paths recorded under `folder` ('…/'), by path."""
        end = folder[:-1] + chr(ord(folder[-1]) + 1)
        rows = self.db.execute("SELECT path FROM files WHERE path >= ? AND path < ? ORDER BY path",
                               (folder, end))
        return [p for (p,) in rows]

    def file_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM files").fetchone()[0]


@dataclass(frozen=True)
class _Clause:
    sql: str
    args: tuple[str, ...]


def _not_in(column: str, values: Iterable[str]) -> _Clause:
    """` AND column NOT IN (?, …)` with its arguments; nothing for no values."""
    listed = tuple(values)
    if not listed:
        return _Clause("", ())
    return _Clause(f" AND {column} NOT IN ({', '.join('?' * len(listed))})", listed)
