"""What the PostgreSQL state store adds to the shared suite (tests/state/test_store.py): two
stores on one database act as two replicas (one sees the other's writes, concurrent updates
from both lose nothing), the schema is set up once and a newer one is refused, and a server
that cannot be reached is a clear error naming it without its password."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.state.postgres import PostgresStateStore
from llmspell.runtime import LLMSpellError
from llmspell.runtime.state import GLOBAL
from tools.postgres import PostgresServer

from .test_store import pg_url


@pytest.fixture
def server(postgres: PostgresServer) -> Iterator[PostgresServer]:
    try:
        yield postgres
    finally:
        postgres.psql("DROP TABLE IF EXISTS llmspell_state, llmspell_schema")


async def test_two_replicas_share_keys_and_lose_no_update(server: PostgresServer) -> None:
    a, b = PostgresStateStore(pg_url(server)), PostgresStateStore(pg_url(server))
    try:
        await asyncio.gather(a.open(), b.open())  # both set the schema up: once, no error
        assert server.psql("SELECT count(*) FROM llmspell_schema") == "1"
        await a.set("agent:x", "memory", {"seen": [b"\x00"]}, ttl=60)
        assert await b.get("agent:x", "memory") == {"seen": [b"\x00"]}

        async def increment(value: Any) -> int:
            await asyncio.sleep(0.001)  # the other replica writes in between
            return (value or 0) + 1

        calls = [(a if i % 2 else b).update(GLOBAL, "n", increment) for i in range(40)]
        results = await asyncio.gather(*calls)
        assert await a.get(GLOBAL, "n") == 40
        assert sorted(results) == list(range(1, 41))
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_newer_schema_is_refused(server: PostgresServer) -> None:
    store = PostgresStateStore(pg_url(server))
    await store.open()
    await store.aclose()
    server.psql("UPDATE llmspell_schema SET version = 99 WHERE name = 'state'")
    newer = PostgresStateStore(pg_url(server))
    with pytest.raises(LLMSpellError, match="schema version 99 is newer"):
        await newer.open()
    await newer.aclose()


async def test_an_unreachable_server_is_named_without_its_password(
    server: PostgresServer,
) -> None:
    url = pg_url(server).replace(server.password, "wrong-secret")
    store = PostgresStateStore(url)
    with pytest.raises(LLMSpellError) as caught:
        await store.set(GLOBAL, "k", 1)
    message = caught.value.message
    assert f"{server.host}:{server.port}" in message and "wrong-secret" not in message
    await store.aclose()
    with pytest.raises(LLMSpellError, match="closed"):
        await store.get(GLOBAL, "k")


def test_scripts_and_the_cli_share_a_store_named_in_the_config(
    server: PostgresServer, llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    """`[state] backend` is the URL, its password from the environment: a script run keeps a
    counter there, the next run (another process) sees it, and `llmspell state` reads it."""
    url = pg_url(server).replace(server.password, "${STATE_PG_PASSWORD}")
    (tmp_path / "llmspell.toml").write_text(f'[state]\nbackend = "{url}"\n')
    (tmp_path / "count.lua").write_text(
        'local n = State.scope("global"):update("runs", function(v) return (v or 0) + 1 end)\n'
        'print("run " .. n)\n'
    )
    env = {**cli_env, "STATE_PG_PASSWORD": server.password}

    def llmspell(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*llmspell_cmd, *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    for expected in ("run 1", "run 2"):
        ran = llmspell("run", "--config", "llmspell.toml", "count.lua")
        assert ran.returncode == 0 and ran.stdout.strip() == expected, ran.stderr
    got = llmspell("state", "get", "runs", "--config", "llmspell.toml")
    assert got.returncode == 0 and got.stdout.strip() == "2", got.stderr
    usage = llmspell("usage", "--config", "llmspell.toml", "--json")  # read from the same store
    assert usage.returncode == 0 and json.loads(usage.stdout) == [], usage.stderr
    backup = llmspell("state", "backup", "copy.db", "--config", "llmspell.toml")
    assert backup.returncode == 1 and "pg_dump" in backup.stderr
    missing = subprocess.run(
        [*llmspell_cmd, "state", "keys", "--config", "llmspell.toml"],
        env=cli_env,  # no STATE_PG_PASSWORD
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 1 and "STATE_PG_PASSWORD" in missing.stderr
