"""The official conformance suite's client auth scenarios, through the same entry point as the
other client scenarios (`llmspell run conformance/mcp/client.lua --`): the suite's protected
servers answer 401, and the client discovers, registers (or uses its CIMD URL, or the suite's
pre-registered credentials from MCP_CONFORMANCE_CONTEXT), authorizes headless and calls."""

from __future__ import annotations

import asyncio
import re
import subprocess

import httpx2
import pytest
from llmspell.protocols.mcp.oauth import OAuthSettings, with_oauth_env
from llmspell.protocols.mcp.oauth_redirect import Loopback

from .conftest import NODE, ROOT
from .test_third_party import CONFORMANCE, client_scenario_passes

RELEASED = {"2025-03-26", "2025-06-18", "2025-11-25"}

AUTH_SCENARIOS = [
    "auth/metadata-default",
    "auth/metadata-var1",
    "auth/metadata-var2",
    "auth/metadata-var3",
    "auth/basic-cimd",
    "auth/scope-from-www-authenticate",
    "auth/scope-from-scopes-supported",
    "auth/scope-omitted-when-undefined",
    "auth/scope-step-up",
    "auth/scope-retry-limit",
    "auth/token-endpoint-auth-basic",
    "auth/token-endpoint-auth-post",
    "auth/token-endpoint-auth-none",
    "auth/pre-registration",
    "auth/2025-03-26-oauth-metadata-backcompat",
    "auth/2025-03-26-oauth-endpoint-fallback",
]
"""Every auth scenario of the released protocol versions, in the suite pinned in the lockfile."""

BEYOND = [
    "auth/resource-mismatch",
    "auth/offline-access-scope",
    "auth/offline-access-not-supported",
    "auth/client-credentials-jwt",
    "auth/client-credentials-basic",
]
"""The draft and extension auth scenarios that pass too (not cross-app-access: the identity
assertion grant, SEP-990, is not supported)."""


def test_the_released_auth_scenarios_are_all_listed() -> None:
    """A suite upgrade that adds an auth scenario for a released version fails here first."""
    listed = subprocess.run(
        [str(NODE), str(CONFORMANCE), "list"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=True,
    ).stdout
    released = [
        name
        for name, versions in re.findall(r"- (auth/\S+) \[([^\]]+)\]", listed)
        if RELEASED & set(versions.split(","))
    ]
    assert sorted(released) == sorted(AUTH_SCENARIOS)
    assert len(AUTH_SCENARIOS) == 16


@pytest.mark.parametrize("scenario", AUTH_SCENARIOS + BEYOND)
def test_official_conformance_auth_scenario(scenario: str) -> None:
    print(scenario, client_scenario_passes(scenario))


def test_oauth_env_adds_settings_the_script_never_sees(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CTX", '{"name": "auth/x", "client_id": "pre", "client_secret": "s3", "idp_x": 1}'
    )
    entry = with_oauth_env({"url": "http://h/mcp", "oauth_env": "CTX", "oauth": {"scope": "a"}})
    assert entry == {
        "url": "http://h/mcp",
        "oauth": {"client_id": "pre", "client_secret": "s3", "scope": "a"},
    }
    OAuthSettings.model_validate(entry["oauth"])
    monkeypatch.setenv("CTX", "not json")
    with pytest.raises(ValueError, match="not a JSON object"):
        with_oauth_env({"url": "http://h/mcp", "oauth_env": "CTX"})
    monkeypatch.delenv("CTX")
    assert with_oauth_env({"url": "u", "oauth_env": "CTX"}) == {"url": "u"}


async def test_loopback_takes_only_the_redirect_it_waits_for() -> None:
    """`llmspell mcp login`'s listener: a request with another state is refused and the login
    keeps waiting; the right one ends it with the code."""
    announced: list[str] = []
    loopback = Loopback(0, timeout=10, announce=announced.append)
    await loopback.redirect("http://as.example/authorize?client_id=c&state=s1")
    assert announced == ["http://as.example/authorize?client_id=c&state=s1"]
    waiting = asyncio.create_task(loopback.callback())
    async with httpx2.AsyncClient() as http:
        stray = await http.get(loopback.redirect_uri, params={"code": "evil", "state": "other"})
        assert stray.status_code == 400
        assert not waiting.done()
        ok = await http.get(loopback.redirect_uri, params={"code": "c0de", "state": "s1"})
        assert ok.status_code == 200
    result = await asyncio.wait_for(waiting, 5)
    assert (result.code, result.state) == ("c0de", "s1")
    with pytest.raises(httpx2.ConnectError):  # the port is closed once the login is done
        async with httpx2.AsyncClient() as http:
            await http.get(loopback.redirect_uri)
