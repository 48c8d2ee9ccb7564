"""The state port's behaviour, one suite run against every backend (memory, SQLite,
PostgreSQL on a throw-away server)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.state import SqliteStateStore, restore
from llmspell.adapters.state import schema as state_schema
from llmspell.adapters.state.postgres import PostgresStateStore
from llmspell.runtime import LLMSpellError
from llmspell.runtime.state import GLOBAL, Entry, MemoryStateStore, StateStore

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StateStore]:
    made: StateStore
    if request.param == "postgres":
        server = request.getfixturevalue("postgres")
        made = PostgresStateStore(pg_url(server))
    elif request.param == "sqlite":
        made = SqliteStateStore(tmp_path / "s.db")
    else:
        made = MemoryStateStore()
    try:
        yield made
    finally:
        await made.aclose()
        if request.param == "postgres":
            server.psql("DROP TABLE IF EXISTS llmspell_state, llmspell_schema")


def pg_url(server: Any) -> str:
    """asyncpg's URL for the test role (the fixture's `url()` is SQLAlchemy's)."""
    return f"postgresql://{server.user}:{server.password}@{server.host}:{server.port}/{server.database}"


async def test_get_set_delete_keys_with_prefix(store: StateStore) -> None:
    assert await store.get(GLOBAL, "missing") is None
    await store.set(GLOBAL, "user:1", {"name": "Ada", "langs": ["lua", "js"], "age": 36})
    await store.set(GLOBAL, "user:2", {"name": "Grace"})
    await store.set(GLOBAL, "config", "on")
    await store.set(GLOBAL, "user", 1)  # a key equal to the prefix itself
    assert await store.get(GLOBAL, "user:1") == {"name": "Ada", "langs": ["lua", "js"], "age": 36}
    assert await store.keys(GLOBAL, "user:") == ["user:1", "user:2"]
    assert await store.keys(GLOBAL, "user") == ["user", "user:1", "user:2"]
    assert await store.keys(GLOBAL) == ["config", "user", "user:1", "user:2"]
    assert await store.delete(GLOBAL, "user:2") is True
    assert await store.delete(GLOBAL, "user:2") is False
    assert await store.keys(GLOBAL, "user:") == ["user:1"]
    await store.set(GLOBAL, "config", None)  # None is a value: the key stays
    assert await store.keys(GLOBAL, "c") == ["config"]


async def test_values_are_copies(store: StateStore) -> None:
    value: dict[str, Any] = {"list": [1, 2]}
    await store.set(GLOBAL, "k", value)
    value["list"].append(3)
    got = await store.get(GLOBAL, "k")
    got["list"].append(4)
    assert await store.get(GLOBAL, "k") == {"list": [1, 2]}


async def test_scopes_isolate(store: StateStore) -> None:
    await store.set("agent:a", "memory", "a's")
    await store.set("agent:b", "memory", "b's")
    assert await store.get("agent:a", "memory") == "a's"
    assert await store.get("agent:b", "memory") == "b's"
    assert await store.get(GLOBAL, "memory") is None
    assert await store.keys("agent:a") == ["memory"]
    await store.delete("agent:a", "memory")
    assert await store.get("agent:b", "memory") == "b's"
    assert await store.scopes() == ["agent:b"]


async def test_ttl_expiry(store: StateStore) -> None:
    await store.set(GLOBAL, "short", "x", ttl=0.2)
    await store.set(GLOBAL, "long", "y", ttl=60)
    await store.set("s", "gone", 1, ttl=0.2)
    assert await store.get(GLOBAL, "short") == "x"
    assert await store.keys(GLOBAL) == ["long", "short"]
    await asyncio.sleep(0.3)
    assert await store.get(GLOBAL, "short") is None
    assert await store.keys(GLOBAL) == ["long"]
    assert await store.delete(GLOBAL, "short") is False
    assert await store.scopes() == [GLOBAL]
    assert [e.key for e in await store.export()] == ["long"]
    await store.set(GLOBAL, "long", "z")  # a set without ttl never expires
    assert (await store.export())[0].expires_at is None
    with pytest.raises(LLMSpellError):
        await store.set(GLOBAL, "bad", 1, ttl=-1)


