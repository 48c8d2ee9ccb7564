"""Prompts, resources and A2A sends pass the same gate as tools (policy, metrics), and the
protocols' own refusals say what they said before, against real gateways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcpserver.conftest import free_port, gateway, peers, py_peer

ALICE, BOB = "alice-key-0123456789", "bob-key-0123456789ab"
KEYS = f"""
[auth.api_keys.alice]
key = "{ALICE}"
[auth.api_keys.bob]
key = "{BOB}"
[a2a]
task_store = "memory"
"""


def client(url: str, key: str) -> tuple[httpx.AsyncClient, Client]:
    http = httpx.AsyncClient(headers={"X-API-Key": key})
    return http, Client(streamable_http_client(url, http_client=http))  # type: ignore[arg-type]


async def test_prompts_and_resources_are_gated_listed_and_counted(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "llmspell.toml"
    config.write_text(
        KEYS
        + f"""
[mcpServers.peer]
url = "http://127.0.0.1:{port}/mcp"
[[policy.rules]]
effect = "deny"
components = ["peer.greet", "peer://*"]
subjects = ["key:alice"]
""",
        encoding="utf-8",
    )
    with peers(py_peer(port)), gateway(config=config, cwd=tmp_path) as running:
        http, bob = client(running.url, BOB)
        async with http, bob:
            assert "peer.greet" in {p.name for p in (await bob.list_prompts()).prompts}
            assert "peer://info" in {str(r.uri) for r in (await bob.list_resources()).resources}
            greeting = await bob.get_prompt("peer.greet", {"name": "Ada"})
            assert "Ada" in str(greeting.messages[0].content)
            info = await bob.read_resource("peer://info")
            assert "py-peer" in str(info.contents[0])
            with pytest.raises(MCPError) as unknown:
                await bob.read_resource("peer://nothing-here")
            assert unknown.value.error.code == -32002  # RESOURCE_NOT_FOUND, as before
        http, alice = client(running.url, ALICE)
        async with http, alice:
            assert "peer.greet" not in {p.name for p in (await alice.list_prompts()).prompts}
            assert not (await alice.list_resources()).resources
            with pytest.raises(MCPError) as prompt:
                await alice.get_prompt("peer.greet", {"name": "Ada"})
            assert "alice may not call prompt 'peer.greet'" in prompt.value.error.message
            with pytest.raises(MCPError) as resource:
                await alice.read_resource("peer://info")
            assert "alice may not call resource 'peer://info'" in resource.value.error.message
        async with httpx.AsyncClient(headers={"X-API-Key": BOB}) as http:
            metrics = (await http.get(running.url.replace("/mcp", "/metrics"))).text
    assert 'llmspell_calls_total{component="peer.greet",kind="prompt",outcome="ok"} 1.0' in metrics
    read = 'llmspell_calls_total{component="peer://info",kind="resource",outcome="ok"} 1.0'
    assert read in metrics


async def test_refusals_keep_their_words(tmp_path: Path) -> None:
    """An unknown tool is still MCP's `unknown tool` with suggestions (only ones the caller may
    call); a skill the policy denies is still A2A's `rejected`, saying who may not call what."""
    config = tmp_path / "llmspell.toml"
    config.write_text(
        KEYS + '[[policy.rules]]\neffect = "deny"\ncomponents = ["calculator"]\n'
        'subjects = ["key:alice"]\n',
        encoding="utf-8",
    )
    with gateway(config=config, cwd=tmp_path) as running:
        refusals: dict[str, Any] = {}
        for who, key in (("alice", ALICE), ("bob", BOB)):
            http, mcp = client(running.url, key)
            async with http, mcp:
                with pytest.raises(MCPError) as caught:
                    await mcp.call_tool("calculater", {"expression": "1+1"})
            refusals[who] = caught.value.error
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "SendMessage",
            "params": {
                "message": {
                    "messageId": "m-1",
                    "role": "ROLE_USER",
                    "parts": [{"text": "6*7"}],
                    "metadata": {"skill": "calculator"},
                }
            },
        }
        headers = {"X-API-Key": ALICE, "A2A-Version": "1.0"}
        async with httpx.AsyncClient(headers=headers, timeout=30) as http:
            reply = await http.post(running.url.replace("/mcp", "/a2a/"), json=body)
        sent = reply.json()["result"]["task"]
    # bob may call everything: the one likely meaning; alice may not call `calculator`, so she
    # is offered the closest names she may call instead, never the one she may not
    assert refusals["bob"].code == refusals["alice"].code == -32602
    assert refusals["bob"].message == "unknown tool 'calculater'; did you mean 'calculator'?"
    assert refusals["bob"].data == {"name": "calculater", "suggestions": ["calculator"]}
    others = ["hash-calculator", "diff-calculator"]
    assert refusals["alice"].message == (
        "unknown tool 'calculater'; did you mean 'hash-calculator', 'diff-calculator'?"
    )
    assert refusals["alice"].data == {"name": "calculater", "suggestions": others}
    assert sent["status"]["state"] == "TASK_STATE_REJECTED", sent
    said = sent["status"]["message"]["parts"][0]["text"]
    assert said == "key:alice may not call 'calculator'"
