"""The system tools through the real pipeline: real processes, real sockets on 127.0.0.1 only.
Other addresses appear only as strings that must be refused before any connection."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest
from llmspell.runtime import ErrorCode, Runtime
from llmspell.runtime.sandbox import (
    EnvironmentPolicy,
    FilePolicy,
    NetworkPolicy,
    ProcessPolicy,
    Sandbox,
)

from .conftest import call, refused, runtime_with

MiB = 1024 * 1024


def runner(tmp_path: Path, *allow: str, **limits: object) -> Runtime:
    process = ProcessPolicy(allow=allow, **limits)  # type: ignore[arg-type]
    return runtime_with(Sandbox(files=FilePolicy((tmp_path,)), process=process))


async def gone(pid: int, within: float = 5.0) -> bool:
    """The process no longer runs: no such pid, or only a zombie left for its new parent (the
    container's init may not reap orphans)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        with contextlib.suppress(psutil.NoSuchProcess):
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        await asyncio.sleep(0.05)
    return False


# -- process-executor --------------------------------------------------------------------------


async def test_process_executor_refuses_everything_by_default(rt: Runtime) -> None:
    err = await refused(rt, "process-executor", command="ls")
    assert err.code == ErrorCode.DENIED
    assert err.message == (
        "process-executor: 'ls' is not an allowed command (no command is allowed); to allow it, "
        'add it to [tools.process] allow = ["ls", ...] in llmspell.toml'
    )


async def test_process_executor_annotations(rt: Runtime) -> None:
    notes = rt.catalog.get("process-executor").annotations
    assert notes is not None
    assert (notes.destructive, notes.open_world, notes.read_only, notes.idempotent) == (
        True,
        True,
        False,
        False,
    )


async def test_arguments_stay_literal(tmp_path: Path) -> None:
    rt = runner(tmp_path, "echo")
    marker = tmp_path / "x"
    text = f"echo hi; touch {marker}; $(touch {marker}) `touch {marker}` *"
    result = await call(rt, "process-executor", command="echo", args=["-c", text])
    assert result.data["stdout"] == f"-c {text}\n"
    assert result.data["exit_code"] == 0 and not marker.exists()


@pytest.mark.parametrize("command", ["sh", "/bin/sh", "bash", "echo; sh", "echo hi", "./echo"])
async def test_a_shell_is_unreachable_unless_allowed(tmp_path: Path, command: str) -> None:
    err = await refused(runner(tmp_path, "echo"), "process-executor", command=command)
    assert err.code == ErrorCode.DENIED and "(echo)" in err.message


async def test_timeout_kills_the_process_and_its_children(tmp_path: Path) -> None:
    rt = runner(tmp_path, "sh")
    result = await call(
        rt, "process-executor", command="sh", args=["-c", "sleep 100 & echo $!; wait"], timeout=1
    )
    assert result.data["timed_out"] is True and result.data["signal"] == "SIGKILL"
    assert result.data["exit_code"] is None and 1 <= result.data["duration"] < 5
    assert await gone(int(result.data["stdout"]))


async def test_timeout_above_the_policy_is_refused(tmp_path: Path) -> None:
    err = await refused(
        runner(tmp_path, "sh", timeout=5), "process-executor", command="sh", timeout=6
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS and err.data["field"] == "timeout"


async def test_what_the_command_leaves_behind_is_killed_when_it_exits(tmp_path: Path) -> None:
    rt = runner(tmp_path, "sh")
    script = "sleep 100 >/dev/null 2>&1 & echo $!"
    result = await call(rt, "process-executor", command="sh", args=["-c", script])
    assert result.data["exit_code"] == 0 and not result.data["timed_out"]
    assert await gone(int(result.data["stdout"]))


async def test_cancellation_kills_the_group(tmp_path: Path) -> None:
    rt = runner(tmp_path, "sh")
    script = "sleep 100 & echo $! > child.pid; wait"
    task = asyncio.create_task(call(rt, "process-executor", command="sh", args=["-c", script]))
    pidfile = tmp_path / "child.pid"
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        await asyncio.sleep(0.025)
    pid = int(pidfile.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await gone(pid)


@pytest.mark.parametrize("delay", [0, 0.001, 0.003, 0.01, 0.03])
async def test_cancellation_while_starting_kills_the_group(tmp_path: Path, delay: float) -> None:
    """The command may run before asyncio has connected its pipes; a cancel then must still
    kill the whole group, not only the leader."""
    from llmspell.adapters.tools.sandbox import process

    policy = ProcessPolicy(allow=("sh",))
    script = "sleep 100 & echo $! > child.pid; wait"
    task = asyncio.create_task(
        process.run(
            policy,
            "/bin/sh",
            ["-c", script],
            cwd=tmp_path,
            env=process.environment(policy),
            timeout=30,
        )
    )
    await asyncio.sleep(delay)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 5
    await asyncio.sleep(0.1)
    pidfile = tmp_path / "child.pid"
    if pidfile.exists() and pidfile.read_text().strip():
        assert await gone(int(pidfile.read_text()))


async def test_the_call_deadline_kills_the_group(tmp_path: Path) -> None:
    rt = runner(tmp_path, "sh")
    script = "sleep 100 & echo $! > child.pid; wait"
    started = time.monotonic()
    err = await refused_with_timeout(rt, script, 0.5)
    assert err.code == ErrorCode.TIMEOUT and time.monotonic() - started < 5
    assert await gone(int((tmp_path / "child.pid").read_text()))


async def refused_with_timeout(rt: Runtime, script: str, seconds: float) -> object:
    from llmspell.runtime import LLMSpellError

    with pytest.raises(LLMSpellError) as info:
        await rt.call(
            "process-executor", {"command": "sh", "args": ["-c", script]}, timeout=seconds
        )
    return info.value


async def test_memory_limit_stops_a_large_allocation(tmp_path: Path) -> None:
    rt = runner(tmp_path, "python3", memory_bytes=200 * MiB)
    result = await call(
        rt, "process-executor", command="python3", args=["-c", "x = bytearray(1024 ** 3)"]
    )
    assert result.data["exit_code"] != 0 and "MemoryError" in result.data["stderr"]


async def test_cpu_limit_stops_a_busy_loop(tmp_path: Path) -> None:
    rt = runner(tmp_path, "python3", cpu_seconds=1, timeout=20)
    result = await call(rt, "process-executor", command="python3", args=["-c", "while True: pass"])
    assert result.data["signal"] in ("SIGXCPU", "SIGKILL") and not result.data["timed_out"]


async def test_output_is_capped_and_flagged(tmp_path: Path) -> None:
    rt = runner(tmp_path, "python3", max_output=100)
    script = "import sys; print('x' * 100000); print('y' * 5, file=sys.stderr)"
    result = await call(rt, "process-executor", command="python3", args=["-c", script])
    assert result.data["stdout"] == "x" * 100 and result.data["stdout_truncated"] is True
    assert result.data["stderr"] == "yyyyy\n" and result.data["stderr_truncated"] is False
    assert "stdout (truncated)" in result.text


async def test_environment_is_scrubbed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMSPELL_TEST_SECRET", "s3cret-value")
    result = await call(runner(tmp_path, "env"), "process-executor", command="env")
    names = {line.split("=", 1)[0] for line in result.data["stdout"].splitlines()}
    assert "PATH" in names and names <= {"PATH", "LANG", "LC_ALL", "TZ"}
    assert "s3cret-value" not in result.data["stdout"]


async def test_stdin_and_cwd_inside_the_roots(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    rt = runner(tmp_path, "cat", "pwd")
    result = await call(rt, "process-executor", command="cat", stdin="héllo\n")
    assert result.data["stdout"] == "héllo\n"
    result = await call(rt, "process-executor", command="pwd", cwd="sub")
    assert result.data["stdout"].strip() == str((tmp_path / "sub").resolve())


@pytest.mark.parametrize("cwd", ["/etc", "..", "sub/../../"])
async def test_cwd_outside_the_roots_is_refused(tmp_path: Path, cwd: str) -> None:
    (tmp_path / "sub").mkdir()
    err = await refused(runner(tmp_path, "pwd"), "process-executor", command="pwd", cwd=cwd)
    assert err.code == ErrorCode.DENIED and "outside the allowed roots" in err.message


async def test_a_failing_command_reports_its_exit_code(tmp_path: Path) -> None:
    rt = runner(tmp_path, "sh")
    result = await call(rt, "process-executor", command="sh", args=["-c", "echo oops >&2; exit 3"])
    assert result.data["exit_code"] == 3 and result.data["stderr"] == "oops\n"
    assert result.text.startswith("sh: exit code 3")


# -- environment-reader ------------------------------------------------------------------------


def reader(**policy: object) -> Runtime:
    return runtime_with(Sandbox(environment=EnvironmentPolicy(**policy)))  # type: ignore[arg-type]


async def test_environment_never_shows_a_name_outside_the_allow_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLMSPELL_TEST_SECRET", "s3cret-value")
    rt = reader()
    present = await refused(rt, "environment-reader", operation="get", name="LLMSPELL_TEST_SECRET")
    absent = await refused(rt, "environment-reader", operation="get", name="LLMSPELL_TEST_NOPE")
    assert present.code == absent.code == ErrorCode.DENIED
    assert "s3cret-value" not in present.message and "s3cret-value" not in str(present.data)
    assert present.message.replace("SECRET", "NOPE") == absent.message
    listing = await call(rt, "environment-reader", operation="list")
    assert "s3cret-value" not in listing.text and "LLMSPELL_TEST" not in listing.text
    assert "PATH" in {v["name"] for v in listing.data["variables"]}


async def test_environment_masks_secret_looking_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_API_TOKEN", "tok-123")
    monkeypatch.setenv("APP_NAME", "demo")
    rt = reader(allow=("APP_*",))
    token = await call(rt, "environment-reader", operation="get", name="APP_API_TOKEN")
    assert token.data == {"name": "APP_API_TOKEN", "value": "****", "masked": True, "set": True}
    name = await call(rt, "environment-reader", operation="get", name="APP_NAME")
    assert name.text == "APP_NAME=demo"
    listing = await call(rt, "environment-reader", operation="list")
    assert "APP_API_TOKEN=****" in listing.text and "tok-123" not in listing.text
    unset = await call(rt, "environment-reader", operation="get", name="APP_UNSET")
    assert unset.data["set"] is False


# -- service-checker ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def http_server(response: bytes) -> AsyncIterator[int]:
    """A one-answer HTTP server on 127.0.0.1; yields its port."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(response)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def checker(**policy: object) -> Runtime:
    return runtime_with(Sandbox(network=NetworkPolicy(**policy)))  # type: ignore[arg-type]


async def test_service_checker_probes_a_local_server_when_allowed() -> None:
    async with http_server(OK) as port:
        rt = checker(allow_private=True)
        tcp = await call(rt, "service-checker", operation="tcp", host="127.0.0.1", port=port)
        assert tcp.data["up"] is True and tcp.data["address"] == "127.0.0.1"
        listed = checker(allow=(f"127.0.0.1:{port}",))
        http = await call(
            listed, "service-checker", operation="http", url=f"http://127.0.0.1:{port}/health"
        )
        assert http.data["status"] == 200 and http.data["up"] is True
        assert http.data["tls"] is False and http.data["latency_ms"] >= 0
        assert http.text.startswith(f"http http://127.0.0.1:{port}/health: up 200 OK")


async def test_service_checker_refuses_loopback_by_default() -> None:
    async with http_server(OK) as port:
        rt = checker()
        err = await refused(rt, "service-checker", operation="tcp", host="127.0.0.1", port=port)
        assert err.code == ErrorCode.DENIED
        assert err.message == (
            "service-checker: outbound connection refused: 127.0.0.1 is a private address; "
            f'add "127.0.0.1:{port}" to [tools.network] allow or set allow_private = true '
            "to reach it"
        )
        err = await refused(
            rt, "service-checker", operation="http", url=f"http://127.0.0.1:{port}/"
        )
        assert err.code == ErrorCode.DENIED and "127.0.0.1 is a private address" in err.message


@pytest.mark.parametrize(
    "target",
    [
        {"operation": "tcp", "host": "169.254.169.254", "port": 80},
        {"operation": "http", "url": "http://169.254.169.254/latest/meta-data/"},
        {"operation": "tcp", "host": "10.0.0.1", "port": 22},
        {"operation": "tcp", "host": "::ffff:169.254.169.254", "port": 80},
    ],
)
async def test_service_checker_refuses_metadata_and_private_addresses(
    target: dict[str, object],
) -> None:
    for rt in (checker(), checker(allow=("*",))):  # a glob never lifts the private rule
        err = await refused(rt, "service-checker", **target)
        assert err.code == ErrorCode.DENIED and "is a private address" in err.message


async def test_service_checker_reports_a_closed_port_as_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await call(
        checker(allow_private=True), "service-checker", operation="tcp", host="127.0.0.1", port=port
    )
    assert result.data["up"] is False and result.text.startswith(f"tcp 127.0.0.1:{port}: down")


async def test_service_checker_dns() -> None:
    result = await call(
        checker(allow_private=True), "service-checker", operation="dns", host="localhost"
    )
    assert result.data["resolved"] is True
    assert "127.0.0.1" in result.data["a"] or "::1" in result.data["aaaa"]
    err = await refused(checker(), "service-checker", operation="dns", host="localhost")
    assert err.code == ErrorCode.DENIED and "localhost resolves to" in err.message
    missing = await call(checker(), "service-checker", operation="dns", host="nothing.invalid")
    assert missing.data["resolved"] is False


# -- system-monitor ----------------------------------------------------------------------------


async def test_system_monitor(rt: Runtime, tmp_path: Path) -> None:
    cpu = await call(rt, "system-monitor", operation="cpu")
    assert cpu.data["logical"] >= 1 and 0 <= cpu.data["percent"] <= 100
    memory = await call(rt, "system-monitor", operation="memory")
    assert memory.data["total"] > memory.data["available"] > 0
    disk = await call(rt, "system-monitor", operation="disk")
    assert disk.data["total"] > 0 and disk.data["path"] == "."
    top = await call(rt, "system-monitor", operation="processes", sort_by="memory", limit=3)
    rows = top.data["processes"]
    assert len(rows) == 3 and rows[0]["rss"] >= rows[1]["rss"] >= rows[2]["rss"]
    assert set(rows[0]) == {"pid", "name", "cpu_percent", "rss"}
    err = await refused(rt, "system-monitor", operation="disk", path="/")
    assert err.code == ErrorCode.DENIED
