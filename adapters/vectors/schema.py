"""The disk vector store's SQLite file: its layout, its upgrades, and how it is opened.

As the state store's schema: `PRAGMA user_version` is the schema version, and an upgrade runs
in the transaction that records the new version, so a crash mid-upgrade leaves the old one.

- version 1: `collections(cid, name, dim, metric, generation)`; `records(key, cid, id, text,
  metadata, vector)`, `key` being the HNSW key (AUTOINCREMENT: never reused), metadata JSON,
  vector float32 bytes. `generation` moves on with every committed change of a collection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from llmspell.runtime.errors import ErrorCode, LLMSpellError

CURRENT = 1
V1 = (
    "CREATE TABLE collections (cid INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL "
    "UNIQUE, dim INTEGER NOT NULL, metric TEXT NOT NULL, generation INTEGER NOT NULL)",
    "CREATE TABLE records (key INTEGER PRIMARY KEY AUTOINCREMENT, cid INTEGER NOT NULL, "
    "id TEXT NOT NULL, text TEXT NOT NULL, metadata TEXT NOT NULL, vector BLOB NOT NULL, "
    "UNIQUE (cid, id))",
)
FILE = "vectors.db"


def connect(folder: Path, busy_timeout: float) -> sqlite3.Connection:
    """The store's file in `folder` (both created if missing), in WAL mode, upgraded; in
    autocommit mode, so transactions are explicit (`transaction`)."""
    folder.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        folder / FILE, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # committed survives a kill, as state's
        migrate(conn, folder)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (take the write lock first, so no reader is upgraded mid-way) ... COMMIT,
    or ROLLBACK on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, where: Path) -> None:
    """Create the layout in an empty file; refuse a newer or foreign one."""
    if version(conn) == CURRENT:
        return
    with transaction(conn):
        found = version(conn)  # another process may have created it meanwhile
        if found > CURRENT:
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"vector store {where}: schema version {found} is newer than this llmspell "
                f"knows ({CURRENT}); upgrade llmspell",
            )
        if found == 0:
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise LLMSpellError(
                    ErrorCode.UNAVAILABLE, f"vector store {where}: not an llmspell vector file"
                )
            for statement in V1:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {CURRENT}")