async def test_update_from_50_concurrent_callers_loses_nothing(store: StateStore) -> None:
    async def increment(value: Any) -> int:
        await asyncio.sleep(0)  # let the others run in between the read and the write
        return (value or 0) + 1

    results = await asyncio.gather(*(store.update(GLOBAL, "n", increment) for _ in range(50)))
    assert await store.get(GLOBAL, "n") == 50
    assert sorted(results) == list(range(1, 51))


async def test_update_that_fails_writes_nothing(store: StateStore) -> None:
    await store.set(GLOBAL, "n", 1)

    async def broken(value: Any) -> Any:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        await store.update(GLOBAL, "n", broken)
    assert await store.get(GLOBAL, "n") == 1


async def test_unstorable_value_names_the_key(store: StateStore) -> None:
    with pytest.raises(LLMSpellError) as caught:
        await store.set(GLOBAL, "profile", {"tags": [1, object()]})
    assert "'profile'" in caught.value.message and "tags[1]" in caught.value.message

    async def to_set(value: Any) -> Any:
        return {1, 2}

    with pytest.raises(LLMSpellError, match="'bad'"):
        await store.update(GLOBAL, "bad", to_set)
    with pytest.raises(LLMSpellError, match="'bad-import'"):
        await store.import_([Entry(GLOBAL, "fine", 1), Entry(GLOBAL, "bad-import", {3: "x"})])
    assert await store.keys(GLOBAL) == []  # nothing of a refused import is written


ODD: dict[str, Any] = {
    "bytes": b"\x00\xff\xfe binary",
    "unicode": "héllo wörld ✓ 𝄞 日本語 \u0000 \ud800",
    "nested": [{"$bytes": "a string, not bytes"}, {"$map": {"x": b""}}, [b"a", "b"]],
    "numbers": [0, -1, 2**62, 1.5, True, False, None],
    "empty": [{}, [], "", b""],
}


async def test_export_import_round_trips_bytes_and_unicode(store: StateStore) -> None:
    for key, value in ODD.items():
        await store.set("script:odd.lua", key, value)
        assert await store.get("script:odd.lua", key) == value
    await store.set(GLOBAL, "ttl", "x", ttl=60)
    exported = await store.export()
    assert [(e.scope, e.key) for e in exported][:1] == [("global", "ttl")]
    assert await store.export("script:odd.lua") == [e for e in exported if e.scope != GLOBAL]
    fresh = MemoryStateStore()
    assert await fresh.import_(exported) == len(ODD) + 1
    assert await fresh.export() == exported
    for key in ODD:
        await store.delete("script:odd.lua", key)
    await store.import_(exported)
    assert await store.export() == exported
    for key, value in ODD.items():
        got = await store.get("script:odd.lua", key)
        assert got == value and type(got) is type(value)


# -- SQLite only ------------------------------------------------------------------------------


async def test_sqlite_persists_across_instances(tmp_path: Path) -> None:
    first = SqliteStateStore(tmp_path / "deep" / "s.db")
    await first.set("s", "k", {"b": b"\x01"}, ttl=60)
    await first.aclose()
    second = SqliteStateStore(tmp_path / "deep" / "s.db")
    assert await second.get("s", "k") == {"b": b"\x01"}
    await second.aclose()
    with pytest.raises(LLMSpellError, match="closed"):
        await second.get("s", "k")


