"""The state file's layout and how an older one is upgraded in place.

`PRAGMA user_version` is the schema version. Each step in `STEPS` turns version N into N+1
inside the same transaction that records the new version, so a crash mid-upgrade leaves the
file at the old version, and two processes opening an old file upgrade it once.

- version 1: `kv(key, value)`: one table, keys `scope NUL key` (a plain key is `global`),
  values plain JSON (no bytes, no expiry).
- version 2: `state(scope, key, value, expires_at)`: scopes and expiry in columns, values in
  the tagged JSON of `codec` (bytes included).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.state import GLOBAL

from . import codec

CURRENT = 2

V1 = "CREATE TABLE kv (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)"
"""The first layout; kept to document what step 1 reads, and to write test fixtures."""

V2 = (
    "CREATE TABLE state (scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
    "expires_at REAL, PRIMARY KEY (scope, key)) WITHOUT ROWID",
    "CREATE INDEX state_expiry ON state (expires_at) WHERE expires_at IS NOT NULL",
)


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    for statement in V2:
        conn.execute(statement)
    rows = []
    for stored_key, text in conn.execute("SELECT key, value FROM kv"):
        scope, sep, key = stored_key.partition("\x00")
        if not sep:
            scope, key = GLOBAL, stored_key
        rows.append((scope, key, codec.encode(json.loads(text)), None))
    conn.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?)", rows)
    conn.execute("DROP TABLE kv")


STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}
"""From version N to N+1."""


def version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, where: str) -> None:
    """Create the current layout in an empty file, or upgrade an older one. `conn` is in
    autocommit mode (isolation_level None)."""
    if version(conn) == CURRENT:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        found = version(conn)  # another process may have upgraded it meanwhile
        if found > CURRENT:
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"state store {where}: schema version {found} is newer than this llmspell "
                f"knows ({CURRENT}); upgrade llmspell",
            )
        if found == 0:
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables:
                raise LLMSpellError(
                    ErrorCode.UNAVAILABLE, f"state store {where}: not an llmspell state file"
                )
            for statement in V2:
                conn.execute(statement)
        else:
            for step in range(found, CURRENT):
                STEPS[step](conn)
        conn.execute(f"PRAGMA user_version = {CURRENT}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
