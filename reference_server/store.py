"""SQLite storage: one connection, one lock, the schema.

The reference server is a single process, so one ``sqlite3`` connection
shared by every thread (``check_same_thread=False``) and guarded by a lock
is all it needs: each call below runs under the lock, which also makes each
single statement (notably the conditional ``UPDATE``s that enforce
single-use refresh tokens and TOTP steps) atomic with respect to the others.

Parts own their SQL; this module owns the connection and the tables.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS organizations (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id                   TEXT PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE,   -- lower-cased
    organization_id      TEXT NOT NULL REFERENCES organizations(id),
    password_hash        TEXT NOT NULL,          -- Argon2id, PHC string
    totp_secret          TEXT,                   -- set = 2FA is on
    totp_pending_secret  TEXT,                   -- from setup, until enable
    totp_last_step       INTEGER                 -- last accepted TOTP time step
);
CREATE TABLE IF NOT EXISTS api_keys (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    name             TEXT NOT NULL,
    prefix           TEXT NOT NULL,              -- environment prefix + 8 chars
    digest           TEXT NOT NULL UNIQUE,       -- one-way hash of the whole key
    scopes           TEXT NOT NULL,              -- JSON array
    rate_limit       INTEGER NOT NULL,
    expires_at       REAL,                       -- NULL = never
    created_at       REAL NOT NULL,
    created_by       TEXT,
    revoked_at       REAL
);
CREATE TABLE IF NOT EXISTS refresh_families (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    started_at  REAL NOT NULL,                   -- the login that opened it
    revoked_at  REAL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    digest     TEXT PRIMARY KEY,                 -- SHA-256 of the token
    family_id  TEXT NOT NULL REFERENCES refresh_families(id),
    issued_at  REAL NOT NULL,
    used_at    REAL                              -- set once, when rotated
);
CREATE TABLE IF NOT EXISTS projects (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    name             TEXT NOT NULL,
    created_at       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS signing_keys (
    kid              TEXT PRIMARY KEY,
    private_key_pem  TEXT NOT NULL,
    created_at       REAL NOT NULL
);
"""

Params = Sequence[Any] | dict[str, Any]


class Store:
    """The database of one server instance (a file, or ``:memory:``)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path: Path | None = Path(path) if path is not None else None
        target = str(self.path) if self.path is not None else ":memory:"
        # isolation_level=None: autocommit, with explicit BEGIN in transaction().
        self._conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA foreign_keys = ON")
            if self.path is not None:
                # WAL with synchronous=NORMAL: a crash loses at most the last
                # commits, never the file's integrity, and a commit costs no
                # fsync (with the default rollback journal each write cost ~20 ms)
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(SCHEMA)

    def query(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run a SELECT and return every row."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """Run a SELECT and return its first row, if any."""
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one modifying statement atomically; return how many rows it changed."""
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements as one unit: all or nothing, and nobody in between."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path) if self.path else ':memory:'})"
