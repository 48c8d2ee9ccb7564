"""`SqliteStateStore`: the state port on one SQLite file in WAL mode.

Every SQLite call runs on one worker thread that owns the connection, so the event loop never
blocks and calls reach the file in the order they were made. A write returns once it is
committed: with WAL and `synchronous=NORMAL` (the default) a committed write survives the
process being killed; `synchronous="FULL"` also survives power loss, at some cost per write.

`update` holds a per-key asyncio lock while the updater runs (callers in this process queue),
and writes with a compare-and-swap transaction, so a write from another process (the CLI
while the gateway runs) between the read and the write makes it read again, never lose one.
Expired keys are invisible at once and deleted lazily (on a read of the key, and in a sweep at
most once a minute).
"""

from __future__ import annotations

import asyncio
import copy
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.state import Entry, KeyLocks, Updater, check_value, expiry

from . import codec, schema

T = TypeVar("T")
SWEEP_EVERY = 60.0
"""Seconds between sweeps of expired keys."""
MAX_SWAPS = 100
"""Attempts of one `update` that other processes keep overtaking before it gives up."""
_LIVE = "(expires_at IS NULL OR expires_at > ?)"


class SqliteStateStore:
    """Opened (created, upgraded) on first use, or by `open()` to see a bad file at start."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self._synchronous = synchronous
        self._busy_timeout = busy_timeout
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="llmspell-state")
        self._conn: sqlite3.Connection | None = None
        self._locks = KeyLocks()
        self._closed = False
        self._next_sweep = 0.0

    # -- the worker thread -------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self._synchronous}")
                schema.migrate(conn, str(self.path))
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        conn = self._connection()
        now = time.time()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY
            conn.execute("DELETE FROM state WHERE expires_at <= ?", (now,))
        return fn(conn, now, *args)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"state store {self.path} is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker, partial(self._call, fn, *args))
        except sqlite3.Error as exc:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"state store {self.path}: {exc}") from exc

    # -- the port --------------------------------------------------------------------------------

    async def open(self) -> None:
        """Create or upgrade the file now, so a broken one is reported at start."""
        await self._run(_nothing)

    async def get(self, scope: str, key: str) -> Any:
        text = await self._run(_read, scope, key)
        return None if text is None else codec.decode(text)

    async def set(self, scope: str, key: str, value: Any, ttl: float | None = None) -> None:
        check_value(key, value)
        await self._run(_write, scope, key, codec.encode(value), expiry(ttl))

    async def delete(self, scope: str, key: str) -> bool:
        return await self._run(_delete, scope, key)

    async def keys(self, scope: str, prefix: str = "") -> list[str]:
        return await self._run(_keys, scope, prefix)

    async def update(self, scope: str, key: str, fn: Updater, ttl: float | None = None) -> Any:
        async with self._locks.hold(scope, key):
            for _ in range(MAX_SWAPS):
                old = await self._run(_read, scope, key)
                value = await fn(None if old is None else codec.decode(old))
                check_value(key, value)
                if await self._run(_swap, scope, key, old, codec.encode(value), expiry(ttl)):
                    return copy.deepcopy(value)
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"state key {key!r}: other writers changed it {MAX_SWAPS} times during update",
        )

    async def scopes(self) -> list[str]:
        return await self._run(_scopes)

    async def export(self, scope: str | None = None) -> list[Entry]:
        rows = await self._run(_export, scope)
        return [Entry(s, k, codec.decode(text), exp) for s, k, text, exp in rows]

    async def import_(self, entries: list[Entry]) -> int:
        """All or nothing, in one transaction."""
        for e in entries:
            check_value(e.key, e.value)
        rows = [(e.scope, e.key, codec.encode(e.value), e.expires_at) for e in entries]
        await self._run(_import, rows)
        return len(rows)

    async def aclose(self) -> None:
        """Waits for the calls already made, then closes the file; later calls are refused."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker, self._close)
        finally:
            self._worker.shutdown(wait=False)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- backup and restore ----------------------------------------------------------------------

    async def backup(self, target: str | Path) -> None:
        """A consistent copy of the store at `target`, taken with SQLite's online backup in
        one step on a connection of its own, so writers (this store, another process) go on
        meanwhile. The copy appears at `target` only when complete."""
        await self.open()
        try:
            await asyncio.to_thread(_backup_file, self.path, Path(target))
        except sqlite3.Error as exc:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"backup to {target}: {exc}") from exc

    async def restore(self, source: str | Path) -> None:
        """Replace everything in the store with the backup at `source` (upgraded if older)."""
        source = Path(source)
        if not source.is_file():
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"no backup file at {source}")
        await self._run(_restore_from, source)


