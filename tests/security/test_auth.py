"""Authentication end to end over real HTTP: a gateway that checks bearer JWTs against a JWKS
served by a real HTTP server on loopback, and API keys; MCP, A2A (JSON-RPC and gRPC) and
metrics behind it; health, discovery and the RFC 9728 metadata in front of it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import httpx
import pytest
from a2a.types import a2a_pb2, a2a_pb2_grpc
from llmspell.gateway.auth import JsonWebKey, JsonWebToken
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcpserver.conftest import RunningGateway, free_port, gateway

jwt = JsonWebToken(["RS256", "HS256"])
ISSUER = "https://issuer.test"
SCOPE = "mcp:tools"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "auth-test", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


class Keys:
    """The issuer's signing key (published in the JWKS) and an impostor's, with the same kid."""

    def __init__(self) -> None:
        self.signing = JsonWebKey.generate_key("RSA", 2048, {"kid": "k1"}, is_private=True)
        self.impostor = JsonWebKey.generate_key("RSA", 2048, {"kid": "k1"}, is_private=True)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.signing.as_dict(is_private=False)]}

    def token(self, audience: str, *, key: Any = None, exp: int = 300, scope: str = SCOPE) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": "alice@example.com",
            "aud": audience,
            "iat": now,
            "exp": now + exp,
            "scope": scope,
        }
        signed = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key or self.signing)
        return signed.decode()


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[RunningGateway]:
    """A JWKS on a plain HTTP server, and a gateway on a known port whose MCP URL is the
    tokens' audience."""
    tmp = tmp_path_factory.mktemp("auth")
    (tmp / "jwks.json").write_text(json.dumps(keys.jwks()))
    jwks_port, port = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(jwks_port), "--bind", "127.0.0.1"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (tmp / "llmspell.toml").write_text(
        f"""
name = "secured"
[auth]
required_scopes = ["{SCOPE}"]
[auth.jwt]
jwks_url = "http://127.0.0.1:{jwks_port}/jwks.json"
issuer = "{ISSUER}"
authorization_servers = ["{ISSUER}"]
[auth.api_keys.ci]
key = "${{CI_KEY}}"
scopes = ["{SCOPE}"]
[auth.api_keys.reader]
key = "reader-key-0123456789"
[a2a]
task_store = "memory"
[[agents]]
name = "echoer"
model = "offline/echo"
"""
    )
    try:
        _wait_http(f"http://127.0.0.1:{jwks_port}/jwks.json")
        with gateway(
            "--port",
            str(port),
            config=tmp / "llmspell.toml",
            cwd=tmp,
            extra_env={"CI_KEY": "ci-key-0123456789abcdef"},
        ) as running:
            yield running
    finally:
        server.terminate()
        server.wait(10)


