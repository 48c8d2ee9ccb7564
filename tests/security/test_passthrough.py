"""Per-user upstream credentials: an `auth = "passthrough"` MCP server gets each caller's own
bearer token, over a session of that caller's, while a `service` server gets the entry's fixed
headers. The gateway checks HS256 JWTs here (the static-secret path of `[auth.jwt]`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
from llmspell.gateway.auth import JsonWebToken
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcpserver.conftest import HttpPeer, free_port, gateway, peers, py_peer

jwt = JsonWebToken(["HS256"])
SECRET = "a-test-secret-that-is-long-enough-0123456789"
SERVICE = "Bearer service-credential"


def token(subject: str, audience: str) -> str:
    now = int(time.time())
    claims = {"sub": subject, "aud": audience, "iat": now, "exp": now + 300}
    return jwt.encode({"alg": "HS256"}, claims, SECRET).decode()


async def whoami(url: str, bearer: str | None, tool: str) -> tuple[bool, str]:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {"X-API-Key": "k" * 20}
    async with (
        httpx.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(url, http_client=http)) as client,  # type: ignore[arg-type]
    ):
        try:
            result = await client.call_tool(tool, {})
        except MCPError as exc:  # a JSON-RPC error: refused before any upstream call
            return True, f"refused: {exc}"
    return result.is_error, result.content[0].text  # type: ignore[union-attr]


async def test_each_caller_reaches_the_upstream_as_itself(tmp_path: Path) -> None:
    port, gateway_port = free_port(), free_port()
    config = tmp_path / "llmspell.toml"
    config.write_text(
        f"""
[auth.jwt]
secret = "{SECRET}"
[auth.api_keys.robot]
key = "{"k" * 20}"
[mcpServers.mine]
url = "http://127.0.0.1:{port}/mcp"
auth = "passthrough"
[mcpServers.shared]
url = "http://127.0.0.1:{port}/mcp"
headers = {{ Authorization = "{SERVICE}" }}
"""
    )
    with (
        peers(py_peer(port)),
        gateway("--port", str(gateway_port), config=config, cwd=tmp_path) as running,
    ):
        alice, bob = token("alice", running.url), token("bob", running.url)
        assert await whoami(running.url, alice, "mine.whoami") == (False, f"Bearer {alice}")
        assert await whoami(running.url, bob, "mine.whoami") == (False, f"Bearer {bob}")
        assert await whoami(running.url, alice, "mine.whoami") == (False, f"Bearer {alice}")
        assert await whoami(running.url, alice, "shared.whoami") == (False, SERVICE)
        refused, why = await whoami(running.url, None, "mine.whoami")  # an API key: no token
        assert refused and why.startswith("refused:") and "takes the caller's own token" in why


async def test_token_exchange(tmp_path: Path) -> None:
    """`auth = "exchange"`: the upstream gets a token traded for the caller's (RFC 8693) at a
    real token endpoint, which is asked once per caller token, not once per call."""
    port, token_port, gateway_port = free_port(), free_port(), free_port()
    endpoint = HttpPeer(
        [sys.executable, str(Path(__file__).parent / "token_server.py"), str(token_port)],
        token_port,
        {},
    )
    config = tmp_path / "llmspell.toml"
    config.write_text(
        f"""
[auth.jwt]
secret = "{SECRET}"
[mcpServers.traded]
url = "http://127.0.0.1:{port}/mcp"
auth = "exchange"
token_exchange = {{ url = "http://127.0.0.1:{token_port}/token", client_id = "gateway", client_secret = "${{EXCHANGE_SECRET}}", audience = "upstream" }}
"""
    )
    with (
        peers(py_peer(port), endpoint),
        gateway(
            "--port",
            str(gateway_port),
            config=config,
            cwd=tmp_path,
            extra_env={"EXCHANGE_SECRET": "s3cret"},
        ) as running,
    ):
        alice = token("alice", running.url)
        for _ in range(3):
            seen = await whoami(running.url, alice, "traded.whoami")
            assert seen == (False, f"Bearer exchanged-{alice[:8]}")
        async with httpx.AsyncClient() as http:
            stats = (await http.get(f"http://127.0.0.1:{token_port}/count")).json()
    assert stats["count"] == 1
    assert stats["last"]["subject_token"] == alice and stats["last"]["audience"] == "upstream"
