"""A real OAuth 2.1 authorization server for the tests, on authlib's server components: the
authorization code grant with PKCE S256 (rfc6749 + rfc7636), refresh tokens, RFC 8414 metadata,
dynamic client registration (RFC 7591) and introspection (RFC 7662, for the protected MCP
server). The authorization endpoint approves at once (a redirect straight back with the code).

Access tokens live `--access-ttl` seconds. Test-only endpoints: `POST /test/revoke` revokes
every refresh token, `POST /test/expire` expires every access token now, `GET /test/seen` says
which grants and `resource` values the token endpoint saw and lists every token issued (so a
test can look for them where they must not be).

    python tests/oauth/auth_server.py PORT [--access-ttl SECONDS]
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # http on loopback

import uvicorn
from authlib.oauth2 import AuthorizationServer, OAuth2Error
from authlib.oauth2.rfc6749 import (
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

SCOPE = "mcp"


@dataclass
class Client(ClientMixin):
    client_id: str
    redirect_uris: list[str]
    client_secret: str = ""
    auth_method: str = "none"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s == SCOPE)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Registered URIs match exactly, except that a loopback one may name any port
        (RFC 8252 section 7.3: a native client takes whatever port is free)."""
        return any(
            _loopback_any_port(redirect_uri) == _loopback_any_port(registered)
            for registered in self.redirect_uris
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


def _loopback_any_port(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.hostname in ("127.0.0.1", "::1", "localhost"):
        return parts._replace(netloc=parts.hostname).geturl()
    return uri


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token(TokenMixin):
    client_id: str
    access_token: str
    refresh_token: str | None
    scope: str
    expires_at: float
    resource: str | None = None
    revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - time.time()))

    def is_expired(self) -> bool:
        return False  # a refresh token does not expire here; its access token does

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> str:
        return "tester"

    def get_client(self) -> ClientMixin:
        return STATE.clients[self.client_id]


@dataclass
class State:
    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)
    grants: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    resources: set[str] = field(default_factory=set)


STATE = State()


class AuthorizationCode(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        STATE.codes[code] = Code(
            code,
            request.client.client_id,
            data.get("redirect_uri", ""),
            request.payload.scope or "",
            data.get("code_challenge"),
            data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: ClientMixin) -> Code | None:
        found = STATE.codes.get(code)
        return found if found is not None and found.client_id == client.get_client_id() else None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        STATE.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> str:
        return "tester"


class RefreshToken(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation, as OAuth 2.1 asks for public clients

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        for token in STATE.tokens:
            if token.refresh_token == refresh_token and not token.revoked:
                return token
        return None

    def authenticate_user(self, refresh_token: Token) -> str:
        return "tester"

    def revoke_old_credential(self, refresh_token: Token) -> None:
        refresh_token.revoked = True


class _Payload(OAuth2Payload):
    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._values.items()}

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._values


class _Request(OAuth2Request):
    """authlib's request over what Starlette already read (authlib itself is synchronous)."""

    def __init__(self, request: Request, values: dict[str, list[str]]) -> None:
        super().__init__(request.method, str(request.url), headers=dict(request.headers))
        self.payload = _Payload(values)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


class Server(AuthorizationServer):
    def __init__(self, ttl: float) -> None:
        super().__init__(scopes_supported=[SCOPE])
        self.ttl = ttl
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **kw: "at-" + secrets.token_urlsafe(24),
                refresh_token_generator=lambda **kw: "rt-" + secrets.token_urlsafe(24),
                expires_generator=lambda client, grant_type: int(ttl),
            ),
        )
        self.register_grant(AuthorizationCode, [CodeChallenge(required=True)])
        self.register_grant(RefreshToken)

    def query_client(self, client_id: str) -> Client | None:
        return STATE.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        STATE.tokens.append(
            Token(
                request.client.client_id,
                token["access_token"],
                token.get("refresh_token"),
                token.get("scope", ""),
                time.time() + self.ttl,
                request.payload.data.get("resource"),
            )
        )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        return request  # type: ignore[no-any-return]

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


