"""What the gateway adds to a remote MCP tool call: `tools/call` latency straight to a Python
MCP server and through `llmspell gateway` federating it, with the same client, in one run.

Calls alternate between the two paths (direct, proxied, direct, ...) so drift on the machine
hits both alike; the figures are p50/p99 per path and the difference and ratio between them.
"""

from __future__ import annotations

import asyncio
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .startup import llmspell_command

_URL = re.compile(rb"serving MCP at (http://\S+/mcp)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the upstream did not start") from None
            time.sleep(0.05)


def _gateway(config: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [*llmspell_command(), "gateway", "--config", str(config), "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    while True:
        line = proc.stderr.readline()
        if not line:
            raise RuntimeError("gateway exited before announcing its URL")
        found = _URL.search(line)
        if found:
            return proc, found.group(1).decode()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(direct_url: str, proxy_url: str, calls: int) -> dict[str, list[float]]:
    from mcp import Client

    times: dict[str, list[float]] = {"direct": [], "gateway": []}
    async with (
        Client(direct_url, mode="legacy") as direct,
        Client(proxy_url, mode="legacy") as proxy,
    ):
        paths = {"direct": (direct, "echo"), "gateway": (proxy, "py.echo")}
        for _ in range(50):  # warm both paths: connections, caches, schema compilation
            for client, tool in paths.values():
                await client.call_tool(tool, {"message": "warm"})
        for i in range(calls):
            for name, (client, tool) in paths.items():
                started = time.perf_counter()
                result = await client.call_tool(tool, {"message": str(i)})
                times[name].append((time.perf_counter() - started) * 1000)
                assert not result.is_error
    return times


def run(runs: int = 15) -> int:
    calls = max(200, runs * 40)
    port = _free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-m", "llmspell.conformance.peers.mcp_server", "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    gateway = None
    try:
        _wait_port(port, upstream)
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "llmspell.toml"
            config.write_text(
                f'builtins = false\n[mcpServers.py]\nurl = "http://127.0.0.1:{port}/mcp"\n',
                encoding="utf-8",
            )
            gateway, url = _gateway(config)
            times = asyncio.run(_measure(f"http://127.0.0.1:{port}/mcp", url, calls))
    finally:
        for proc in (gateway, upstream):
            if proc is not None:
                proc.terminate()
                proc.wait()
    print(f"tools/call latency, Python MCP upstream over Streamable HTTP, {calls} calls per path")
    print(f"{'path':<10}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, values in times.items():
        print(
            f"{name:<10}{_pct(values, 0.5):>9.2f}{_pct(values, 0.99):>9.2f}"
            f"{statistics.fmean(values):>9.2f}"
        )
    d50, g50 = _pct(times["direct"], 0.5), _pct(times["gateway"], 0.5)
    d99, g99 = _pct(times["direct"], 0.99), _pct(times["gateway"], 0.99)
    print(
        f"\nadded by the gateway: p50 +{g50 - d50:.2f} ms ({g50 / d50:.2f}x), "
        f"p99 +{g99 - d99:.2f} ms ({g99 / d99:.2f}x)"
    )
    return 0
