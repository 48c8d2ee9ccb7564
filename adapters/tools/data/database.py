"""`database-connector`: SQL against databases the operator configured, never ones a call names.

Connections come only from `[tools.database-connector.connections.NAME]`:

    url = "sqlite+aiosqlite:///data/app.db"   # or postgresql+asyncpg://, mysql+aiomysql://
    writable = false                          # the default: reads only, enforced by the database
    max_rows = 1000                           # rows a query returns at most (`truncated` says so)
    password = "..."                          # optional, instead of inside the url

SQL is text with `:name` placeholders bound from `params` (SQLAlchemy `text()`); values are never
formatted into the statement, so a parameter stays a value whatever it holds.

Read-only is enforced by the database, not only by looking at the SQL: a statement that is not
a read (SELECT, WITH, VALUES, SHOW, EXPLAIN...) is refused up front, then SQLite files of
read-only connections are opened with `mode=ro`, PostgreSQL sessions get
`default_transaction_read_only`, MySQL sessions `SET SESSION TRANSACTION READ ONLY`. `query`
runs read-only even on a writable connection (PostgreSQL `SET TRANSACTION READ ONLY`, SQLite
`PRAGMA query_only`, and a rollback at the end); writes go through `execute`. SQLite files must
lie inside the file roots.

Engines are made on first use and kept in a small cache (without pooled connections: see
`Engines`); the credential in a URL never appears in a result or error.
"""

from __future__ import annotations

import contextlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result

from .._common import answer, need, refuse, tool
from ..sandbox.files import Roots
from .yaml_processor import json_safe

if TYPE_CHECKING:
    from sqlalchemy.engine import URL
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

NAME = "database-connector"
DEFAULT_MAX_ROWS = 1000
DEFAULT_TIMEOUT = 30.0
CACHE_SIZE = 8
DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg", "mysql": "aiomysql"}
READS = frozenset({"select", "with", "values", "table", "show", "explain", "describe", "desc"})
_COMMENTS = re.compile(r"\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\(", re.DOTALL)
_WORD = re.compile(r"[A-Za-z]+")
_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")

ANNOTATIONS = Annotations(read_only=False, destructive=True, idempotent=False, open_world=False)
"""`execute` writes (and a DELETE or DROP destroys) on connections configured writable."""


@dataclass(frozen=True, slots=True)
class Connection:
    name: str
    url: URL
    writable: bool
    max_rows: int
    timeout: float
    secrets: tuple[str, ...]
    sqlite_file: Path | None = None

    @property
    def dialect(self) -> str:
        return str(self.url.get_backend_name())


def first_keyword(sql: str) -> str:
    """The statement's first word, lower-cased, past comments, blanks and opening brackets."""
    pos = 0
    while match := _COMMENTS.match(sql, pos):
        pos = match.end()
    word = _WORD.match(sql, pos)
    return word.group(0).lower() if word else ""


def _scrub(message: str, conn: Connection) -> str:
    for secret in conn.secrets:
        if secret:
            message = message.replace(secret, "***")
    return message


def _configure(name: str, raw: Any, roots: Roots) -> Connection:
    """One `[connections.NAME]` table as a Connection (SQLite paths resolved inside the roots)."""
    sa = need("sqlalchemy", "db", NAME)

    def bad(message: str) -> LLMSpellError:
        return LLMSpellError(
            ErrorCode.NOT_CONFIGURED, f"{NAME}: connection {name!r}: {message}", data={"name": name}
        )

    if not isinstance(raw, Mapping) or not isinstance(raw.get("url"), str):
        raise bad("needs a 'url' string")
    try:
        url = sa.engine.make_url(raw["url"])
    except (sa.exc.ArgumentError, ValueError):
        raise bad("'url' is not a database URL") from None
    backend, driver = url.get_backend_name(), url.get_driver_name()
    if DRIVERS.get(backend) != driver:
        wanted = ", ".join(f"{b}+{d}" for b, d in DRIVERS.items())
        raise bad(f"the driver {url.drivername!r} is not supported (use one of {wanted})")
    if raw.get("password"):
        url = url.set(password=str(raw["password"]))
    writable = bool(raw.get("writable", False))
    max_rows = int(raw.get("max_rows", DEFAULT_MAX_ROWS))
    if max_rows < 1:
        raise bad("'max_rows' must be at least 1")
    timeout = float(raw.get("timeout", DEFAULT_TIMEOUT))
    path: Path | None = None
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:") or url.query:
            raise bad("a SQLite url names a plain file path (no ':memory:', 'file:' or options)")
        path = roots.resolve(NAME, database)
        query = {"uri": "true"} if writable else {"mode": "ro", "uri": "true"}
        url = url.set(database=f"file:{quote(str(path))}", query=query)
    password = url.password or ""
    secrets = tuple(s for s in {password, quote(password, safe="")} if s)
    sqlite_file = path if backend == "sqlite" else None
    return Connection(name, url, writable, max_rows, timeout, secrets, sqlite_file)