def _wait_http(url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def base(running: RunningGateway) -> str:
    return running.url[: -len("/mcp")]


def post(running: RunningGateway, token: str | None = None, **headers: str) -> httpx.Response:
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(running.url, json=INIT, headers={**ACCEPT, **auth, **headers})


def test_every_bad_credential_is_refused_with_its_reason(
    secured: RunningGateway, keys: Keys
) -> None:
    resource = secured.url
    metadata = f"{base(secured)}/.well-known/oauth-protected-resource/mcp"

    none = post(secured)
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == f'Bearer resource_metadata="{metadata}"'

    cases = {
        "signature": keys.token(resource, key=keys.impostor),
        "audience": keys.token("https://some-other-server.test/mcp"),
        "expired": keys.token(resource, exp=-300),
        "garbage": "not.a.jwt",
    }
    reasons = {
        "signature": "signature does not verify",
        "audience": "audience is not accepted",
        "expired": "expired",
        "garbage": "cannot be read",
    }
    for case, token in cases.items():
        refused = post(secured, token)
        challenge = refused.headers["www-authenticate"]
        assert refused.status_code == 401, case
        assert challenge.startswith('Bearer error="invalid_token"'), case
        assert reasons[case] in challenge and f'resource_metadata="{metadata}"' in challenge
        assert refused.json()["error"] == "invalid_token"

    scopeless = post(secured, keys.token(resource, scope="profile"))
    assert scopeless.status_code == 403
    challenge = scopeless.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and f'scope="{SCOPE}"' in challenge

    good = post(secured, keys.token(resource))
    assert good.status_code == 200 and "mcp-session-id" in good.headers


def test_metadata_and_public_paths(secured: RunningGateway) -> None:
    doc = httpx.get(f"{base(secured)}/.well-known/oauth-protected-resource/mcp").json()
    assert httpx.get(f"{base(secured)}/.well-known/oauth-protected-resource").json() == doc
    assert doc["resource"] == secured.url
    assert doc["authorization_servers"] == [f"{ISSUER}/"] or doc["authorization_servers"] == [
        ISSUER
    ]
    assert doc["scopes_supported"] == [SCOPE]
    assert httpx.get(f"{base(secured)}/healthz").status_code == 200
    card = httpx.get(f"{base(secured)}/.well-known/agent-card.json")
    assert card.status_code == 200
    schemes = card.json()["securitySchemes"]
    assert schemes["bearer"]["httpAuthSecurityScheme"]["scheme"] == "Bearer"
    assert schemes["apiKey"]["apiKeySecurityScheme"]["name"] == "X-API-Key"
    assert httpx.get(f"{base(secured)}/metrics").status_code == 401


def test_api_keys(secured: RunningGateway) -> None:
    assert post(secured, **{"X-API-Key": "ci-key-0123456789abcdef"}).status_code == 200
    assert post(secured, "ci-key-0123456789abcdef").status_code == 200  # as a bearer token
    wrong = post(secured, **{"X-API-Key": "ci-key-0123456789abcdeX"})
    assert wrong.status_code == 401 and "unknown API key" in wrong.headers["www-authenticate"]
    # a valid key without the required scope
    assert post(secured, **{"X-API-Key": "reader-key-0123456789"}).status_code == 403
    metrics = httpx.get(
        f"{base(secured)}/metrics", headers={"X-API-Key": "ci-key-0123456789abcdef"}
    )
    assert metrics.status_code == 200 and "llmspell_http_requests_total" in metrics.text


async def test_mcp_client_with_a_token(secured: RunningGateway, keys: Keys) -> None:
    headers = {"Authorization": f"Bearer {keys.token(secured.url)}"}
    async with (
        httpx.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(secured.url, http_client=http)) as client,  # type: ignore[arg-type]
    ):
        tools = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("calculator", {"expression": "6 * 7"})
    assert "calculator" in tools and not result.is_error


async def test_a2a_behind_auth(secured: RunningGateway, keys: Keys) -> None:
    send = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "SendMessage",
        "params": {"message": {"role": "ROLE_USER", "messageId": "m1", "parts": [{"text": "hi"}]}},
    }
    url = f"{base(secured)}/a2a/echoer/"
    async with httpx.AsyncClient(headers={"A2A-Version": "1.0"}) as http:
        refused = await http.post(url, json=send)
        token = {"Authorization": f"Bearer {keys.token(secured.url)}"}
        sent = await http.post(url, json=send, headers=token)
        card = (await http.get(f"{base(secured)}/.well-known/agent-card.json")).json()
    assert refused.status_code == 401
    assert sent.json()["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"

    target = next(i for i in card["supportedInterfaces"] if i["protocolBinding"] == "GRPC")["url"]
    async with grpc.aio.insecure_channel(target) as channel:
        stub = a2a_pb2_grpc.A2AServiceStub(channel)
        request = a2a_pb2.SendMessageRequest(
            message=a2a_pb2.Message(
                role=a2a_pb2.Role.ROLE_USER, message_id="m2", parts=[a2a_pb2.Part(text="hi")]
            ),
            tenant="echoer",
        )
        with pytest.raises(grpc.aio.AioRpcError) as no_token:
            await stub.SendMessage(request)
        reply = await stub.SendMessage(
            request, metadata=[("authorization", f"Bearer {keys.token(secured.url)}")]
        )
    assert no_token.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert reply.task.status.state == a2a_pb2.TaskState.TASK_STATE_COMPLETED


def test_beyond_loopback_needs_auth(tmp_path: Path) -> None:
    """Refused before anything listens, so no test socket leaves loopback."""
    done = subprocess.run(
        [sys.executable, "-m", "llmspell", "gateway", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**__import__("mcpserver.conftest").conftest.env()},
        timeout=60,
    )
    assert done.returncode != 0
    assert "refusing to listen on 0.0.0.0 without authentication" in done.stderr
    assert "--insecure" in done.stderr
