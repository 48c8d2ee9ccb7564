"""Load on one MCP Streamable HTTP endpoint: `tools/call` POSTs from N concurrent clients.

wrk drives it when installed (C, one thread: the load generator leaves the Python cores to the
server); otherwise an asyncio httpx loop does, labelled as such since it competes for the CPU.
A stateful endpoint gets one session per client (initialize + notifications/initialized);
every POST carries the headers the transport requires and a unique JSON-RPC id. A reply that is
not HTTP 200 with `"isError":false` counts as an error.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from ._procs import pct

PROTOCOL = "2025-11-25"
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": PROTOCOL,
}
INSTALL_HINT = "wrk not found: install it (apt-get install wrk) for a load generator off the CPU"

_WRK_SCRIPT = """\
local sessions = {%(sessions)s}
local prefix = '{"jsonrpc":"2.0","id":'
local suffix = ',"method":"tools/call","params":%(params)s}'
local headers = {
  ["Content-Type"] = "application/json",
  ["Accept"] = "application/json, text/event-stream",
  ["MCP-Protocol-Version"] = "%(protocol)s",
}
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = tid * 1000000000
  bad = 0
end

function request()
  counter = counter + 1
  if #sessions > 0 then headers["Mcp-Session-Id"] = sessions[counter %% #sessions + 1] end
  return wrk.format("POST", nil, headers, prefix .. counter .. suffix)
end

function response(status, hdrs, body)
  if status ~= 200 or not string.find(body, '"isError":false', 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%%d,"duration_us":%%d,"bad":%%d,"socket_errors":%%d,' ..
    '"p50_us":%%d,"p90_us":%%d,"p99_us":%%d,"mean_us":%%.1f,"max_us":%%d}\\n',
    summary.requests, summary.duration, bad,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def initialize(client: str) -> dict[str, Any]:
    """The MCP `initialize` request a client named `client` opens with."""
    return {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": client, "version": "1"},
        },
    }


def open_sessions(url: str, count: int) -> list[str]:
    """One initialized MCP session per client, as N separate clients would hold."""
    init = initialize("bench-load")
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    sessions = []
    with httpx.Client(timeout=10) as client:
        for _ in range(count):
            reply = client.post(url, json=init, headers=HEADERS)
            reply.raise_for_status()
            sid = reply.headers["mcp-session-id"]
            client.post(url, json=initialized, headers={**HEADERS, "Mcp-Session-Id": sid})
            sessions.append(sid)
    return sessions


def run_wrk(
    url: str, params: dict[str, Any], sessions: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    script = _WRK_SCRIPT % {
        "sessions": ", ".join(json.dumps(s) for s in sessions),
        "params": json.dumps(params, separators=(",", ":")),
        "protocol": PROTOCOL,
    }
    with tempfile.TemporaryDirectory() as tmp:
        lua = Path(tmp) / "mcp_call.lua"
        lua.write_text(script, encoding="utf-8")
        cmd = [
            wrk_path() or "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(lua),
            url,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000,
        "errors": raw["bad"] + raw["socket_errors"],
    }


async def _httpx_load(
    url: str, params: dict[str, Any], sessions: list[str], clients: int, seconds: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=10, limits=limits) as http:
        deadline = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            nonlocal errors
            headers = dict(HEADERS)
            if sessions:
                headers["Mcp-Session-Id"] = sessions[n % len(sessions)]
            i = 0
            while time.perf_counter() < deadline:
                i += 1
                body = {"jsonrpc": "2.0", "id": n * 1_000_000_000 + i, "method": "tools/call"}
                started = time.perf_counter()
                try:
                    reply = await http.post(url, json={**body, "params": params}, headers=headers)
                    ok = reply.status_code == 200 and '"isError":false' in reply.text
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(latencies, 0.5),
        "p90_ms": pct(latencies, 0.9),
        "p99_ms": pct(latencies, 0.99),
        "mean_ms": sum(latencies) / max(1, len(latencies)),
        "errors": errors,
    }


def load(
    url: str,
    params: dict[str, Any],
    *,
    clients: int,
    seconds: float,
    stateful: bool,
    warmup: float = 1.0,
) -> dict[str, Any]:
    """Requests/s and latency of `tools/call` with `params` under `clients` concurrent clients."""
    sessions = open_sessions(url, clients) if stateful else []
    if wrk_path():
        run_wrk(url, params, sessions, clients, warmup)
        return {"generator": "wrk", **run_wrk(url, params, sessions, clients, seconds)}
    asyncio.run(_httpx_load(url, params, sessions, clients, warmup))
    figures = asyncio.run(_httpx_load(url, params, sessions, clients, seconds))
    return {"generator": "httpx asyncio loop (shares the CPU)", **figures}