async def test_sqlite_update_does_not_lose_a_write_from_another_process(tmp_path: Path) -> None:
    """Another connection writes between update's read and its write: update reads again."""
    store = SqliteStateStore(tmp_path / "s.db")
    await store.set(GLOBAL, "n", 0)
    calls = 0

    async def increment(value: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            other = sqlite3.connect(tmp_path / "s.db")
            other.execute("UPDATE state SET value = '100' WHERE key = 'n'")
            other.commit()
            other.close()
        return int(value) + 1

    assert await store.update(GLOBAL, "n", increment) == 101
    assert calls == 2
    await store.aclose()


async def test_sqlite_backup_while_a_writer_runs_restores_consistently(tmp_path: Path) -> None:
    """Each write moves one unit between two keys in one `import_` transaction: a consistent
    copy always sums to the total, whatever moment the backup caught."""
    store = SqliteStateStore(tmp_path / "live.db")
    await store.import_([Entry(GLOBAL, "a", 1000), Entry(GLOBAL, "b", 0)])
    for i in range(200):
        await store.set("bulk", f"k{i:03}", "x" * 500)
    stop = asyncio.Event()
    moved = 0

    async def writer() -> None:
        nonlocal moved
        while not stop.is_set():
            moved += 1
            await store.import_(
                [
                    Entry(GLOBAL, "a", 1000 - moved),
                    Entry(GLOBAL, "b", moved),
                    Entry("log", f"m{moved:05}", moved),
                ]
            )

    task = asyncio.create_task(writer())
    backups = []
    for n in range(3):
        await asyncio.sleep(0.05)
        backups.append(tmp_path / f"backup-{n}.db")
        await store.backup(backups[-1])
    stop.set()
    await task
    assert moved > 10
    assert not list(tmp_path.glob(".*partial"))
    seen = set()
    for backup in backups:
        check = sqlite3.connect(backup)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
        restored = SqliteStateStore(tmp_path / f"restored-{backup.stem}.db")
        await restored.set("junk", "gone after restore", 1)
        await restored.restore(backup)
        a, b = await restored.get(GLOBAL, "a"), await restored.get(GLOBAL, "b")
        assert a + b == 1000
        assert len(await restored.keys("log")) == b
        assert len(await restored.keys("bulk")) == 200
        assert await restored.get("junk", "gone after restore") is None
        await restored.set(GLOBAL, "writable", True)  # the restored store works on
        await restored.aclose()
        seen.add(b)
    # the module function restores into a path, creating it
    await restore(backups[-1], tmp_path / "new" / "restored.db")
    again = SqliteStateStore(tmp_path / "new" / "restored.db")
    assert await again.get(GLOBAL, "b") in seen
    await again.aclose()
    await store.aclose()


async def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "s.db")
    await store.set(GLOBAL, "kept", 1)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(LLMSpellError, match="not an llmspell state backup"):
        await store.restore(other)
    with pytest.raises(LLMSpellError, match="no backup file"):
        await store.restore(tmp_path / "missing.db")
    assert await store.get(GLOBAL, "kept") == 1
    await store.aclose()


async def test_v1_fixture_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    shutil.copy(FIXTURES / "state-v1.db", path)
    store = SqliteStateStore(path)
    assert await store.get(GLOBAL, "greeting") == "héllo wörld ✓"
    assert await store.get(GLOBAL, "counter") == 41
    assert await store.get("script:flows.lua", "user:1") == {
        "name": "Ada",
        "langs": ["lua", "js"],
        "age": 36,
    }
    assert await store.get("script:flows.lua", "looks-like-a-tag") == {"$bytes": "not bytes"}
    assert await store.get("agent:helper", "turns") == [{"role": "user", "text": "hi"}]
    assert await store.scopes() == ["agent:helper", "global", "script:flows.lua"]

    async def increment(value: Any) -> int:
        return int(value) + 1

    assert await store.update(GLOBAL, "counter", increment) == 42
    await store.set(GLOBAL, "bytes", b"\x00")  # the new layout holds what v1 could not
    await store.aclose()
    conn = sqlite3.connect(path)
    assert state_schema.version(conn) == state_schema.CURRENT
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    assert "kv" not in tables and "state" in tables
    conn.close()
    # a backup in the old layout restores (and is upgraded) too
    fresh = SqliteStateStore(tmp_path / "fresh.db")
    await fresh.restore(FIXTURES / "state-v1.db")
    assert await fresh.get(GLOBAL, "counter") == 41
    await fresh.aclose()


async def test_newer_or_foreign_files_are_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    for path, problem in [
        (newer, "newer than this llmspell"),
        (foreign, "not an llmspell state file"),
        (garbage, r"garbage\.db: file is not a database"),
    ]:
        store = SqliteStateStore(path)
        with pytest.raises(LLMSpellError, match=problem):
            await store.open()
        await store.aclose()


async def test_sqlite_calls_do_not_block_the_event_loop(tmp_path: Path) -> None:
    """While another connection holds the write lock, a write waits on the worker thread and
    the loop keeps running."""
    store = SqliteStateStore(tmp_path / "s.db")
    await store.open()
    blocker = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    write = asyncio.create_task(store.set(GLOBAL, "k", 1))
    ticks = 0
    started = time.monotonic()
    while time.monotonic() - started < 0.3:
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks > 10 and not write.done()
    blocker.execute("COMMIT")
    blocker.close()
    await write
    assert await store.get(GLOBAL, "k") == 1
    await store.aclose()
