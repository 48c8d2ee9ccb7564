"""One gate for every call: a caller denied a tool cannot reach it through a script tool that
calls it, over MCP or over A2A, against a real gateway."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcpserver.conftest import gateway

ALICE, BOB = "alice-key-0123456789", "bob-key-0123456789ab"
WRAPPER = """
Tool.define{
  name = "wrapper",
  description = "Asks the calculator on its caller's behalf",
  input_schema = {type = "object", properties = {expression = {type = "string"}}},
  handler = function(args)
    return Tool.execute("calculator", {expression = args.expression or "6*7"}).text
  end,
}
"""
CONFIG = f"""
scripts = ["wrapper.lua"]
[auth.api_keys.alice]
key = "{ALICE}"
[auth.api_keys.bob]
key = "{BOB}"
[a2a]
task_store = "memory"
[[policy.rules]]
effect = "deny"
components = ["calculator"]
subjects = ["key:alice"]
"""


def write(tmp: Path) -> Path:
    (tmp / "wrapper.lua").write_text(WRAPPER, encoding="utf-8")
    config = tmp / "llmspell.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


async def call_over_mcp(url: str, key: str) -> tuple[bool, str]:
    async with httpx.AsyncClient(headers={"X-API-Key": key}) as http:
        client = Client(streamable_http_client(url, http_client=http))  # type: ignore[arg-type]
        async with client:
            result = await client.call_tool("wrapper", {"expression": "6*7"})
    text = " ".join(getattr(c, "text", "") for c in result.content)
    return result.is_error, text


def send_over_a2a(base: str, key: str) -> dict[str, Any]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "SendMessage",
        "params": {
            "message": {
                "messageId": f"m-{key[:5]}",
                "role": "ROLE_USER",
                "parts": [{"text": '{"expression": "6*7"}'}],
            }
        },
    }
    headers = {"X-API-Key": key, "A2A-Version": "1.0"}
    reply = httpx.post(f"{base}/a2a/wrapper/", json=body, headers=headers, timeout=30)
    result: dict[str, Any] = reply.json()["result"]
    return result


async def test_script_tool_cannot_launder_a_denied_call(tmp_path: Path) -> None:
    with gateway(config=write(tmp_path), cwd=tmp_path) as running:
        base = running.url[: -len("/mcp")]
        is_error, text = await call_over_mcp(running.url, BOB)
        assert not is_error and text == "42", text
        is_error, text = await call_over_mcp(running.url, ALICE)
        assert is_error, f"alice reached the calculator through the wrapper: {text!r}"
        assert "[denied]" in text and "key:alice may not call tool 'calculator'" in text

        allowed = send_over_a2a(base, BOB)["task"]
        assert allowed["status"]["state"] == "TASK_STATE_COMPLETED", allowed
        assert "42" in str(allowed.get("artifacts"))
        denied = send_over_a2a(base, ALICE)["task"]
        assert denied["status"]["state"] == "TASK_STATE_FAILED", denied
        assert "may not call tool 'calculator'" in str(denied["status"])
        assert "42" not in str(denied.get("artifacts", ""))
