"""Per-user credentials for upstream MCP servers: RFC 8693 token exchange with authlib.

A caller's token is traded at the authorization server for one meant for the upstream (its
own audience and scopes), so the upstream never sees a token minted for the gateway. Tokens
are cached per caller token until shortly before they expire."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from llmspell.runtime import ErrorCode, LLMSpellError
from pydantic import BaseModel, ConfigDict

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
CACHED = 1024
EARLY = 30.0
"""Seconds before expiry a cached token is traded again."""


class TokenExchange(BaseModel):
    """`token_exchange = { url = ..., client_id = ..., client_secret = "${SECRET}",
    audience = ..., scope = ... }` in an `mcpServers` entry with `auth = "exchange"`."""

    model_config = ConfigDict(extra="forbid")
    url: str
    client_id: str
    client_secret: str | None = None
    audience: str | None = None
    resource: str | None = None
    scope: str | None = None


class Exchanger:
    def __init__(self, settings: TokenExchange) -> None:
        self.settings = settings
        self._cache: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def token_for(self, subject_token: str) -> str:
        key = hashlib.sha256(subject_token.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None and cached[1] > time.monotonic():
            self._cache.move_to_end(key)
            return cached[0]
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        s = self.settings
        extra = {k: v for k, v in (("audience", s.audience), ("resource", s.resource)) if v}
        async with AsyncOAuth2Client(s.client_id, s.client_secret, scope=s.scope) as client:
            try:
                token = await client.fetch_token(
                    s.url,
                    grant_type=GRANT,
                    subject_token=subject_token,
                    subject_token_type=ACCESS_TOKEN,
                    requested_token_type=ACCESS_TOKEN,
                    **extra,
                )
            except Exception as exc:  # authlib raises OAuthError or httpx errors
                raise LLMSpellError(
                    ErrorCode.DENIED, f"token exchange at {s.url} refused: {exc}"
                ) from None
        access = token.get("access_token")
        if not isinstance(access, str) or not access:
            raise LLMSpellError(ErrorCode.DENIED, f"token exchange at {s.url} gave no token")
        lifetime = float(token.get("expires_in") or 300)
        self._cache[key] = (access, time.monotonic() + max(0.0, lifetime - EARLY))
        if len(self._cache) > CACHED:
            self._cache.popitem(last=False)
        return access
