"""A SQLite file of newsmirror's own (the catalog, the site's state): one connection in
autocommit mode, explicit transactions, and a `meta` table of named values."""

from __future__ import annotations

import sqlite3


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
