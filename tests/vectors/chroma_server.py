"""A real Chroma server for the tests: `chroma run` (installed with chromadb) on a free loopback
port with its data in a temporary folder, stopped even when a test fails.

The CLI is started through `chromadb_rust_bindings.cli`, which is all the `chroma` script does
after importing chromadb: ~0.6 s to a heartbeat instead of ~3 s. `ChromaServer` can be stopped
and started again on the same port and path (the restart test); `chroma_server()` is a context
manager; `shared_server()` is one server for the whole session, started on first use and stopped
at exit, and `chroma_store` the shared suite's factory: a fresh database on it per test.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from llmspell.adapters.vectors import open_store
from llmspell.runtime.vectors import VectorStore
from processes import stop

LAUNCH = "import sys, chromadb_rust_bindings as c; c.cli(['chroma', *sys.argv[1:]])"


def _die_with_parent() -> None:
    """The server gets SIGTERM if pytest itself is killed (Linux), so none is left behind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaServer:
    """One `chroma run --path PATH --host 127.0.0.1 --port PORT` process at a time."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = path.parent / "chroma.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in = 0.0
        """Seconds the last `start()` took, spawn to first good heartbeat."""

    def start(self, timeout: float = 60.0) -> None:
        if importlib.util.find_spec("chromadb_rust_bindings") is None:
            raise RuntimeError("no chromadb: install the test extras (`make test` does)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        begun = time.monotonic()
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "NO_COLOR": "1"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", LAUNCH, "run", "--path", str(self.path), *self._where()],
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        try:
            self._wait(begun + timeout)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - begun

    def _where(self) -> list[str]:
        return ["--host", "127.0.0.1", "--port", str(self.port)]

    def _wait(self, deadline: float) -> None:
        assert self.process is not None
        while True:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).is_success:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"chroma did not start on {self.url}:\n{self.log.read_text(errors='replace')}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        stop(process)


@contextmanager
def chroma_server() -> Iterator[ChromaServer]:
    folder = Path(tempfile.mkdtemp(prefix="llmspell-chroma-"))
    server = ChromaServer(folder / "data")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


_shared: list[ChromaServer] = []


def shared_server() -> ChromaServer:
    """The session's server, started on first use; stopped (and its folder removed) at exit."""
    if not _shared:
        folder = Path(tempfile.mkdtemp(prefix="llmspell-chroma-"))
        server = ChromaServer(folder / "data")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        atexit.register(server.stop)
        server.start()
        _shared.append(server)
    return _shared[0]


async def chroma_store(tmp_path: Path) -> VectorStore:
    """An empty `chroma` store: its own database on the shared server."""
    server = shared_server()  # on this (the main) thread: PDEATHSIG follows the spawning thread
    database = f"t{uuid.uuid4().hex}"
    async with httpx.AsyncClient() as http:
        made = await http.post(
            f"{server.url}/api/v2/tenants/default_tenant/databases", json={"name": database}
        )
        made.raise_for_status()
    return open_store("chroma", url=server.url, database=database)
