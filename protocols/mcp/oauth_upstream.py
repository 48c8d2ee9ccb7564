"""The gateway's side of an `auth = "oauth"` upstream: a fresh `httpx2.Auth` for each connection
over the tokens in the vault, and word to the upstream when they run out (no token stored, or
the refresh token refused), so it waits in `needs login` instead of reconnecting in a loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING

import httpx2

from .oauth import NeedsLogin, OAuthSettings, Redirect, oauth_auth
from .spec import ServerSpec
from .token_store import StateTokenStorage

if TYPE_CHECKING:
    from mcp.client.auth import TokenStorage

LOGIN_POLL = 1.0
"""Seconds between looks at the vault while an upstream waits for `llmspell mcp login`."""


def login_hint(server: str) -> str:
    return f"upstream {server!r} needs a login: run `llmspell mcp login {server}`"


class OAuthUpstream:
    """`storage`: the vault's (the gateway: `redirect = "never"`), or memory (a script with no
    state store, which may follow the authorization headless)."""

    def __init__(
        self, spec: ServerSpec, storage: TokenStorage, redirect: Redirect = "never"
    ) -> None:
        assert spec.url is not None
        self.spec = spec
        self.storage = storage
        self.redirect: Redirect = redirect
        self.settings = spec.oauth or OAuthSettings()

    def auth(self, needs_login: Callable[[str], None]) -> httpx2.Auth:
        """The auth of one connection; `needs_login` hears when the flow finds no way on."""
        assert self.spec.url is not None
        inner = oauth_auth(self.spec.url, self.settings, self.storage, redirect=self.redirect)
        return _Noticing(inner, lambda: needs_login(login_hint(self.spec.name)))

    async def can_start(self) -> bool:
        """Whether a connection can get a token without a person: tokens are stored, or the
        client credentials grant is configured."""
        if self.settings.grant == "client_credentials" or self.redirect != "never":
            return True
        return await self.storage.get_tokens() is not None

    async def wait_for_login(self) -> None:
        """Forget the spent tokens (the registration stays), then return once the vault
        changes: a login from the CLI, or any other write. Tokens in memory never change."""
        storage = self.storage
        if not isinstance(storage, StateTokenStorage):
            await asyncio.Event().wait()
            return
        await storage.clear_tokens()
        seen = await storage.stamp()
        while True:  # the writer is another process: nothing to wait on but the store
            await asyncio.sleep(LOGIN_POLL)
            if await storage.stamp() != seen:
                return


class LoginNeeded(httpx2.TransportError):
    """`NeedsLogin` as the HTTP client's callers understand it: the request was never sent
    with credentials, so no tool ran (the lean leg and the SDK transport both treat it as a
    lost connection; the upstream, told first, answers with the login hint)."""


class _Noticing(httpx2.Auth):
    """Passes every step of the inner flow through; a `NeedsLogin` is reported, then raised as
    `LoginNeeded`."""

    def __init__(self, inner: httpx2.Auth, noticed: Callable[[], None]) -> None:
        self._inner = inner
        self._noticed = noticed
        self.requires_request_body = inner.requires_request_body
        self.requires_response_body = inner.requires_response_body

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        flow = self._inner.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                response = yield outgoing
                outgoing = await flow.asend(response)
        except StopAsyncIteration:
            return
        except NeedsLogin as exc:
            self._noticed()
            raise LoginNeeded(str(exc), request=request) from None
        finally:
            await flow.aclose()
