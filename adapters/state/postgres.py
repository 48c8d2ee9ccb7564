"""`PostgresStateStore`: the state port on PostgreSQL (asyncpg), for replicas sharing one store.

The same table as SQLite's version 2 (scope, key, tagged-JSON value, expiry), the same codec and
the same behaviour suite. Keys sort in code-point order (`COLLATE "C"`), as Python's and SQLite's
do, so `keys(prefix)` is one index range. `update` is compare-and-swap, like SQLite's: read, run
the updater with no transaction open, then write only if the row is still what was read (a row
lock on an existing key, `ON CONFLICT DO NOTHING` on a new one), else read again. So a slow
updater never holds a lock, and a write from another replica is never lost.

The schema version lives in `llmspell_schema`; creating or upgrading it takes a transaction-level
advisory lock, so replicas starting together upgrade it once.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import TYPE_CHECKING, Any

from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.state import Entry, KeyLocks, Updater, check_value, expiry

from . import codec

if TYPE_CHECKING:
    import asyncpg

CURRENT = 2
"""The layout's version: 2, as the SQLite file's whose table it mirrors."""
SCHEMA = (
    'CREATE TABLE llmspell_state (scope TEXT COLLATE "C" NOT NULL, '
    'key TEXT COLLATE "C" NOT NULL, value TEXT NOT NULL, expires_at DOUBLE PRECISION, '
    "PRIMARY KEY (scope, key))",
    "CREATE INDEX llmspell_state_expiry ON llmspell_state (expires_at) "
    "WHERE expires_at IS NOT NULL",
)
LOCK = 0x6C6C6D73  # "llms": the advisory lock that serialises schema set-up across replicas
SWEEP_EVERY = 60.0
MAX_SWAPS = 100
_LIVE = "(expires_at IS NULL OR expires_at > $3)"


class PostgresStateStore:
    """A pool opened on first use (or by `open()`, to see a bad URL or server at start)."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 8) -> None:
        self.url = url
        self._sizes = (min_size, max_size)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._locks = KeyLocks()
        self._closed = False
        self._next_sweep = 0.0

    @property
    def where(self) -> str:
        return shown(self.url)

    async def _ready(self) -> asyncpg.Pool:
        if self._closed:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"state store {self.where} is closed")
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._pool is None:
                self._pool = await self._connect()
        return self._pool

    async def _connect(self) -> asyncpg.Pool:
        try:
            import asyncpg
        except ImportError:
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                "a PostgreSQL state store needs asyncpg: pip install 'llmspell[db]'",
            ) from None
        low, high = self._sizes
        try:
            pool = await asyncpg.create_pool(self.url, min_size=low, max_size=high)
        except (OSError, asyncpg.PostgresError, ValueError) as exc:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"state store {self.where}: {exc}") from exc
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
                await _migrate(conn, self.where)
        except BaseException:
            await pool.close()
            raise
        return pool

    async def _sweep(self, conn: Any, now: float) -> None:
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY
            await conn.execute("DELETE FROM llmspell_state WHERE expires_at <= $1", now)

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        pool = await self._ready()
        try:
            async with pool.acquire() as conn:
                await self._sweep(conn, time.time())
                return list(await conn.fetch(sql, *args))
        except _errors() as exc:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"state store {self.where}: {exc}") from exc

    async def _execute(self, sql: str, *args: Any) -> str:
        pool = await self._ready()
        try:
            return str(await pool.execute(sql, *args))
        except _errors() as exc:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"state store {self.where}: {exc}") from exc

    # -- the port --------------------------------------------------------------------------------

    async def open(self) -> None:
        await self._ready()

    async def get(self, scope: str, key: str) -> Any:
        text = await self._read(scope, key)
        return None if text is None else codec.decode(text)

    async def _read(self, scope: str, key: str) -> str | None:
        rows = await self._fetch(
            f"SELECT value FROM llmspell_state WHERE scope = $1 AND key = $2 AND {_LIVE}",
            scope,
            key,
            time.time(),
        )
        return str(rows[0][0]) if rows else None

    async def set(self, scope: str, key: str, value: Any, ttl: float | None = None) -> None:
        check_value(key, value)
        await self._execute(
            "INSERT INTO llmspell_state VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) "
            "DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
            scope,
            key,
            codec.encode(value),
            expiry(ttl),
        )

    async def delete(self, scope: str, key: str) -> bool:
        rows = await self._fetch(
            "DELETE FROM llmspell_state WHERE scope = $1 AND key = $2 "
            "RETURNING (expires_at IS NULL OR expires_at > $3)",
            scope,
            key,
            time.time(),
        )
        return bool(rows and rows[0][0])

    async def keys(self, scope: str, prefix: str = "") -> list[str]:
        rows = await self._fetch(
            f"SELECT key FROM llmspell_state WHERE scope = $1 AND starts_with(key, $2) "
            f"AND {_LIVE} ORDER BY key",
            scope,
            prefix,
            time.time(),
        )
        return [row[0] for row in rows]

    async def update(self, scope: str, key: str, fn: Updater, ttl: float | None = None) -> Any:
        async with self._locks.hold(scope, key):
            for _ in range(MAX_SWAPS):
                old = await self._read(scope, key)
                value = await fn(None if old is None else codec.decode(old))
                check_value(key, value)
                if await self._swap(scope, key, old, codec.encode(value), expiry(ttl)):
                    return copy.deepcopy(value)
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"state key {key!r}: other writers changed it {MAX_SWAPS} times during update",
        )

    async def _swap(
        self, scope: str, key: str, old: str | None, text: str, expires: float | None
    ) -> bool:
        """Write `text` if the live value is still `old`; False (nothing written) if not."""
        pool = await self._ready()
        now = time.time()
        try:
            async with pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    "SELECT value, expires_at FROM llmspell_state "
                    "WHERE scope = $1 AND key = $2 FOR UPDATE",
                    scope,
                    key,
                )
                live = row is not None and (row[1] is None or row[1] > now)
                if (row[0] if live else None) != old:
                    return False
                if row is None:
                    done = await conn.execute(
                        "INSERT INTO llmspell_state VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                        scope,
                        key,
                        text,
                        expires,
                    )
                    return bool(done.endswith(" 1"))  # "INSERT 0 1": no one else inserted it
                await conn.execute(
                    "UPDATE llmspell_state SET value = $3, expires_at = $4 "
                    "WHERE scope = $1 AND key = $2",
                    scope,
                    key,
                    text,
                    expires,
                )
                return True
        except _errors() as exc:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"state store {self.where}: {exc}") from exc

    async def scopes(self) -> list[str]:
        rows = await self._fetch(
            "SELECT DISTINCT scope FROM llmspell_state "
            "WHERE expires_at IS NULL OR expires_at > $1 ORDER BY scope",
            time.time(),
        )
        return [row[0] for row in rows]

    async def export(self, scope: str | None = None) -> list[Entry]:
        now = time.time()
        if scope is None:
            rows = await self._fetch(
                "SELECT scope, key, value, expires_at FROM llmspell_state "
                "WHERE expires_at IS NULL OR expires_at > $1 ORDER BY scope, key",
                now,
            )
        else:
            rows = await self._fetch(
                "SELECT scope, key, value, expires_at FROM llmspell_state "
                "WHERE scope = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY key",
                scope,
                now,
            )
        return [Entry(s, k, codec.decode(text), exp) for s, k, text, exp in rows]

    async def import_(self, entries: list[Entry]) -> int:
        """All or nothing, in one transaction."""
        for e in entries:
            check_value(e.key, e.value)
        rows = [(e.scope, e.key, codec.encode(e.value), e.expires_at) for e in entries]
        pool = await self._ready()
        try:
            async with pool.acquire() as conn, conn.transaction():
                await conn.executemany(
                    "INSERT INTO llmspell_state VALUES ($1, $2, $3, $4) ON CONFLICT (scope, key) "
                    "DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
                    rows,
                )
        except _errors() as exc:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"state store {self.where}: {exc}") from exc
        return len(rows)

    async def aclose(self) -> None:
        """Waits for the calls in flight (the pool's graceful close); later calls are refused."""
        if self._closed:
            return
        self._closed = True
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def shown(url: str) -> str:
    """A database URL without its password, for messages and logs."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, credentials = head.partition("://")
    return f"{scheme}://{credentials.partition(':')[0]}@{tail}"


async def _migrate(conn: Any, where: str) -> None:
    """Create the layout in an empty database, or refuse a newer one. Runs under the advisory
    lock, inside the caller's transaction."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS llmspell_schema "
        "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)"
    )
    found = await conn.fetchval("SELECT version FROM llmspell_schema WHERE name = 'state'")
    if found == CURRENT:
        return
    if found is not None and found > CURRENT:
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"state store {where}: schema version {found} is newer than this llmspell knows "
            f"({CURRENT}); upgrade llmspell",
        )
    for statement in SCHEMA:
        await conn.execute(statement)
    await conn.execute("INSERT INTO llmspell_schema VALUES ('state', $1)", CURRENT)


def _errors() -> tuple[type[BaseException], ...]:
    """What a lost server or a refused statement raises (asyncpg is imported by then)."""
    import asyncpg

    return (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
