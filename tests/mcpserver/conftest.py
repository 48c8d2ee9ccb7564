"""Real gateways in real processes on loopback, stopped even when a test fails."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp import StdioServerParameters

ROOT = Path(__file__).resolve().parents[2]
PROFILE = Path(__file__).parent / "profile" / "llmspell.toml"
NODE = ROOT / "node_modules" / ".bin" / "node"
_URL = re.compile(r"serving MCP at (http://\S+/mcp)")


def env() -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = str(ROOT) + os.pathsep + out.get("PYTHONPATH", "")
    return out


@dataclass
class RunningGateway:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gateway(
    *args: str, config: Path | None = PROFILE, cwd: Path = ROOT, timeout: float = 20.0
) -> Iterator[RunningGateway]:
    """`llmspell gateway --config CONFIG --port 0 ARGS...`; yields once it announces its URL."""
    chosen = ["--config", str(config)] if config is not None else []
    with tempfile.NamedTemporaryFile("wb", suffix=".log", delete=False) as log:
        path = Path(log.name)
        proc = subprocess.Popen(
            [sys.executable, "-m", "llmspell", "gateway", *chosen, "--port", "0", *args],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env(),
            cwd=cwd,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            found = _URL.search(path.read_text(errors="replace"))
            if found:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway did not start:\n{path.read_text(errors='replace')}")
            time.sleep(0.05)
        yield RunningGateway(found.group(1), proc, path)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        path.unlink(missing_ok=True)


def stdio_params(config: Path = PROFILE) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "llmspell", "gateway", "--stdio", "--quiet", "--config", str(config)],
        env=env(),
        cwd=str(ROOT),
    )


@pytest.fixture(scope="module")
def http_gateway() -> Iterator[RunningGateway]:
    with gateway() as running:
        yield running


@pytest.fixture(params=["http", "stdio"])
def target(request: pytest.FixtureRequest) -> object:
    """Where an `mcp.Client` connects: the module's HTTP gateway, or a fresh stdio process."""
    if request.param == "http":
        running: RunningGateway = request.getfixturevalue("http_gateway")
        return running.url
    return stdio_params()
