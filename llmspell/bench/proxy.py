"""What the gateway adds to a remote MCP tool call: `tools/call` latency straight to a Python
MCP server and through `llmspell gateway` federating it, with the same client, in one run.

Calls alternate between the two paths (direct, proxied, direct, ...) so drift on the machine
hits both alike; the figures are p50/p99 per path and the difference and ratio between them.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time

from ._procs import Procs, config_file, pct


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
    with tempfile.TemporaryDirectory() as tmp, Procs() as procs:
        direct = procs.peer_http()
        config = config_file(
            tmp, "llmspell.toml", f'builtins = false\n[mcpServers.py]\nurl = "{direct}"\n'
        )
        url = procs.gateway("--config", str(config), cwd=tmp)
        times = asyncio.run(_measure(direct, url, calls))
    print(f"tools/call latency, Python MCP upstream over Streamable HTTP, {calls} calls per path")
    print(f"{'path':<10}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, values in times.items():
        print(
            f"{name:<10}{pct(values, 0.5):>9.2f}{pct(values, 0.99):>9.2f}"
            f"{statistics.fmean(values):>9.2f}"
        )
    d50, g50 = pct(times["direct"], 0.5), pct(times["gateway"], 0.5)
    d99, g99 = pct(times["direct"], 0.99), pct(times["gateway"], 0.99)
    print(
        f"\nadded by the gateway: p50 +{g50 - d50:.2f} ms ({g50 / d50:.2f}x), "
        f"p99 +{g99 - d99:.2f} ms ({g99 / d99:.2f}x)"
    )
    return 0
