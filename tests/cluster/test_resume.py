"""Resumable SSE through a live gateway, with the event store in memory and in Redis
(`[cluster] redis`): a client reads the first event of a tool call's stream, drops the
connection, and a GET with `Last-Event-ID` delivers the rest of the call (its last log line and
its result) from the store."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcpserver.conftest import ROOT, gateway
from redis_server import running_redis

PROFILE = ROOT / "conformance" / "mcp"
HANDSHAKE = "2025-11-25"
ACCEPT = "application/json, text/event-stream"


def events(response: httpx.Response) -> Iterator[tuple[str | None, dict[str, object]]]:
    """(id, JSON data) of each SSE event with data."""
    event_id, data = None, []
    for line in response.iter_lines():
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "":
            if data and "".join(data):
                yield event_id, json.loads("".join(data))
            event_id, data = None, []


def session(http: httpx.Client, url: str) -> dict[str, str]:
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": HANDSHAKE,
            "capabilities": {},
            "clientInfo": {"name": "resume-test", "version": "1"},
        },
    }
    opened = http.post(url, json=init, headers={"Accept": ACCEPT})
    assert opened.status_code == 200, opened.text
    headers = {
        "Accept": ACCEPT,
        "mcp-session-id": opened.headers["mcp-session-id"],
        "mcp-protocol-version": HANDSHAKE,
    }
    done = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert http.post(url, json=done, headers=headers).status_code == 202
    return headers


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_a_dropped_stream_resumes_from_the_store(tmp_path: Path, store: str) -> None:
    for name in ("llmspell.toml", "everything.lua"):
        shutil.copy(PROFILE / name, tmp_path / name)
    with running_redis() as redis:
        config = tmp_path / "llmspell.toml"
        if store == "redis":
            config.write_text(config.read_text() + f'\n[cluster]\nredis = "{redis.url}"\n')
        with gateway(config=config, cwd=tmp_path) as running, httpx.Client(timeout=20) as http:
            headers = session(http, running.url)
            call = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "test_reconnection", "arguments": {}},
            }
            with http.stream("POST", running.url, json=call, headers=headers) as first:
                event_id, message = next(events(first))
            assert message["method"] == "notifications/message"
            assert message["params"]["data"] == "Before disconnect"  # type: ignore[index]
            assert event_id  # the store named it; the connection is dropped here
            assert ("/" in event_id) == (store == "redis")  # Redis ids are STREAM/ENTRY

            resumed = {**headers, "Last-Event-ID": event_id}
            with http.stream("GET", running.url, headers=resumed) as rest:
                seen = []
                for _, later in events(rest):
                    seen.append(later)
                    if later.get("id") == 1:
                        break
        logs = [m["params"]["data"] for m in seen if m.get("method") == "notifications/message"]  # type: ignore[index]
        assert logs == ["After reconnect"]
        result = seen[-1]["result"]
        assert result["content"][0]["text"] == "Reconnection test completed"  # type: ignore[index]
