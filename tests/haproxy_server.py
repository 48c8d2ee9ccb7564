"""A real HAProxy in front of gateway replicas, run from the repository's own
`deploy/haproxy.cfg` (so the tests check the config users deploy), bound to 127.0.0.1 on a free
port, stopped however the block ends. A missing binary FAILS the test (`make test` installs it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import stop

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "haproxy.cfg"


@contextlib.contextmanager
def running_haproxy(port: int, *replicas: str, log: Path) -> Iterator[str]:
    """HAProxy on 127.0.0.1:`port` over the `host:port` replicas (LLMSPELL_A, LLMSPELL_B);
    yields its base URL. Its output goes to `log`."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).is_file():
        pytest.fail("haproxy is not installed: apt-get install haproxy (make test does)")
    env = dict(os.environ, LLMSPELL_LB_BIND=f"127.0.0.1:{port}")
    for name, address in zip(("LLMSPELL_A", "LLMSPELL_B"), replicas, strict=True):
        env[name] = address
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "-db", "-f", str(CONFIG)], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"haproxy did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
