"""`auth = "oauth"`: the gateway logs in to an OAuth-protected MCP server itself (MCP
authorization, 2025-11-25). This module is what config and scripts see: the `oauth = { ... }`
settings of an `mcpServers` entry and `oauth_auth`, the `httpx2.Auth` put on the upstream's HTTP
client. It imports no SDK at import time (spec.py reads `OAuthSettings` on every config load);
the flow itself, built on the SDK's `OAuthClientProvider`, lives in `oauth_flow.py`.

How a person takes part is the caller's choice (`Redirect`): `llmspell mcp login` prints the
authorization URL and receives the redirect on a loopback port, a script follows it headless
(authorization servers that approve without a person), and the gateway at run time never asks:
it uses stored and refreshed tokens and raises `NeedsLogin` when those run out."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import httpx2
    from mcp.client.auth import TokenStorage
    from mcp.shared.auth import OAuthClientInformationFull, OAuthToken


class OAuthSettings(BaseModel):
    """The `oauth = { ... }` table of an `mcpServers` entry with `auth = "oauth"`. Every key is
    optional: with none, the client registers itself (RFC 7591) and asks for the scopes the
    server names. Secrets belong in the environment: `client_secret = "${GITHUB_SECRET}"`."""

    model_config = ConfigDict(extra="forbid")

    client_id: str | None = None
    """A client registered beforehand at the authorization server; else CIMD or registration."""
    client_secret: str | None = None
    client_metadata_url: str | None = None
    """A client ID metadata document: an https URL (with a path) that is the client_id, used
    when the authorization server says it supports them."""
    scope: str | None = None
    """Space-separated; else the scope the server challenges with, or its metadata lists."""
    grant: Literal["authorization_code", "client_credentials"] = "authorization_code"
    """client_credentials: machine to machine, no person and no redirect (needs client_id).
    A client with credentials also uses it when the authorization server offers no other."""
    token_endpoint_auth_method: (
        Literal["client_secret_basic", "client_secret_post", "none", "private_key_jwt"] | None
    ) = None
    """How the client authenticates at the token endpoint; else the first of basic, post, none
    that the authorization server supports (and that the client's credentials allow)."""
    private_key_pem: str | None = None
    """The key signing the client assertion when token_endpoint_auth_method = private_key_jwt."""
    signing_algorithm: str = "RS256"
    redirect_port: int = Field(default=0, ge=0, le=65535)
    """The loopback port `llmspell mcp login` receives the redirect on; 0: any free port."""
    client_name: str = "llmspell"


class NeedsLogin(Exception):
    """No usable token and no way to get one without a person (gateway mode)."""


Redirect = Literal["interactive", "headless", "never"]
"""interactive: print the authorization URL and receive the redirect on 127.0.0.1
(`redirect_port`), state checked; `llmspell mcp login`. headless: GET the authorization URL
without following its redirect and take code and state from the Location header, for
authorization servers that approve without a person (the conformance suite's). never: raise
`NeedsLogin` instead of starting an authorization (the gateway at run time)."""


class MemoryTokenStorage:
    """The SDK's `TokenStorage` in memory: tokens for one process (scripts, conformance)."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def with_oauth_env(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """`MCP.connect{..., oauth_env = NAME}`: the entry with OAuth settings added from a JSON
    object in environment variable NAME (the script's own `oauth` keys win), so secrets reach
    the flow without passing through the script. Keys that are not settings are left out (the
    conformance suite's `MCP_CONFORMANCE_CONTEXT` also names its scenario)."""
    if "oauth_env" not in entry:
        return entry
    rest = {k: v for k, v in entry.items() if k != "oauth_env"}
    name = entry["oauth_env"]
    raw = os.environ.get(name, "") if isinstance(name, str) else None
    if raw is None:
        raise ValueError("oauth_env: the name of an environment variable")
    if not raw:
        return rest
    try:
        found = json.loads(raw)
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise ValueError(f"oauth_env: ${name} is not a JSON object")
    given = rest.get("oauth") or {}
    if not isinstance(given, Mapping):
        raise ValueError("oauth: a table of settings")
    known = {k: v for k, v in found.items() if k in OAuthSettings.model_fields}
    return {**rest, "oauth": {**known, **given}}


def oauth_auth(
    server_url: str,
    settings: OAuthSettings,
    storage: TokenStorage,
    *,
    redirect: Redirect = "never",
    timeout: float = 300.0,
) -> httpx2.Auth:
    """The `httpx2.Auth` for the upstream's HTTP client at `server_url`: the authorization code
    flow (PKCE S256, `resource`, step-up on `insufficient_scope`), or client credentials when
    `settings.grant` says so. `timeout` bounds the wait for a person's redirect."""
    from .oauth_flow import provider

    return provider(server_url, settings, storage, redirect=redirect, timeout=timeout)
