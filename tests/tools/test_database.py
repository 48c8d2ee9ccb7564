"""database-connector against a real SQLite file and a real PostgreSQL server (started by
`tests/tools/postgres.py`): bound parameters, tables and describe, the row cap, read-only
enforced by the database itself, writes on writable connections, and no credential in errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.tools import register_builtins
from llmspell.adapters.tools.data.database import first_keyword
from llmspell.runtime import ErrorCode, Runtime

from .conftest import call, refused
from .postgres import PostgresServer, running_postgres

TOOL = "database-connector"
INJECTION = "x'; DROP TABLE users; --"
DDL = [
    "DROP TABLE IF EXISTS users",
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, "
    "joined DATE, score NUMERIC(5, 2))",
    "INSERT INTO users VALUES (1, 'ann', 'ann@x.org', '2024-01-02', 9.5), "
    "(2, 'bob', NULL, '2023-05-06', 7.25), (3, 'cid', 'cid@x.org', '2022-12-31', 8)",
]


@pytest.fixture(scope="session")
def pg() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@dataclass
class Backend:
    name: str
    url: str
    peek: Callable[[str], list[tuple[Any, ...]]]
    """Run SQL directly (not through the tool), to check what the tool did."""
    secret: str = ""

    def runtime(self, tmp_path: Path, **connections: dict[str, Any]) -> Runtime:
        runtime = Runtime()
        settings = {TOOL: {"connections": connections}}
        register_builtins(runtime.catalog, roots=[tmp_path], settings=settings)
        return runtime

    def standard(self, tmp_path: Path, **extra: Any) -> Runtime:
        """'ro' (read-only, the default) and 'rw' (writable) on the same database."""
        return self.runtime(
            tmp_path,
            ro={"url": self.url, **extra},
            rw={"url": self.url, "writable": True, **extra},
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        with sqlite3.connect(path) as conn:
            for sql in DDL:
                conn.execute(sql)
        conn.close()

        def peek_sqlite(sql: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path) as c:
                rows = c.execute(sql).fetchall()
            c.close()
            return rows

        return Backend("sqlite", "sqlite+aiosqlite:///app.db", peek_sqlite)
    server: PostgresServer = request.getfixturevalue("pg")
    server.psql("DROP TABLE IF EXISTS users, notes")
    server.psql("; ".join(DDL[1:]) + "; ALTER TABLE users OWNER TO " + server.user)

    def peek_pg(sql: str) -> list[tuple[Any, ...]]:
        out = server.psql(sql)
        return [tuple(line.split("|")) for line in out.splitlines() if line]

    return Backend("postgresql", server.url(), peek_pg, server.password)


async def test_query_binds_parameters(db: Backend, tmp_path: Path) -> None:
    rt = db.standard(tmp_path)
    result = await call(
        rt,
        TOOL,
        operation="query",
        connection="ro",
        sql="SELECT id, name, email, joined, score FROM users WHERE id >= :low ORDER BY id",
        params={"low": 2},
    )
    assert result.data == {
        "columns": ["id", "name", "email", "joined", "score"],
        "rows": [
            {"id": 2, "name": "bob", "email": None, "joined": "2023-05-06", "score": 7.25},
            {"id": 3, "name": "cid", "email": "cid@x.org", "joined": "2022-12-31", "score": 8},
        ],
        "count": 2,
        "truncated": False,
    }
    assert result.text.splitlines()[0] == "id | name | email | joined | score"
    err = await refused(
        rt, TOOL, operation="query", connection="ro", sql="SELECT * FROM users WHERE id = :id"
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == f"{TOOL}: A value is required for bind parameter 'id'"


async def test_tables_and_describe(db: Backend, tmp_path: Path) -> None:
    rt = db.standard(tmp_path)
    tables = await call(rt, TOOL, operation="tables", connection="ro")
    assert tables.data["tables"] == ["users"] and tables.data["views"] == []
    described = await call(rt, TOOL, operation="describe", connection="ro", table="users")
    columns = {c["name"]: c for c in described.data["columns"]}
    assert list(columns) == ["id", "name", "email", "joined", "score"]
    assert described.data["primary_key"] == ["id"]
    assert columns["id"]["primary_key"] is True and columns["name"]["primary_key"] is False
    assert columns["name"]["nullable"] is False and columns["email"]["nullable"] is True
    assert columns["id"]["type"] == "INTEGER" and columns["score"]["type"].startswith("NUMERIC")
    assert columns["joined"]["type"] == "DATE"
    err = await refused(rt, TOOL, operation="describe", connection="ro", table="nope")
    assert err.message == f"{TOOL}: no table 'nope' in connection 'ro'"


async def test_row_cap_sets_truncated(db: Backend, tmp_path: Path) -> None:
    rt = db.runtime(tmp_path, small={"url": db.url, "max_rows": 2})
    sql = "SELECT id FROM users ORDER BY id"
    capped = await call(rt, TOOL, operation="query", connection="small", sql=sql)
    assert capped.data["rows"] == [{"id": 1}, {"id": 2}] and capped.data["truncated"] is True
    one = await call(rt, TOOL, operation="query", connection="small", sql=sql, limit=1)
    assert one.data["rows"] == [{"id": 1}] and one.data["truncated"] is True
    more = await call(rt, TOOL, operation="query", connection="small", sql=sql, limit=50)
    assert more.data["count"] == 2 and more.data["truncated"] is True
    exact = await call(
        rt, TOOL, operation="query", connection="small", sql=sql + " LIMIT 2", limit=2
    )
    assert exact.data["truncated"] is False


async def test_writes_on_a_read_only_connection_are_refused(db: Backend, tmp_path: Path) -> None:
    rt = db.standard(tmp_path)
    before = db.peek("SELECT count(*) FROM users")
    # first line: 'execute' needs a writable connection
    err = await refused(
        rt, TOOL, operation="execute", connection="ro", sql="DELETE FROM users WHERE id = 1"
    )
    assert err.code == ErrorCode.DENIED
    assert err.message == (
        f"{TOOL}: connection 'ro' is read-only; 'execute' needs writable = true in "
        f"[tools.{TOOL}.connections.ro]"
    )
    # 'query' takes reads only, on any connection
    err = await refused(rt, TOOL, operation="query", connection="rw", sql="DROP TABLE users")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        f"{TOOL}: 'query' runs reads only (SELECT, WITH, VALUES, SHOW, EXPLAIN); this statement "
        f"starts with 'DROP': use operation 'execute' on a writable connection"
    )
    # past the first line (a statement starting with WITH that writes), the database refuses
    # (ro: default_transaction_read_only / a mode=ro file; rw: 'query' still runs read-only)
    if db.name == "postgresql":
        sneaky = "WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone"
    else:
        sneaky = "WITH x AS (SELECT 1) DELETE FROM users"
    for name in ("ro", "rw"):
        err = await refused(rt, TOOL, operation="query", connection=name, sql=sneaky)
        assert err.code == ErrorCode.DENIED, err.message
        assert err.message.startswith(f"{TOOL}: connection '{name}' is read-only:")
    assert db.peek("SELECT count(*) FROM users") == before
    assert [str(v) for (v,) in before] == ["3"]


async def test_writes_on_a_writable_connection(db: Backend, tmp_path: Path) -> None:
    rt = db.standard(tmp_path)
    # asyncpg binds strictly: text becomes a date through a cast in the SQL
    joined = ":joined" if db.name == "sqlite" else "CAST(:joined AS DATE)"
    inserted = await call(
        rt,
        TOOL,
        operation="execute",
        connection="rw",
        sql=f"INSERT INTO users (id, name, joined) VALUES (:id, :name, {joined})",
        params={"id": 4, "name": "dee", "joined": "2025-02-03"},
    )
    assert inserted.data == {"rowcount": 1} and inserted.text == "1 row(s) affected"
    updated = await call(
        rt,
        TOOL,
        operation="execute",
        connection="rw",
        sql="UPDATE users SET score = score + :bonus WHERE score IS NOT NULL RETURNING id",
        params={"bonus": 1},
    )
    assert sorted(r["id"] for r in updated.data["rows"]) == [1, 2, 3]
    created = await call(
        rt, TOOL, operation="execute", connection="rw", sql="CREATE TABLE notes (body TEXT)"
    )
    assert created.data["rowcount"] in (-1, 0)
    tables = await call(rt, TOOL, operation="tables", connection="ro")
    assert tables.data["tables"] == ["notes", "users"]
    assert db.peek("SELECT name, joined FROM users WHERE id = 4") == [("dee", "2025-02-03")]
    assert db.peek("SELECT score FROM users WHERE id = 2")[0][0] in (8.25, "8.25")


async def test_injection_through_a_parameter_stays_a_value(db: Backend, tmp_path: Path) -> None:
    rt = db.standard(tmp_path)
    await call(
        rt,
        TOOL,
        operation="execute",
        connection="rw",
        sql="INSERT INTO users (id, name) VALUES (:id, :name)",
        params={"id": 9, "name": INJECTION},
    )
    found = await call(
        rt,
        TOOL,
        operation="query",
        connection="ro",
        sql="SELECT id, name FROM users WHERE name = :name",
        params={"name": INJECTION},
    )
    assert found.data["rows"] == [{"id": 9, "name": INJECTION}]
    nothing = await call(
        rt,
        TOOL,
        operation="query",
        connection="ro",
        sql="SELECT id FROM users WHERE name = :name",
        params={"name": "' OR '1'='1"},
    )
    assert nothing.data["rows"] == []
    assert db.peek("SELECT count(*) FROM users")[0][0] in (4, "4")
    assert db.peek("SELECT name FROM users WHERE id = 9") == [(INJECTION,)]


async def test_no_credential_in_errors(pg: PostgresServer, tmp_path: Path) -> None:
    wrong = "Wr0ng-s3cret-pw"
    rt = Backend("postgresql", pg.url(), lambda sql: []).runtime(
        tmp_path,
        bad={"url": pg.url(password=wrong)},
        closed={"url": f"postgresql+asyncpg://u:{wrong}@127.0.0.1:1/x"},
        split={
            "url": f"postgresql+asyncpg://{pg.user}@{pg.host}:{pg.port}/{pg.database}",
            "password": pg.password,
        },
        good={"url": pg.url()},
    )
    err = await refused(rt, TOOL, operation="query", connection="bad", sql="SELECT 1")
    assert err.code == ErrorCode.UNAVAILABLE
    assert err.message == (
        f"{TOOL}: cannot connect to 'bad': password authentication failed for user \"{pg.user}\""
    )
    err2 = await refused(rt, TOOL, operation="tables", connection="closed")
    assert err2.code == ErrorCode.UNAVAILABLE
    assert err2.message.startswith(f"{TOOL}: cannot connect to 'closed':")
    err3 = await refused(rt, TOOL, operation="query", connection="good", sql="SELECT FROM WHERE")
    assert err3.message == f'{TOOL}: postgresql error: syntax error at or near "WHERE"', (
        err3.message
    )
    listed = await call(rt, TOOL, operation="connections")
    ok = await call(rt, TOOL, operation="query", connection="split", sql="SELECT 1 AS one")
    assert ok.data["rows"] == [{"one": 1}]
    for shown in (
        err.message,
        err2.message,
        err3.message,
        str(err.data),
        str(err2.data),
        listed.text,
        str(listed.data),
    ):
        assert wrong not in shown and pg.password not in shown


async def test_configuration_refusals(tmp_path: Path) -> None:
    outside = tmp_path.parent / "elsewhere.db"
    sqlite3.connect(outside).close()
    rt = Backend("sqlite", "", lambda sql: []).runtime(
        tmp_path,
        outside={"url": f"sqlite+aiosqlite:///{outside}"},
        sync={"url": "sqlite:///app.db"},
        memory={"url": "sqlite+aiosqlite:///:memory:"},
    )
    err = await refused(rt, TOOL, operation="tables", connection="outside")
    assert err.code == ErrorCode.DENIED and "is outside the allowed roots" in err.message
    err = await refused(rt, TOOL, operation="tables", connection="sync")
    assert err.code == ErrorCode.NOT_CONFIGURED
    assert err.message == (
        f"{TOOL}: connection 'sync': the driver 'sqlite' is not supported (use one of "
        "sqlite+aiosqlite, postgresql+asyncpg, mysql+aiomysql)"
    )
    err = await refused(rt, TOOL, operation="tables", connection="memory")
    assert err.code == ErrorCode.NOT_CONFIGURED
    err = await refused(rt, TOOL, operation="tables", connection="other")
    assert err.code == ErrorCode.INVALID_ARGUMENTS and "is not one of" in err.message
    # a missing read-only file is not created
    rt = Backend("sqlite", "", lambda sql: []).runtime(
        tmp_path, missing={"url": "sqlite+aiosqlite:///missing.db"}
    )
    err = await refused(rt, TOOL, operation="tables", connection="missing")
    assert err.code == ErrorCode.UNAVAILABLE and not (tmp_path / "missing.db").exists()
    assert err.message == (
        f"{TOOL}: connection 'missing': the SQLite file does not exist (a read-only connection "
        "never creates it)"
    )


@pytest.mark.parametrize(
    ("sql", "keyword"),
    [
        ("  select 1", "select"),
        ("-- note\n/* block\n */ (WITH x AS (SELECT 1) SELECT * FROM x)", "with"),
        ("/*x*/DELETE FROM t", "delete"),
        ("", ""),
    ],
)
def test_first_keyword(sql: str, keyword: str) -> None:
    assert first_keyword(sql) == keyword