class Engines:
    """Engines by connection name: made once (dialect set-up, statement caches), kept while
    recently used (at most CACHE_SIZE), disposed when pushed out.

    They hold no pooled connections (NullPool): each call opens its connection and closes it
    when done, so no connection outlives a call, an event loop or a restart of the server, and
    a tool with no shutdown hook leaks nothing."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, AsyncEngine] = OrderedDict()

    async def get(self, conn: Connection) -> AsyncEngine:
        engine = self._cache.get(conn.name)
        if engine is not None:
            self._cache.move_to_end(conn.name)
            return engine
        engine = _engine(conn)
        self._cache[conn.name] = engine
        while len(self._cache) > CACHE_SIZE:
            _, old = self._cache.popitem(last=False)
            with contextlib.suppress(Exception):
                await old.dispose()
        return engine

    async def dispose(self) -> None:
        while self._cache:
            _, engine = self._cache.popitem()
            with contextlib.suppress(Exception):
                await engine.dispose()


def _engine(conn: Connection) -> AsyncEngine:
    sa_async = need("sqlalchemy.ext.asyncio", "db", NAME)
    pool = need("sqlalchemy.pool", "db", NAME)
    connect_args: dict[str, Any] = {}
    if conn.dialect == "sqlite":
        connect_args["timeout"] = conn.timeout
    if conn.dialect == "postgresql":
        connect_args["command_timeout"] = conn.timeout
        connect_args["timeout"] = conn.timeout
        if not conn.writable:
            connect_args["server_settings"] = {"default_transaction_read_only": "on"}
    if conn.dialect == "mysql":
        connect_args["connect_timeout"] = int(conn.timeout)
        if not conn.writable:
            connect_args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
    return sa_async.create_async_engine(  # type: ignore[no-any-return]
        conn.url, connect_args=connect_args, poolclass=pool.NullPool
    )


def _failure(exc: BaseException, conn: Connection, *, connecting: bool) -> LLMSpellError:
    """A database error as a scrubbed, concise LLMSpellError."""
    sa_exc = need("sqlalchemy.exc", "db", NAME)
    orig = getattr(exc, "orig", None)
    message = str(orig if orig is not None else exc).split("\n[SQL:")[0]
    message = _BACKGROUND.sub("", message).strip() or type(exc).__name__
    message = _scrub(message, conn)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    lowered = message.lower()
    if (
        sqlstate == "25006"
        or getattr(orig, "sqlite_errorcode", None) == 8
        or "read-only transaction" in lowered
        or "readonly database" in lowered
        or "read only transaction" in lowered
    ):
        return LLMSpellError(
            ErrorCode.DENIED,
            f"{NAME}: connection {conn.name!r} is read-only: {message}",
            data={"connection": conn.name},
        )
    if connecting or isinstance(exc, OSError | TimeoutError):
        return LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"{NAME}: cannot connect to {conn.name!r}: {message}",
            data={"connection": conn.name},
        )
    if isinstance(exc, sa_exc.StatementError) and (
        orig is None or isinstance(orig, sa_exc.SQLAlchemyError)
    ):
        return refuse(NAME, message)  # SQLAlchemy's own complaint (a missing bind value...)
    return refuse(NAME, f"{conn.dialect} error: {message}")


def _rows(result: Any, limit: int) -> tuple[list[str], list[dict[str, Any]], bool]:
    columns = [str(c) for c in result.keys()]  # noqa: SIM118 (a SQLAlchemy Result)
    fetched = result.fetchmany(limit + 1)
    truncated = len(fetched) > limit
    rows = [
        {c: json_safe(v) for c, v in zip(columns, row, strict=False)} for row in fetched[:limit]
    ]
    return columns, rows, truncated


def _table_text(columns: list[str], rows: list[dict[str, Any]], truncated: bool) -> str:
    lines = [" | ".join(columns)]
    lines += [" | ".join("NULL" if r[c] is None else str(r[c]) for c in columns) for r in rows]
    tail = f"{len(rows)} row(s)" + (" (truncated)" if truncated else "")
    return "\n".join([*lines[:51], *(["..."] if len(lines) > 51 else []), tail])


def _statement(sa: Any, sql: str, params: Mapping[str, Any]) -> Any:
    """`sql` as a text() statement whose text values bind as strings: PostgreSQL then sees
    `$1::VARCHAR`, which compares with text and casts to other types in the SQL
    (`CAST(:day AS date)`), where an untyped bind would make asyncpg demand a Python date."""
    stmt = sa.text(sql)
    used = set(stmt.compile().params)
    typed = [
        sa.bindparam(k, type_=sa.String())
        for k, v in params.items()
        if k in used and isinstance(v, str)
    ]
    return stmt.bindparams(*typed) if typed else stmt


async def _read_only_txn(conn: Connection, db: AsyncConnection) -> None:
    """Make what follows on `db` read-only where the database can say so: PostgreSQL for the
    transaction, SQLite for the connection (closed after the call: NullPool). MySQL relies on
    the session setting (read-only connections) and the rollback that ends every query."""
    sa = need("sqlalchemy", "db", NAME)
    if conn.dialect == "postgresql":
        await db.execute(sa.text("SET TRANSACTION READ ONLY"))
    elif conn.dialect == "sqlite":
        await db.execute(sa.text("PRAGMA query_only = ON"))


def _describe(sync_conn: Any, table: str, schema: str | None) -> dict[str, Any]:
    sa = need("sqlalchemy", "db", NAME)
    inspector = sa.inspect(sync_conn)
    pk = inspector.get_pk_constraint(table, schema=schema) or {}
    pk_columns = list(pk.get("constrained_columns") or [])
    columns = [
        {
            "name": c["name"],
            "type": str(c["type"]),
            "nullable": bool(c.get("nullable", True)),
            "default": None if c.get("default") is None else str(c["default"]),
            "primary_key": c["name"] in pk_columns,
        }
        for c in inspector.get_columns(table, schema=schema)
    ]
    foreign_keys = [
        {
            "columns": fk.get("constrained_columns", []),
            "references": fk.get("referred_table"),
            "referred_columns": fk.get("referred_columns", []),
        }
        for fk in inspector.get_foreign_keys(table, schema=schema)
    ]
    indexes = [
        {"name": ix.get("name"), "columns": ix.get("column_names", []), "unique": ix["unique"]}
        for ix in inspector.get_indexes(table, schema=schema)
    ]
    return {
        "table": table,
        "columns": columns,
        "primary_key": pk_columns,
        "foreign_keys": foreign_keys,
        "indexes": indexes,
    }


def _tables(sync_conn: Any, schema: str | None) -> dict[str, Any]:
    sa = need("sqlalchemy", "db", NAME)
    inspector = sa.inspect(sync_conn)
    return {
        "tables": sorted(inspector.get_table_names(schema=schema)),
        "views": sorted(inspector.get_view_names(schema=schema)),
    }


def component(settings: Mapping[str, Any], roots: Roots) -> Component:
    configured: Mapping[str, Any] = settings.get("connections") or {}
    engines = Engines()
    resolved: dict[str, Connection] = {}

    def connection(name: str) -> Connection:
        if name not in configured:
            known = ", ".join(sorted(configured)) or "none are configured"
            raise refuse(NAME, f"unknown connection {name!r} (connections: {known})")
        if name not in resolved:
            resolved[name] = _configure(name, configured[name], roots)
        return resolved[name]

    async def handle(args: dict[str, Any]) -> Result:
        op = args["operation"]
        if op == "connections":
            listed = []
            for name in sorted(configured):
                conn = connection(name)
                listed.append({"name": name, "dialect": conn.dialect, "writable": conn.writable})
            text = "\n".join(
                f"{c['name']}: {c['dialect']}" + (" (writable)" if c["writable"] else "")
                for c in listed
            )
            return answer(text or "no connections are configured", {"connections": listed})
        conn = connection(args["connection"])
        sa = need("sqlalchemy", "db", NAME)
        if op in ("query", "execute"):
            sql: str = args["sql"]
            keyword = first_keyword(sql)
            if op == "query" and keyword not in READS:
                raise refuse(
                    NAME,
                    f"'query' runs reads only (SELECT, WITH, VALUES, SHOW, EXPLAIN); "
                    f"this statement starts with {keyword.upper() or 'nothing'!r}: "
                    f"use operation 'execute' on a writable connection",
                )
            if op == "execute" and not conn.writable:
                raise LLMSpellError(
                    ErrorCode.DENIED,
                    f"{NAME}: connection {conn.name!r} is read-only; 'execute' needs "
                    f"writable = true in [tools.{NAME}.connections.{conn.name}]",
                    data={"connection": conn.name},
                )
        if conn.sqlite_file is not None and not conn.writable and not conn.sqlite_file.is_file():
            # checked here, as aiosqlite leaves its worker thread behind when opening fails
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"{NAME}: connection {conn.name!r}: the SQLite file does not exist "
                f"(a read-only connection never creates it)",
                data={"connection": conn.name},
            )
        engine = await engines.get(conn)
        connecting = True
        try:
            async with engine.connect() as db:
                connecting = False
                if op == "tables":
                    info = await db.run_sync(_tables, args.get("schema"))
                    text = "\n".join(info["tables"] + [f"{v} (view)" for v in info["views"]])
                    return answer(text or "no tables", {"connection": conn.name, **info})
                if op == "describe":
                    table = args["table"]
                    exists = await db.run_sync(
                        lambda c: sa.inspect(c).has_table(table, schema=args.get("schema"))
                    )
                    if not exists:
                        raise refuse(NAME, f"no table {table!r} in connection {conn.name!r}")
                    info = await db.run_sync(_describe, table, args.get("schema"))
                    text = "\n".join(
                        f"{c['name']} {c['type']}"
                        + ("" if c["nullable"] else " NOT NULL")
                        + (" PRIMARY KEY" if c["primary_key"] else "")
                        for c in info["columns"]
                    )
                    return answer(text, {"connection": conn.name, **info})
                params = args.get("params") or {}
                limit = min(args.get("limit", conn.max_rows), conn.max_rows)
                if op == "query":
                    await _read_only_txn(conn, db)
                    result = await db.execute(_statement(sa, args["sql"], params), params)
                    columns, rows, truncated = _rows(result, limit)
                    await db.rollback()
                    data = {"columns": columns, "rows": rows, "count": len(rows)}
                    data["truncated"] = truncated
                    return answer(_table_text(columns, rows, truncated), data)
                # execute, on a writable connection
                result = await db.execute(_statement(sa, args["sql"], params), params)
                out: dict[str, Any] = {"rowcount": max(result.rowcount, -1)}
                if result.returns_rows:
                    columns, rows, truncated = _rows(result, limit)
                    out.update(columns=columns, rows=rows, truncated=truncated)
                await db.commit()
                text = f"{out['rowcount']} row(s) affected" if out["rowcount"] >= 0 else "done"
                return answer(text, out)
        except LLMSpellError:
            raise
        except (sa.exc.SQLAlchemyError, OSError, TimeoutError) as exc:
            raise _failure(exc, conn, connecting=connecting) from None

    names = sorted(configured)
    connection_schema: dict[str, Any] = {
        "type": "string",
        "minLength": 1,
        "description": "A connection configured in [tools.database-connector.connections]",
    }
    if names:
        connection_schema["enum"] = names
    return tool(
        NAME,
        "Runs SQL on databases configured by the operator (SQLite, PostgreSQL, MySQL): query "
        "(reads, rows as objects, capped, with 'truncated'), execute (INSERT/UPDATE/DELETE/DDL, "
        "only on connections configured writable), tables, describe (columns, types, nullable, "
        "primary key) and connections (what is configured). Values go in 'params' and are "
        "bound to :name placeholders, never formatted into the SQL (PostgreSQL binds strictly: "
        "cast text to other types in the SQL, e.g. CAST(:day AS date)).",
        {
            "connection": connection_schema,
            "sql": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100_000,
                "description": "One SQL statement; use :name placeholders for values",
            },
            "params": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                "description": "Values bound to the :name placeholders",
            },
            "limit": {
                "type": "integer",
                "minimum": 1,
                "description": "Return at most this many rows (never more than the "
                "connection's max_rows)",
            },
            "table": {"type": "string", "minLength": 1, "description": "describe: the table"},
            "schema": {"type": "string", "minLength": 1, "description": "A database schema"},
        },
        handle,
        operations={
            "query": ["connection", "sql"],
            "execute": ["connection", "sql"],
            "tables": ["connection"],
            "describe": ["connection", "table"],
            "connections": [],
        },
        annotations=ANNOTATIONS,
    )
