"""The OAuth flow for one upstream, on the MCP SDK's `OAuthClientProvider` (discovery from the
401, CIMD or dynamic registration, PKCE S256, `resource`, step-up on `insufficient_scope`) with
`Guard` (`oauth_guard.py`) around it, plus what the SDK leaves to its users here: a
pre-registered client from config, the token endpoint auth method chosen from what the
authorization server supports when config names none, a configured scope, and the client
credentials grant where the authorization server offers nothing else.

`grant = "client_credentials"` uses the SDK's client-credentials providers, with the same guard."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable

import httpx2
from mcp.client.auth import TokenStorage
from mcp.client.auth.extensions.client_credentials import (
    ClientCredentialsOAuthProvider,
    PrivateKeyJWTOAuthProvider,
    SignedJWTParameters,
)
from mcp.client.auth.utils import union_scopes
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata

from .oauth import OAuthSettings, Redirect
from .oauth_guard import Guard, choose_method
from .oauth_redirect import Headless, Loopback, Never

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def provider(
    server_url: str,
    settings: OAuthSettings,
    storage: TokenStorage,
    *,
    redirect: Redirect,
    timeout: float,
) -> httpx2.Auth:
    if settings.grant == "client_credentials":
        if not settings.client_id:
            raise ValueError("oauth.grant = client_credentials needs oauth.client_id")
        with warnings.catch_warnings():  # no issuer: the one the server's metadata names
            warnings.simplefilter("ignore")
            if settings.private_key_pem:
                return _JWTCredentials(
                    server_url,
                    storage,
                    settings.client_id,
                    _signer(settings),
                    scope=settings.scope,
                )
            if not settings.client_secret:
                raise ValueError(
                    "oauth.grant = client_credentials needs client_secret or private_key_pem"
                )
            method = settings.token_endpoint_auth_method
            return _SecretCredentials(
                server_url,
                storage,
                settings.client_id,
                settings.client_secret,
                token_endpoint_auth_method=(
                    method if method == "client_secret_post" else "client_secret_basic"
                ),
                scope=settings.scope,
            )
    handlers: Never | Headless | Loopback
    if redirect == "never":
        handlers = Never(server_url)
    elif redirect == "headless":
        handlers = Headless(settings.redirect_port, timeout)
    else:
        handlers = Loopback(settings.redirect_port, timeout)
    return AuthorizationCode(server_url, settings, storage, handlers, person=redirect != "never")


def _signer(settings: OAuthSettings) -> Callable[[str], Awaitable[str]]:
    assert settings.client_id is not None and settings.private_key_pem is not None
    return SignedJWTParameters(
        issuer=settings.client_id,
        subject=settings.client_id,
        signing_key=settings.private_key_pem,
        signing_algorithm=settings.signing_algorithm,
    ).create_assertion_provider()


class AuthorizationCode(Guard):
    """The authorization code grant with PKCE, for a person (`Loopback`), a server that needs
    none (`Headless`), or nobody (`Never`: stored and refreshed tokens only)."""

    def __init__(
        self,
        server_url: str,
        settings: OAuthSettings,
        storage: TokenStorage,
        handlers: Never | Headless | Loopback,
        *,
        person: bool,
    ) -> None:
        method = settings.token_endpoint_auth_method
        metadata = OAuthClientMetadata(
            redirect_uris=[handlers.redirect_uri],  # type: ignore[list-item]
            client_name=settings.client_name,
            scope=settings.scope,
            token_endpoint_auth_method=None if method == "private_key_jwt" else method,
        )
        super().__init__(
            server_url,
            metadata,
            storage,
            redirect_handler=handlers.redirect,
            callback_handler=handlers.callback,
            client_metadata_url=settings.client_metadata_url,
        )
        self.settings = settings
        self.person = person
        self.machine = bool(
            settings.client_id and (settings.client_secret or settings.private_key_pem)
        )

    async def _initialize(self) -> None:
        await super()._initialize()
        s = self.settings
        info = self.context.client_info
        ours = [str(u) for u in self.context.client_metadata.redirect_uris or []]
        if (
            self.person
            and info is not None
            and not s.client_id
            and info.client_id != s.client_metadata_url
            and not set(ours) & {str(u) for u in info.redirect_uris or []}
        ):  # registered for another redirect URI (another loopback port): register again
            self.context.client_info = None
        if s.client_id and (
            self.context.client_info is None or self.context.client_info.client_id != s.client_id
        ):
            self.context.client_info = OAuthClientInformationFull(
                client_id=s.client_id,
                client_secret=s.client_secret,
                redirect_uris=self.context.client_metadata.redirect_uris,
                token_endpoint_auth_method=s.token_endpoint_auth_method,
            )

    async def _perform_authorization(self) -> httpx2.Request:
        configured = self.settings.scope
        if configured:  # config wins; a step-up adds what the server asks for
            challenged = self.context.client_metadata.scope
            self.context.client_metadata.scope = (
                union_scopes(configured, challenged) if self._stepping_up else configured
            )
        if self.machine and self._machine_only():
            return await self._client_credentials()
        self._pick_method()
        return await super()._perform_authorization()

    def _machine_only(self) -> bool:
        """The authorization server offers client credentials and no authorization code."""
        metadata = self.context.oauth_metadata
        grants = (metadata.grant_types_supported if metadata else None) or []
        return "client_credentials" in grants and "authorization_code" not in grants

    async def _client_credentials(self) -> httpx2.Request:
        """The token request of the client credentials grant, for a client that has them."""
        data: dict[str, str] = {"grant_type": "client_credentials"}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        metadata = self.context.oauth_metadata
        if self.settings.private_key_pem:
            assert metadata is not None and self.settings.client_id is not None
            data["client_id"] = self.settings.client_id
            data["client_assertion_type"] = JWT_BEARER
            data["client_assertion"] = await _signer(self.settings)(str(metadata.issuer))
        else:
            self._pick_method()
            data, headers = self.context.prepare_token_auth(data, headers)
        if self.context.should_include_resource_param(self.context.protocol_version):
            data["resource"] = self.context.get_resource_url()
        if self.context.client_metadata.scope:
            data["scope"] = self.context.client_metadata.scope
        return httpx2.Request("POST", self._get_token_endpoint(), data=data, headers=headers)

    async def _refresh_token(self) -> httpx2.Request:
        self._pick_method()
        return await super()._refresh_token()

    def _pick_method(self) -> None:
        """A pre-registered client that names no method uses one the server supports."""
        info = self.context.client_info
        if info is None or info.token_endpoint_auth_method is not None:
            return
        method = choose_method(self.context.oauth_metadata, secret=bool(info.client_secret))
        self.context.client_info = info.model_copy(update={"token_endpoint_auth_method": method})


class _SecretCredentials(Guard, ClientCredentialsOAuthProvider):
    """Client credentials with a secret (basic or post)."""


class _JWTCredentials(Guard, PrivateKeyJWTOAuthProvider):
    """Client credentials with a private_key_jwt client assertion (RFC 7523)."""
