"""Real gateways in real processes on loopback, stopped even when a test fails."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import StdioServerParameters
from processes import stop

ROOT = Path(__file__).resolve().parents[2]
PROFILE = Path(__file__).parent / "profile" / "llmspell.toml"


def _node() -> Path:
    """The Node 22 `npm ci` installs for this platform, else a `node` >= 22 on PATH."""
    local = ROOT / "node_modules" / ".bin" / "node"
    system = shutil.which("node")
    if local.exists() or system is None:
        return local
    version = subprocess.run([system, "--version"], capture_output=True, text=True).stdout
    major = re.match(r"v(\d+)\.", version)
    return Path(system) if major and int(major.group(1)) >= 22 else local


NODE = _node()
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
    *args: str,
    config: Path | None = PROFILE,
    cwd: Path = ROOT,
    timeout: float = 20.0,
    extra_env: dict[str, str] | None = None,
    command: str = "gateway",
) -> Iterator[RunningGateway]:
    """`llmspell COMMAND --config CONFIG --port 0 ARGS...` (COMMAND `gateway`, or `serve`);
    yields once it announces its URL."""
    chosen = ["--config", str(config)] if config is not None else []
    with tempfile.NamedTemporaryFile("wb", suffix=".log", delete=False) as log:
        path = Path(log.name)
        proc = subprocess.Popen(
            [sys.executable, "-m", "llmspell", command, *chosen, "--port", "0", *args],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**env(), **(extra_env or {})},
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
        stop(proc)
        path.unlink(missing_ok=True)


def initialize(
    version: str, *, request_id: int = 1, client: str = "test", capabilities: Any = None
) -> dict[str, Any]:
    """A raw JSON-RPC `initialize` request, for tests that speak HTTP without an SDK client."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": capabilities or {},
            "clientInfo": {"name": client, "version": "1"},
        },
    }


def messages(response: httpx2.Response) -> list[dict[str, Any]]:
    """The JSON-RPC messages of a JSON or an event-stream response (none for an empty body)."""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return [
            json.loads(line[5:])
            for line in response.text.splitlines()
            if line.startswith("data:") and line[5:].strip()
        ]
    return [response.json()] if response.content else []


async def counters(mcp_url: str, family: str) -> dict[tuple[str, ...], float]:
    """A gateway's `/metrics` samples of one counter family, keyed by their label values in
    the order of the labels' names."""
    from prometheus_client.parser import text_string_to_metric_families

    async with httpx2.AsyncClient() as http:
        page = (await http.get(mcp_url.replace("/mcp", "/metrics"), timeout=10)).text
    return {
        tuple(v for _, v in sorted(sample.labels.items())): sample.value
        for metric in text_string_to_metric_families(page)
        if metric.name == family
        for sample in metric.samples
        if sample.name == f"{family}_total"
    }


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


# -- upstream MCP servers for the federation tests -----------------------------------------------

PACKAGES = ROOT / "node_modules" / "@modelcontextprotocol"
EVERYTHING = PACKAGES / "server-everything" / "dist" / "index.js"
FILESYSTEM = PACKAGES / "server-filesystem" / "dist" / "index.js"
LOOPBACK = Path(__file__).parent / "loopback.cjs"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpPeer:
    """An upstream MCP server on a fixed loopback port that a test can SIGKILL and start again."""

    def __init__(self, command: list[str], port: int, extra_env: dict[str, str]) -> None:
        self.command = command
        self.port = port
        self.env = {**env(), **extra_env}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self, timeout: float = 20.0) -> None:
        import socket

        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{self.command} did not listen on {self.port}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def py_peer(port: int) -> HttpPeer:
    command = [sys.executable, "-m", "llmspell.conformance.peers.mcp_server", "--http", str(port)]
    return HttpPeer(command, port, {})


def a2a_peer(port: int) -> HttpPeer:
    """The plain a2a-sdk agent (conformance/peers/a2a_agent.py) on a loopback port."""
    command = [sys.executable, "-m", "llmspell.conformance.peers.a2a_agent", str(port)]
    return HttpPeer(command, port, {})


def everything_http(port: int, transport: str = "streamableHttp") -> HttpPeer:
    """server-everything over Streamable HTTP (`/mcp`) or the legacy SSE transport (`/sse`)."""
    return HttpPeer(
        [str(NODE), str(EVERYTHING), transport],
        port,
        {"PORT": str(port), "NODE_OPTIONS": f"--require {LOOPBACK}"},
    )


@contextmanager
def peers(*made: HttpPeer) -> Iterator[tuple[HttpPeer, ...]]:
    try:
        for peer in made:
            peer.start()
        yield made
    finally:
        for peer in made:
            peer.kill()


def llmspell(
    *args: str, extra_env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """`python -m llmspell ARGS...` from the source tree, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "llmspell", *args],
        capture_output=True,
        text=True,
        env={**env(), **(extra_env or {})},
        timeout=timeout,
        cwd=ROOT,
    )


class Inbox:
    """An MCP client's message handler that keeps what arrives, to wait for a kind."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.arrived = anyio.Event()

    async def __call__(self, message: Any) -> None:
        self.items.append(message)
        self.arrived.set()

    async def wait_for(self, kind: type[Any], seconds: float = 10) -> Any:
        with anyio.fail_after(seconds):
            while True:
                for item in self.items:
                    if isinstance(item, kind):
                        return item
                self.arrived = anyio.Event()
                await self.arrived.wait()
