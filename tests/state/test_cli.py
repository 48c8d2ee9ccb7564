"""`llmspell state ...` as a user runs it: real subprocesses on real state files."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

from llmspell.adapters.state.sqlite import SqliteStateStore


def llmspell(
    cmd: list[str], env: dict[str, str], *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def refused(proc: subprocess.CompletedProcess[str]) -> str:
    """The one line on stderr of a command that exited 1."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("llmspell: "), proc.stderr
    return lines[0]


def test_set_get_keys_scopes(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    def state(*args: str) -> subprocess.CompletedProcess[str]:
        return llmspell(llmspell_cmd, cli_env, "state", *args, "--file", "s.db", cwd=tmp_path)

    ok(state("set", "config", '{"depth": 3, "names": ["ä", "b"]}'))
    ok(state("set", "plain", "just words"))  # not JSON: taken as a string
    ok(state("set", "quoted", '"42"'))
    ok(state("set", "number", "42"))
    ok(state("set", "other", "1", "--scope", "agent:a"))
    ok(state("set", "brief", "true", "--ttl", "600"))
    ok(state("set", "gone", "true", "--ttl", "0"))
    assert json.loads(ok(state("get", "config"))) == {"depth": 3, "names": ["ä", "b"]}
    assert "ä" in ok(state("get", "config"))  # unicode printed as itself
    assert ok(state("get", "plain")) == '"just words"\n'
    assert ok(state("get", "quoted")) == '"42"\n'
    assert ok(state("get", "number")) == "42\n"
    assert ok(state("get", "other", "--scope", "agent:a")) == "1\n"
    assert ok(state("keys")).split() == ["brief", "config", "number", "plain", "quoted"]
    assert ok(state("keys", "pl")).split() == ["plain"]
    assert ok(state("keys", "--scope", "agent:a")).split() == ["other"]
    assert ok(state("scopes")).split() == ["agent:a", "global"]
    (brief,) = [e for e in json.loads(ok(state("export"))) if e["key"] == "brief"]
    assert 590 < brief["expires_at"] - time.time() <= 600
    assert "'gone'" in refused(state("get", "gone"))
    assert "'other'" in refused(state("get", "other"))  # in its scope, not in global
    ok(state("set", "nothing", "null"))
    assert ok(state("get", "nothing")) == "null\n"  # a stored null is found
    # a store that is not there is named, not created, by a read
    missing = llmspell(llmspell_cmd, cli_env, "state", "keys", "--file", "none.db", cwd=tmp_path)
    assert "none.db" in refused(missing) and not (tmp_path / "none.db").exists()


def test_the_store_is_the_configs(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    # no config: .llmspell/state.db here
    ok(llmspell(llmspell_cmd, cli_env, "state", "set", "a", "1", cwd=tmp_path))
    assert (tmp_path / ".llmspell" / "state.db").is_file()
    # ./llmspell.toml's [state] path, relative to the config file
    (tmp_path / "llmspell.toml").write_text('[state]\npath = "data/kept.db"\n')
    ok(llmspell(llmspell_cmd, cli_env, "state", "set", "b", "2", cwd=tmp_path))
    assert (tmp_path / "data" / "kept.db").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    got = llmspell(
        llmspell_cmd, cli_env, "state", "get", "b", "--config", "../llmspell.toml", cwd=elsewhere
    )
    assert ok(got) == "2\n"
    (tmp_path / "memory.toml").write_text('[state]\nbackend = "memory"\n')
    memory = llmspell(
        llmspell_cmd, cli_env, "state", "keys", "--config", "memory.toml", cwd=tmp_path
    )
    assert "memory" in refused(memory)


WRITER = r"""
State.scope("global"):set("blob", "\0\255\254 binary")
State.scope("global"):set("text", "héllo ✓ 😀 中文")
State.scope("agent:x"):set("nested", {list = {"\1\2\255", "ü", 3.5, true}, n = 7})
State.scope("global"):set("tagged", {["$bytes"] = "not bytes"})
"""

READER = r"""
local g = State.scope("global")
print(g:get("blob") == "\0\255\254 binary", g:get("text"))
local nested = State.scope("agent:x"):get("nested")
print(nested.list[1] == "\1\2\255", nested.list[2], nested.list[3], nested.n)
print(g:get("tagged")["$bytes"])
"""


def test_export_import_round_trips_bytes_and_unicode(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "writer.lua").write_text(WRITER, encoding="utf-8")
    (tmp_path / "reader.lua").write_text(READER, encoding="utf-8")
    ok(llmspell(llmspell_cmd, cli_env, "run", "--state", "a.db", "writer.lua", cwd=tmp_path))
    exported = ok(
        llmspell(llmspell_cmd, cli_env, "state", "export", "--json", "--file", "a.db", cwd=tmp_path)
    )
    entries = json.loads(exported)
    by_key = {(e["scope"], e["key"]): e for e in entries}
    assert set(by_key) == {
        ("global", "blob"),
        ("global", "text"),
        ("global", "tagged"),
        ("agent:x", "nested"),
    }
    assert by_key["global", "blob"]["value"] == {"$bytes": "AP/+IGJpbmFyeQ=="}
    assert by_key["global", "text"]["value"] == "héllo ✓ 😀 中文"
    assert by_key["global", "tagged"]["value"] == {"$map": {"$bytes": "not bytes"}}
    assert all(e["expires_at"] is None for e in entries)
    scoped = ok(
        llmspell(
            llmspell_cmd,
            cli_env,
            "state",
            "export",
            "--scope",
            "agent:x",
            "--file",
            "a.db",
            cwd=tmp_path,
        )
    )
    assert [e["key"] for e in json.loads(scoped)] == ["nested"]

    (tmp_path / "dump.json").write_text(exported, encoding="utf-8")
    imported = llmspell(
        llmspell_cmd, cli_env, "state", "import", "dump.json", "--file", "b.db", cwd=tmp_path
    )
    assert "imported 4 keys" in ok(imported)
    again = llmspell(llmspell_cmd, cli_env, "state", "export", "--file", "b.db", cwd=tmp_path)
    assert ok(again) == exported
    read = llmspell(llmspell_cmd, cli_env, "run", "--state", "b.db", "reader.lua", cwd=tmp_path)
    assert ok(read) == "true\théllo ✓ 😀 中文\ntrue\tü\t3.5\t7\nnot bytes\n"


def test_import_is_all_or_nothing(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    good = {"scope": "global", "key": "fine", "value": 1, "expires_at": None}
    bad = {"scope": "global", "key": "broken"}  # no value
    (tmp_path / "bad.json").write_text(json.dumps([good, bad]))
    proc = llmspell(
        llmspell_cmd, cli_env, "state", "import", "bad.json", "--file", "s.db", cwd=tmp_path
    )
    assert "item 1" in refused(proc)
    (tmp_path / "notjson.json").write_text("{oops")
    proc = llmspell(
        llmspell_cmd, cli_env, "state", "import", "notjson.json", "--file", "s.db", cwd=tmp_path
    )
    assert "notjson.json" in refused(proc)
    ok(llmspell(llmspell_cmd, cli_env, "state", "set", "x", "1", "--file", "s.db", cwd=tmp_path))
    assert ok(
        llmspell(llmspell_cmd, cli_env, "state", "keys", "--file", "s.db", cwd=tmp_path)
    ).split() == ["x"]


def _writer(path: Path, stop: threading.Event, acked: list[int]) -> None:
    """Writes w0, w1, ... in order through the store until `stop`; `acked` the ones done."""

    async def go() -> None:
        store = SqliteStateStore(path)
        try:
            i = 0
            while not stop.is_set():
                await store.set("global", f"w{i:06d}", {"i": i, "pad": "x" * 200})
                acked.append(i)
                i += 1
        finally:
            await store.aclose()

    asyncio.run(go())


def test_backup_while_a_writer_runs_restores_a_consistent_store(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    live = tmp_path / "live.db"

    async def seed() -> None:
        store = SqliteStateStore(live)
        await store.set("agent:a", "kept", "héllo")
        await store.set("global", "blob", b"\x00\xff")
        await store.aclose()

    asyncio.run(seed())
    stop, acked = threading.Event(), list[int]()
    writer = threading.Thread(target=_writer, args=(live, stop, acked))
    writer.start()
    try:
        while len(acked) < 50:
            time.sleep(0.01)
        before = len(acked)
        backup = llmspell(
            llmspell_cmd, cli_env, "state", "backup", "copy.db", "--file", str(live), cwd=tmp_path
        )
        ok(backup)
        during = len(acked)
    finally:
        stop.set()
        writer.join(30)
    assert len(acked) > during  # the writer went on after the backup
    fresh = tmp_path / "fresh" / "restored.db"
    ok(
        llmspell(
            llmspell_cmd,
            cli_env,
            "state",
            "restore",
            "copy.db",
            "--file",
            str(fresh),
            cwd=tmp_path,
        )
    )
    with sqlite3.connect(fresh) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()

    def state(*args: str) -> str:
        return ok(
            llmspell(llmspell_cmd, cli_env, "state", *args, "--file", str(fresh), cwd=tmp_path)
        )

    assert state("get", "kept", "--scope", "agent:a") == '"héllo"\n'
    assert state("get", "blob") == '{"$bytes": "AP8="}\n'
    written = state("keys", "w").split()
    # a snapshot: every write acknowledged before the backup began, and no gaps after it
    assert written == [f"w{i:06d}" for i in range(len(written))]
    assert before <= len(written) <= len(acked)
    assert json.loads(state("get", written[-1])) == {"i": len(written) - 1, "pad": "x" * 200}


def test_restore_refuses_what_is_not_a_state_database(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    ok(llmspell(llmspell_cmd, cli_env, "state", "set", "k", "1", "--file", "s.db", cwd=tmp_path))
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    proc = llmspell(
        llmspell_cmd, cli_env, "state", "restore", "junk.db", "--file", "s.db", cwd=tmp_path
    )
    assert "junk.db" in refused(proc) and "not a state database" in proc.stderr
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    proc = llmspell(
        llmspell_cmd, cli_env, "state", "restore", "other.db", "--file", "s.db", cwd=tmp_path
    )
    assert "other.db" in refused(proc)
    proc = llmspell(
        llmspell_cmd, cli_env, "state", "restore", "gone.db", "--file", "s.db", cwd=tmp_path
    )
    assert "gone.db" in refused(proc)
    # the store is as it was
    got = llmspell(llmspell_cmd, cli_env, "state", "get", "k", "--file", "s.db", cwd=tmp_path)
    assert ok(got) == "1\n"
