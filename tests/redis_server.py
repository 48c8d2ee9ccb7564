"""A real, throw-away Redis server for tests (rate limits, event streams and catalog changes
shared by replicas).

`running_redis()` starts Debian's `redis-server` on a free port bound to 127.0.0.1, with no
persistence and its working folder in a temporary directory, and stops it (SHUTDOWN NOSAVE,
then kill) however the block ends. When the binary is missing the fixture FAILS (it does not
skip), so a CI machine without it is noticed; `make test` installs it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from processes import stop

START_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class RedisServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_redis() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server (make test does)")
    with tempfile.TemporaryDirectory(prefix="llmspell-redis-") as folder:
        port = _free_port()
        process = subprocess.Popen(
            [
                binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", folder,
                "--protected-mode", "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                        conn.sendall(b"PING\r\n")
                        if conn.recv(16).startswith(b"+PONG"):
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not start on 127.0.0.1:{port}")
                time.sleep(0.05)
            yield RedisServer(port, process)
        finally:
            stop(process)