async def restore(source: str | Path, path: str | Path) -> None:
    """Restore the store at `path` (created if missing) from the backup at `source`."""
    store = SqliteStateStore(path)
    try:
        await store.restore(source)
    finally:
        await store.aclose()


# -- what the worker thread runs: (connection, now, *args) ------------------------------------


def _nothing(conn: sqlite3.Connection, now: float) -> None:
    return None


def _read(conn: sqlite3.Connection, now: float, scope: str, key: str) -> str | None:
    row = conn.execute(
        "SELECT value, expires_at FROM state WHERE scope = ? AND key = ?", (scope, key)
    ).fetchone()
    if row is None:
        return None
    if row[1] is not None and row[1] <= now:
        conn.execute(
            "DELETE FROM state WHERE scope = ? AND key = ? AND expires_at <= ?", (scope, key, now)
        )
        return None
    return str(row[0])


def _write(
    conn: sqlite3.Connection, now: float, scope: str, key: str, text: str, expires: float | None
) -> None:
    conn.execute("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?)", (scope, key, text, expires))


def _delete(conn: sqlite3.Connection, now: float, scope: str, key: str) -> bool:
    live = conn.execute(
        f"DELETE FROM state WHERE scope = ? AND key = ? AND {_LIVE}", (scope, key, now)
    ).rowcount
    if not live:
        conn.execute("DELETE FROM state WHERE scope = ? AND key = ?", (scope, key))
    return live > 0


def _keys(conn: sqlite3.Connection, now: float, scope: str, prefix: str) -> list[str]:
    """Keys with `prefix` are one run in key order (SQLite's BINARY order is code point order,
    as Python's), so the scan starts at the prefix and stops at the first key past it."""
    found = []
    for (key,) in conn.execute(
        f"SELECT key FROM state WHERE scope = ? AND key >= ? AND {_LIVE} ORDER BY key",
        (scope, prefix, now),
    ):
        if not key.startswith(prefix):
            break
        found.append(key)
    return found


def _swap(
    conn: sqlite3.Connection,
    now: float,
    scope: str,
    key: str,
    old: str | None,
    text: str,
    expires: float | None,
) -> bool:
    """Write `text` if the live value is still `old`; False (nothing written) if not."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _read(conn, now, scope, key) != old:
            conn.execute("ROLLBACK")
            return False
        _write(conn, now, scope, key, text, expires)
        conn.execute("COMMIT")
        return True
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _scopes(conn: sqlite3.Connection, now: float) -> list[str]:
    rows = conn.execute(f"SELECT DISTINCT scope FROM state WHERE {_LIVE} ORDER BY scope", (now,))
    return [scope for (scope,) in rows]


def _export(
    conn: sqlite3.Connection, now: float, scope: str | None
) -> list[tuple[str, str, str, float | None]]:
    if scope is None:
        return list(conn.execute(f"SELECT * FROM state WHERE {_LIVE} ORDER BY scope, key", (now,)))
    sql = f"SELECT * FROM state WHERE scope = ? AND {_LIVE} ORDER BY key"
    return list(conn.execute(sql, (scope, now)))


def _import(
    conn: sqlite3.Connection, now: float, rows: list[tuple[str, str, str, float | None]]
) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _backup_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial_copy = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial_copy.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=10.0)
    try:
        dst = sqlite3.connect(partial_copy)
        try:
            src.backup(dst)  # pages=-1: one step, one read transaction: one snapshot
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial_copy, target)


def _restore_from(conn: sqlite3.Connection, now: float, source: Path) -> None:
    src = sqlite3.connect(source, timeout=10.0)
    try:
        checked = src.execute("PRAGMA quick_check").fetchone()[0]
        if checked != "ok":
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"{source} is damaged: {checked}")
        found = schema.version(src)
        if not 0 < found <= schema.CURRENT:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"{source} is not an llmspell state backup (schema version {found})",
            )
        src.backup(conn)
    finally:
        src.close()
    conn.execute("PRAGMA journal_mode=WAL")
    schema.migrate(conn, str(source))
