"""What llmspell adds around the SDK's OAuth flow, for every grant: the SDK's `_auth_flow` runs
as an inner generator, and this wrapper steps in where the SDK leaves gaps:

- a refresh when the server refuses the token (401), discovering the token endpoint first when
  the tokens came from storage (the SDK otherwise refreshes at `<origin>/token`);
- a limit on step-ups that never get the scope they ask for;
- `NeedsLogin` before registering or authorizing when no person can take part;
- a registration that asks for a token endpoint auth method the server supports;
- a 2025-03-26 server's metadata naming an issuer with a path on its own origin."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import urlsplit

import httpx2
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
    create_oauth_metadata_request,
    extract_field_from_www_auth,
    extract_resource_metadata_from_www_auth,
    handle_auth_metadata_response,
    handle_protected_resource_response,
)
from mcp.shared.auth import OAuthMetadata

from .oauth import NeedsLogin

STEP_UPS = 2
"""Step-up authorizations in a row, without a request getting through, before a 403
`insufficient_scope` is handed to the caller instead of authorizing again."""

PREFERRED = ("client_secret_basic", "client_secret_post", "none")
"""Token endpoint auth methods in order of preference, for a client with a secret."""


class Guard(OAuthClientProvider):
    """What every grant adds around the SDK's flow (its `_auth_flow`, run as an inner
    generator): refresh on 401, the step-up limit, and `NeedsLogin`."""

    person = True
    """Whether an authorization may be started (a person, or none needed)."""
    machine = True
    """Whether the client may get tokens without a person (it has credentials of its own)."""
    _step_ups = 0
    _stepping_up = False

    async def _auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        refreshed = False
        inner = super()._auth_flow(request)
        try:
            outgoing = await inner.__anext__()
            while True:
                response = yield (outgoing if outgoing is request else self._adjusted(outgoing))
                if outgoing is request:
                    status = response.status_code
                    step_up = status == 403 and (
                        extract_field_from_www_auth(response, "error") == "insufficient_scope"
                    )
                    if status == 401 and not refreshed and self.context.can_refresh_token():
                        refreshed = True
                        await inner.aclose()
                        refresh = self._refresh_after(response)
                        try:
                            step = await refresh.__anext__()
                            while True:
                                step = await refresh.asend((yield step))
                        except StopAsyncIteration:
                            pass
                        if self.context.is_token_valid():
                            self._add_auth_header(request)
                        else:
                            request.headers.pop("Authorization", None)
                        inner = super()._auth_flow(request)
                        outgoing = await inner.__anext__()
                        continue
                    if (status == 401 or step_up) and not self.person and not self.machine:
                        raise NeedsLogin(
                            f"{self.context.server_url} needs a login (llmspell mcp login)"
                        )
                    if step_up:
                        self._step_ups += 1
                        if self._step_ups > STEP_UPS:
                            return  # the 403 goes to the caller; no authorization loop
                    elif status < 400:
                        self._step_ups = 0
                    self._stepping_up = step_up
                else:
                    response = await self._legacy_issuer(outgoing, response)
                outgoing = await inner.asend(response)
                self._restore_issuer()
        except StopAsyncIteration:
            return
        finally:
            await inner.aclose()

    async def _refresh_after(
        self, refused: httpx2.Response
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """Refresh a token the server refused. A process that has not seen the token endpoint
        (tokens loaded from storage) first runs steps 1 and 2 of the SDK's flow (protected
        resource, then authorization server metadata), without the registration and
        authorization that follow them there."""
        ctx = self.context
        async with ctx.lock:
            if ctx.oauth_metadata is None:
                hint = extract_resource_metadata_from_www_auth(refused)
                for url in build_protected_resource_metadata_discovery_urls(hint, ctx.server_url):
                    prm = await handle_protected_resource_response(
                        (yield create_oauth_metadata_request(url))
                    )
                    if prm is not None:
                        await self._validate_resource_match(prm)
                        ctx.protected_resource_metadata = prm
                        ctx.auth_server_url = self._select_authorization_server(
                            [str(u) for u in prm.authorization_servers]
                        )
                        break
                for url in build_oauth_authorization_server_metadata_discovery_urls(
                    ctx.auth_server_url, ctx.server_url
                ):
                    ok, asm = await handle_auth_metadata_response(
                        (yield create_oauth_metadata_request(url))
                    )
                    if not ok or asm is not None:
                        ctx.oauth_metadata = asm
                        break
            response = yield await self._refresh_token()
            await self._handle_refresh_response(response)

    _real_issuer: str | None = None

    async def _legacy_issuer(
        self, outgoing: httpx2.Request, response: httpx2.Response
    ) -> httpx2.Response:
        """A 2025-03-26 server (no protected resource metadata) has its authorization server
        at its own origin, where the metadata may name an issuer with a path (`/oauth`); the
        SDK wants the bare origin there. Such metadata is passed on with the origin as issuer,
        and the real one restored once the SDK has taken it (`_restore_issuer`)."""
        ctx = self.context
        origin = _origin(ctx.server_url)
        if (
            ctx.protected_resource_metadata is not None
            or ctx.auth_server_url is not None
            or response.status_code != 200
            or "/.well-known/" not in outgoing.url.path
            or _origin(str(outgoing.url)) != origin
        ):
            return response
        body = json.loads(await response.aread())
        issuer = body.get("issuer") if isinstance(body, dict) else None
        if not isinstance(issuer, str) or _origin(issuer) != origin or issuer.rstrip("/") == origin:
            return response
        self._real_issuer = issuer
        return httpx2.Response(200, json={**body, "issuer": origin}, request=outgoing)

    def _restore_issuer(self) -> None:
        metadata = self.context.oauth_metadata
        if self._real_issuer is not None and metadata is not None:
            self.context.oauth_metadata = OAuthMetadata.model_validate(
                {**metadata.model_dump(mode="json"), "issuer": self._real_issuer}
            )
            self._real_issuer = None

    def _adjusted(self, outgoing: httpx2.Request) -> httpx2.Request:
        """A request of the flow, as this client wants it: a registration asks for the token
        endpoint auth method the authorization server supports."""
        metadata = self.context.oauth_metadata
        if (
            outgoing.method != "POST"
            or metadata is None
            or metadata.registration_endpoint is None
            or str(outgoing.url) != str(metadata.registration_endpoint)
        ):
            return outgoing
        body: dict[str, Any] = json.loads(outgoing.content)
        if body.get("token_endpoint_auth_method") is None:
            method = choose_method(metadata, secret=True)
            if method is not None:
                body["token_endpoint_auth_method"] = method
        headers = {k: v for k, v in outgoing.headers.items() if k.lower() != "content-length"}
        return httpx2.Request("POST", outgoing.url, json=body, headers=headers)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def choose_method(metadata: OAuthMetadata | None, *, secret: bool) -> str | None:
    """The first of `PREFERRED` the server supports (RFC 8414: basic when it does not say),
    skipping the secret-based ones for a client without a secret."""
    supported = (metadata.token_endpoint_auth_methods_supported if metadata else None) or [
        "client_secret_basic"
    ]
    usable = PREFERRED if secret else ("none",)
    return next((m for m in usable if m in supported), None)
