"""Processes the gateway suites start: free ports, the Python MCP peer, `llmspell gateway`.

Every server binds 127.0.0.1; `Procs` owns what was started so one `finally` ends it all.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from .startup import llmspell_command

GATEWAY_URL = re.compile(rb"serving MCP at (http://\S+/mcp)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"exited with code {proc.returncode} before listening") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"not listening on port {port} after {timeout:g} s") from None
            time.sleep(0.05)


def peer_script() -> str:
    """Path of the Python MCP peer, run by path so it needs no PYTHONPATH in any environment."""
    spec = importlib.util.find_spec("llmspell.conformance.peers.mcp_server")
    assert spec is not None and spec.origin is not None
    return spec.origin


def peer_command() -> list[str]:
    """The peer over stdio (append `--http PORT` for Streamable HTTP)."""
    return [sys.executable, peer_script()]


def clean_env() -> dict[str, str]:
    """This environment without PYTHONPATH, for tools living in their own virtualenvs."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _drain(stream: IO[bytes], tail: collections.deque[str]) -> None:
    # Unread stderr would fill the pipe and stall the server under load.
    for line in iter(stream.readline, b""):
        tail.append(line.decode(errors="replace").rstrip())


class Procs:
    """Started servers, terminated together (in reverse order) when the block ends."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Procs:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def spawn(
        self,
        cmd: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        log: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `cmd` with stderr to `log` (kept to say why it failed) or discarded."""
        with open(log or os.devnull, "wb") as stderr:
            proc = subprocess.Popen(
                list(cmd),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        self._procs.append(proc)
        return proc

    def peer_http(self) -> str:
        """Start the Python MCP peer over Streamable HTTP; return its URL once it listens."""
        port = free_port()
        wait_port(port, self.spawn([*peer_command(), "--http", str(port)]))
        return f"http://127.0.0.1:{port}/mcp"

    def gateway(self, *args: str, cwd: str | None = None) -> str:
        """Start `llmspell gateway` on a free port; return its MCP URL once it announces it."""
        proc = subprocess.Popen(
            [*llmspell_command(), "gateway", "--port", "0", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=cwd,
            start_new_session=True,
        )
        self._procs.append(proc)
        assert proc.stderr is not None
        tail: collections.deque[str] = collections.deque(maxlen=20)
        while True:
            line = proc.stderr.readline()
            if not line:
                proc.wait()
                raise RuntimeError(
                    "gateway exited before announcing its URL: " + " / ".join(tail)[-500:]
                )
            tail.append(line.decode(errors="replace").rstrip())
            found = GATEWAY_URL.search(line)
            if found:
                threading.Thread(target=_drain, args=(proc.stderr, tail), daemon=True).start()
                return found.group(1).decode()

    def stop(self) -> None:
        """SIGTERM each started process group (a proxy's own stdio peer goes with it)."""
        for proc in reversed(self._procs):
            _signal_group(proc, signal.SIGTERM)
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait()
        self._procs.clear()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # Each server leads its own session (start_new_session), so its group is what it spawned.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def last_line(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return lines[-1][-300:] if lines else ""


def config_file(directory: str, name: str, text: str) -> Path:
    path = Path(directory) / name
    path.write_text(text, encoding="utf-8")
    return path
