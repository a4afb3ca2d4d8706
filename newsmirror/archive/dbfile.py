"""A SQLite file of newsmirror's own (the catalog, the site's state): one connection in
autocommit mode, explicit transactions, and a `meta` table of named values."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path


def start_over(path: Path, schema: str, version: tuple[str, str],
               connect: Callable[[Path], sqlite3.Connection]) -> sqlite3.Connection:
    """A new, empty file at `path` (the old one and its journals removed) with `schema`
    made and `version` (name, value) recorded in meta: what a file of ours that is
    damaged or of a version no one can read becomes, since it can be made again."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = connect(path)
    db.executescript(schema)
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", version)
    return db


class MetaDatabase:
    """The connection `db` and its `meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`
    table, which the subclass creates with its schema."""

    db: sqlite3.Connection

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
        """Set a value (None: forget it)."""
        if value is None:
            self.db.execute("DELETE FROM meta WHERE name=?", (name,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, value))


def read_meta(path: Path, name: str) -> str | None:
    """One named value of the `meta` table of the file at `path`, read without opening it
    for writing (no schema made, no upgrade); None when the file or the value is missing
    or the file cannot be read."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return row[0] if row and isinstance(row[0], str) else None