async def _values(request: Request) -> dict[str, list[str]]:
    values: dict[str, list[str]] = defaultdict(list)
    for k, v in request.query_params.multi_items():
        values[k].append(v)
    if request.method == "POST":
        for k, v in (await request.form()).multi_items():
            values[k].append(str(v))
    return dict(values)


def build(port: int, ttl: float) -> Starlette:
    issuer = f"http://127.0.0.1:{port}"
    server = Server(ttl)
    metadata = AuthorizationServerMetadata(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "registration_endpoint": f"{issuer}/register",
            "introspection_endpoint": f"{issuer}/introspect",
            "scopes_supported": [SCOPE],
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        }
    )
    metadata.validate()

    async def meta(request: Request) -> Response:
        return JSONResponse(dict(metadata))

    async def register(request: Request) -> Response:
        body = await request.json()
        method = body.get("token_endpoint_auth_method") or "none"
        client = Client(
            "client-" + secrets.token_hex(6),
            list(body.get("redirect_uris") or []),
            secrets.token_urlsafe(16) if method != "none" else "",
            method,
        )
        STATE.clients[client.client_id] = client
        answer = {
            **body,
            "client_id": client.client_id,
            "token_endpoint_auth_method": method,
            "grant_types": ["authorization_code", "refresh_token"],
        }
        if client.client_secret:
            answer["client_secret"] = client.client_secret
        return JSONResponse(answer, status_code=201)

    async def authorize(request: Request) -> Response:
        oauth_request = _Request(request, await _values(request))
        try:
            return server.create_authorization_response(oauth_request, grant_user="tester")  # type: ignore[no-any-return]
        except OAuth2Error as exc:
            return JSONResponse(dict(exc.get_body()), status_code=exc.status_code)

    async def token(request: Request) -> Response:
        values = await _values(request)
        grant = values.get("grant_type", [""])[0]
        STATE.grants[grant] += 1
        STATE.resources.update(values.get("resource", []))
        return server.create_token_response(_Request(request, values))  # type: ignore[no-any-return]

    async def introspect(request: Request) -> Response:
        presented = (await request.form()).get("token")
        for t in STATE.tokens:
            if t.access_token == presented and t.expires_at > time.time():
                return JSONResponse(
                    {
                        "active": True,
                        "client_id": t.client_id,
                        "scope": t.scope,
                        "exp": int(t.expires_at),
                        "aud": t.resource,
                    }
                )
        return JSONResponse({"active": False})

    async def revoke(request: Request) -> Response:
        for t in STATE.tokens:
            t.revoked = True
        return JSONResponse({"revoked": len(STATE.tokens)})

    async def expire(request: Request) -> Response:
        for t in STATE.tokens:
            t.expires_at = 0
        return JSONResponse({"expired": len(STATE.tokens)})

    async def seen(request: Request) -> Response:
        return JSONResponse(
            {
                "grants": dict(STATE.grants),
                "resources": sorted(STATE.resources),
                "clients": len(STATE.clients),
                "tokens": [t.access_token for t in STATE.tokens]
                + [t.refresh_token for t in STATE.tokens if t.refresh_token],
            }
        )

    return Starlette(
        routes=[
            Route("/.well-known/oauth-authorization-server", meta),
            Route("/register", register, methods=["POST"]),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
            Route("/introspect", introspect, methods=["POST"]),
            Route("/test/revoke", revoke, methods=["POST"]),
            Route("/test/expire", expire, methods=["POST"]),
            Route("/test/seen", seen),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--access-ttl", type=float, default=2.0)
    ns = parser.parse_args()
    uvicorn.run(build(ns.port, ns.access_ttl), host="127.0.0.1", port=ns.port, log_level="warning")


if __name__ == "__main__":
    main()
