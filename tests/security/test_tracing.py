"""OpenTelemetry with the `otel` extra: a caller's trace context (`_meta.traceparent`) is the
parent of the gateway's spans, and the gateway passes the trace on to the upstream it calls."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from mcp import Client
from mcpserver.conftest import free_port, gateway, peers, py_peer

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE}-00f067aa0ba902b7-01"


async def test_trace_context_runs_caller_gateway_upstream(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "llmspell.toml"
    config.write_text(
        f"""
[tracing]
enabled = true
exporter = "console"
service_name = "gateway-under-test"
[mcpServers.py]
url = "http://127.0.0.1:{port}/mcp"
"""
    )
    with peers(py_peer(port)), gateway(config=config, cwd=tmp_path) as running:
        async with Client(running.url) as client:
            seen = await client.call_tool("py.traceparent", {}, meta={"traceparent": CALLER})
        await asyncio.sleep(0.3)
        log = running.output()
    upstream = seen.content[0].text  # type: ignore[union-attr]
    _, trace_id, parent, _ = upstream.split("-")
    assert trace_id == TRACE and parent != "00f067aa0ba902b7"  # same trace, the gateway's span
    spans = re.findall(r'"name": "([^"]+)"', log)
    assert "tool py.traceparent" in spans  # the pipeline's span
    assert any(name.startswith("tools/call") for name in spans)  # the MCP SDK's server span
    assert f'"trace_id": "0x{TRACE}"' in log and "gateway-under-test" in log
