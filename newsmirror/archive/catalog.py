"""The catalog: a local SQLite cache of what the article files hold.

It is never committed and can always be rebuilt from the article files alone, which is
what happens after a fresh clone. It lets a run decide "new, updated or unchanged" and
build lists without reading every article file.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from newsmirror.archive.article import ArticleFormatError, parse_article
from newsmirror.archive.paths import key_from_path, slug_from_path
from newsmirror.models import ArchivedEntry

SCHEMA_VERSION = "1"
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
    PRIMARY KEY (slug, key)
);
CREATE INDEX IF NOT EXISTS articles_by_time ON articles (slug, published_ms DESC);
CREATE INDEX IF NOT EXISTS articles_by_time_all ON articles (published_ms DESC);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = "slug, key, path, published_ms, title, link, digest"


@dataclass(frozen=True)
class SourceStats:
    articles: int
    newest_ms: int | None


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry_from_file(root: Path, relpath: str) -> ArchivedEntry | None:
    """Read one article file into a catalog entry; None when it is not an article file."""
    slug, key = slug_from_path(relpath), key_from_path(relpath)
    if not slug or not key:
        return None
    data = (root / relpath).read_bytes()
    try:
        article = parse_article(data, name=relpath)
    except ArticleFormatError:
        return None
    return ArchivedEntry(
        slug=slug,
        key=key,
        path=relpath,
        published_ms=article.published_ms,
        title=article.title,
        link=article.link,
        digest=digest_bytes(data),
    )


class Catalog:
    def __init__(self, path: Path):
        self.path = path
        self.rebuilt: int | None = None
        """How many files the last rebuild() read, when this instance did one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
            db.executescript(_SCHEMA)
            found = db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            if found and found[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError("old schema")
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
            db.executescript(_SCHEMA)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            return db

    def close(self) -> None:
        self.db.close()

    # -- transactions -------------------------------------------------------------------
    def begin(self) -> None:
        self.db.execute("BEGIN")

    def commit(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------
    def get_meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE name=?", (name,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))

    # -- entries ------------------------------------------------------------------------
    def get(self, slug: str, key: str) -> tuple[ArchivedEntry, str | None] | None:
        """The entry and the digest of the feed item it was last written from."""
        row = self.db.execute(
            f"SELECT {_COLUMNS}, feed_digest FROM articles WHERE slug=? AND key=?", (slug, key)
        ).fetchone()
        return (ArchivedEntry(*row[:7]), row[7]) if row else None

    def put(self, entry: ArchivedEntry, feed_digest: str | None = None) -> None:
        self.db.execute("DELETE FROM articles WHERE path=? AND NOT (slug=? AND key=?)",
                        (entry.path, entry.slug, entry.key))
        self.db.execute(
            f"INSERT OR REPLACE INTO articles ({_COLUMNS}, feed_digest) VALUES (?,?,?,?,?,?,?,?)",
            (entry.slug, entry.key, entry.path, entry.published_ms, entry.title, entry.link,
             entry.digest, feed_digest),
        )

    def forget_path(self, path: str) -> None:
        self.db.execute("DELETE FROM articles WHERE path=?", (path,))

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

    def stats(self) -> dict[str, SourceStats]:
        rows = self.db.execute("SELECT slug, COUNT(*), MAX(published_ms) FROM articles GROUP BY slug")
        return {slug: SourceStats(count, newest) for slug, count, newest in rows}

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]

    # -- keeping in step with the files -------------------------------------------------
    def reindex(self, root: Path, relpaths: Iterable[str]) -> int:
        """Bring the entries for these archive-relative paths in line with the files."""
        done = 0
        for relpath in relpaths:
            if not relpath.startswith("articles/") or not relpath.endswith(".md"):
                continue
            if (root / relpath).is_file():
                entry = entry_from_file(root, relpath)
                if entry is None:
                    self.forget_path(relpath)
                    continue
                current = self.get(entry.slug, entry.key)
                if current and current[0].digest == entry.digest and current[0].path == relpath:
                    continue
                self.put(entry, None)
            else:
                self.forget_path(relpath)
            done += 1
        return done

    def rebuild(self, root: Path) -> int:
        """Forget everything and read every article file again."""
        self.db.execute("DELETE FROM articles")
        articles = root / "articles"
        count = 0
        if not articles.is_dir():
            return 0
        for dirpath, _dirs, files in os.walk(articles):
            for name in files:
                if not name.endswith(".md"):
                    continue
                relpath = Path(dirpath, name).relative_to(root).as_posix()
                entry = entry_from_file(root, relpath)
                if entry is not None:
                    self.put(entry, None)
                    count += 1
        self.rebuilt = count
        return count
