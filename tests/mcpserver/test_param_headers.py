"""The 2026-07-28 `Mcp-Param-*` headers: a tool whose input schema marks a property with
`x-mcp-header` gets that argument mirrored in a header, and the gateway refuses a call whose
header and body disagree (400, before the tool runs). The gateway looks the schema up in its
catalog; the SDK's fallback would run the whole `tools/list` handler for every call."""

from __future__ import annotations

from pathlib import Path

import httpx
from mcp import Client

from .conftest import gateway

SCRIPT = """
local calls = 0
Tool.define {
  name = "regional",
  description = "Says which region it was asked for, and how often it ran",
  input_schema = {type = "object", required = {"region"},
    properties = {region = {type = "string", ["x-mcp-header"] = "Region"}}},
  handler = function(args) calls = calls + 1; return args.region .. " " .. calls end,
}
"""
MODERN = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientCapabilities": {},
}


def call(url: str, region: str, header: str | None) -> httpx.Response:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "regional", "arguments": {"region": region}, "_meta": META},
    }
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN,
        "Mcp-Method": "tools/call",
        "Mcp-Name": "regional",
    }
    if header is not None:
        headers["Mcp-Param-Region"] = header
    return httpx.post(url, json=body, headers=headers, timeout=10)


async def test_param_headers_are_checked_against_the_catalog_schema(tmp_path: Path) -> None:
    (tmp_path / "tools.lua").write_text(SCRIPT)
    (tmp_path / "llmspell.toml").write_text('scripts = ["tools.lua"]\n[a2a]\nenabled = false\n')
    with gateway(config=tmp_path / "llmspell.toml", cwd=tmp_path) as running:
        async with Client(running.url) as client:  # the SDK client mirrors the header itself
            result = await client.call_tool("regional", {"region": "eu-west"})
            assert not result.is_error and result.content[0].text == "eu-west 1"  # type: ignore[union-attr]

        mismatch = call(running.url, "eu-west", "us-east")
        assert mismatch.status_code == 400, mismatch.text
        assert "Mcp-Param-Region" in mismatch.json()["error"]["message"]
        missing = call(running.url, "eu-west", None)
        assert missing.status_code == 400, missing.text
        assert "missing" in missing.json()["error"]["message"]

        agreed = call(running.url, "eu-west", "eu-west")
        assert agreed.status_code == 200, agreed.text
        # The refused calls never reached the tool: this is its second run.
        assert "eu-west 2" in agreed.text
