"""Who is calling: bearer JWTs (authlib, against a JWKS URL or a static key) and API keys, one
ASGI middleware in front of MCP, A2A and metrics, as the MCP authorization spec asks.

A request without credentials gets 401 and `WWW-Authenticate: Bearer resource_metadata=...`
(RFC 9728); a bad token gets 401 with `error="invalid_token"` and why; a token without the
required scopes gets 403 with `error="insufficient_scope"`. The identity found is recorded with
`llmspell.protocols.asgi.set_caller`, where the protocol layers look, and as the MCP SDK's
`AuthenticatedUser` in `scope["user"]`, so its sessions stay bound to their principal.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import authlib.deprecate  # on import it sets its warning to "always"; quieted just below
import httpx

with warnings.catch_warnings():
    # authlib 1.x points authlib.jose users at its sister package joserfc; authlib.jose stays
    # supported until authlib 2.0, which the version range excludes.
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken, KeySet
    from authlib.jose.errors import (
        BadSignatureError,
        DecodeError,
        ExpiredTokenError,
        InvalidClaimError,
        InvalidTokenError,
        JoseError,
        MissingClaimError,
    )
from llmspell.protocols.asgi import set_caller
from llmspell.runtime import Identity
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.authentication import AuthCredentials
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import AuthConfig, ConfigError

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA", "HS256", "HS512"]
JWKS_REFRESH = 60.0
"""Seconds between JWKS fetches when a token names a key id not in the set (key rotation)."""
LEEWAY = 30
"""Seconds of clock skew allowed on `exp` and `nbf`."""


class AuthFailure(Exception):
    """Refused: `status` 401 (no or bad credentials) or 403 (not enough scope)."""

    def __init__(self, status: int, error: str | None, description: str, scope: str = "") -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.scope = scope


@dataclass(frozen=True, slots=True)
class ApiKey:
    subject: str
    digest: bytes
    scopes: frozenset[str]


@dataclass
class JwtVerifier:
    """Bearer JWTs: signature (JWKS or a static key), issuer, audience, expiry."""

    audiences: list[str]
    issuer: str | None = None
    jwks_url: str | None = None
    key: Any = None
    """A static key: a PEM public key or an HMAC secret (authlib `import_key` input)."""
    _keys: KeySet | None = None
    _fetched: float = 0.0
    _http: httpx.AsyncClient | None = None

    async def verify(self, token: str) -> dict[str, Any]:
        key = self.key if self.key is not None else await self._key_set(token)
        options: dict[str, Any] = {"exp": {"essential": True}}
        if self.issuer:
            options["iss"] = {"essential": True, "value": self.issuer}
        options["aud"] = {"essential": True, "values": self.audiences}
        try:
            claims = JsonWebToken(ALGORITHMS).decode(token, key, claims_options=options)
            claims.validate(leeway=LEEWAY)
        except ExpiredTokenError:
            raise _invalid("the token has expired") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            claim = getattr(exc, "claim_name", "")
            what = {"aud": "audience", "iss": "issuer"}.get(claim, f"claim {claim!r}")
            raise _invalid(f"the token's {what} is not accepted here") from None
        except BadSignatureError:
            raise _invalid("the token's signature does not verify") from None
        except (DecodeError, InvalidTokenError, ValueError) as exc:
            raise _invalid(f"the token cannot be read: {exc}") from None
        except JoseError as exc:
            raise _invalid(f"the token is not valid: {exc}") from None
        return dict(claims)

    async def _key_set(self, token: str) -> KeySet:
        kid = _header_kid(token)
        stale = time.monotonic() - self._fetched > JWKS_REFRESH
        if self._keys is None or (kid and not _has_kid(self._keys, kid) and stale):
            assert self.jwks_url is not None
            if self._http is None:
                self._http = httpx.AsyncClient(timeout=10)
            try:
                response = await self._http.get(self.jwks_url)
                response.raise_for_status()
                self._keys = JsonWebKey.import_key_set(response.json())
            except (httpx.HTTPError, ValueError, JoseError) as exc:
                if self._keys is None:
                    raise AuthFailure(
                        401, "invalid_token", f"the signing keys cannot be fetched: {exc}"
                    ) from None
            self._fetched = time.monotonic()
        assert self._keys is not None
        return self._keys

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


@dataclass
class Authenticator:
    """Checks a request's credentials: an API key (as a bearer token or `X-API-Key`) or a JWT."""

    jwt: JwtVerifier | None = None
    api_keys: list[ApiKey] = field(default_factory=list)
    required_scopes: frozenset[str] = frozenset()

    async def authenticate(self, headers: Mapping[str, str]) -> tuple[Identity, AccessToken]:
        """`headers` with lower-case names; raises AuthFailure."""
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""
        api_key = headers.get("x-api-key", "")
        if not token and not api_key:
            raise AuthFailure(401, None, "authentication required")
        presented = api_key or token
        found = self._api_key(presented)
        if found is not None:
            identity = Identity(found.subject, found.scopes, {"auth": "api_key"})
            access = AccessToken(
                token=presented, client_id=found.subject, scopes=list(found.scopes)
            )
        elif api_key or self.jwt is None:
            raise _invalid("unknown API key")
        else:
            claims = await self.jwt.verify(token)
            scopes = _scopes(claims)
            subject = str(claims.get("sub") or claims.get("client_id") or "jwt")
            claimed = {k: v for k, v in claims.items() if k != "jti"}
            identity = Identity(subject, scopes, claimed, credential=token)
            aud = claims.get("aud")
            access = AccessToken(
                token=token,
                client_id=str(claims.get("client_id") or claims.get("azp") or subject),
                scopes=sorted(scopes),
                expires_at=int(claims["exp"]) if "exp" in claims else None,
                resource=aud if isinstance(aud, str) else None,
                subject=subject,
                claims={"iss": claims.get("iss")},
            )
        missing = self.required_scopes - identity.scopes
        if missing:
            needed = " ".join(sorted(self.required_scopes))
            raise AuthFailure(
                403, "insufficient_scope", f"this needs the scope {needed!r}", scope=needed
            )
        return identity, access

    def _api_key(self, presented: str) -> ApiKey | None:
        digest = hashlib.sha256(presented.encode()).digest()
        for key in self.api_keys:
            if hmac.compare_digest(key.digest, digest):
                return key
        return None

    async def aclose(self) -> None:
        if self.jwt is not None:
            await self.jwt.aclose()


def api_key(subject: str, key: str, scopes: Iterable[str] = ()) -> ApiKey:
    """Keys are kept as SHA-256 digests and compared in constant time."""
    return ApiKey(subject, hashlib.sha256(key.encode()).digest(), frozenset(scopes))


class AuthMiddleware:
    """Requires credentials on every path except the public ones (health, discovery)."""

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator,
        *,
        metadata_url: str | None,
        public: tuple[str, ...],
        public_suffixes: tuple[str, ...] = (),
        public_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.metadata_url = metadata_url
        self.public = public
        self.public_suffixes = public_suffixes
        self.public_prefixes = public_prefixes
        """Paths served past this middleware whose own app finishes the check (the console
        at `/ui/`, which also accepts its login cookie there); credentials in headers still
        make the caller known to it."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        public = (
            path in self.public
            or path.endswith(self.public_suffixes)
            or path.startswith(self.public_prefixes)
        )
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if public and "authorization" not in headers and "x-api-key" not in headers:
            await self.app(scope, receive, send)
            return
        try:
            identity, access = await self.authenticator.authenticate(headers)
        except AuthFailure as failure:
            if public:  # discovery stays open; credentials only narrow what it shows
                await self.app(scope, receive, send)
            else:
                await self._refuse(failure, scope, receive, send)
            return
        set_caller(scope, identity)
        scope["user"] = AuthenticatedUser(access)
        scope["auth"] = AuthCredentials(sorted(identity.scopes))
        await self.app(scope, receive, send)

    async def _refuse(
        self, failure: AuthFailure, scope: Scope, receive: Receive, send: Send
    ) -> None:
        from starlette.responses import JSONResponse

        await JSONResponse(
            {"error": failure.error or "unauthorized", "error_description": failure.description},
            status_code=failure.status,
            headers={"WWW-Authenticate": self.challenge(failure)},
        )(scope, receive, send)

    def challenge(self, failure: AuthFailure) -> str:
        """RFC 6750 section 3: no error code when no credentials were sent."""
        parts = []
        if failure.error:
            parts += [f'error="{failure.error}"', f'error_description="{failure.description}"']
        if failure.scope:
            parts.append(f'scope="{failure.scope}"')
        if self.metadata_url:
            parts.append(f'resource_metadata="{self.metadata_url}"')
        return "Bearer " + ", ".join(parts) if parts else "Bearer"


def _invalid(description: str) -> AuthFailure:
    return AuthFailure(401, "invalid_token", description)


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    """`scope` (space-separated, RFC 8693) or `scp` (a list, as Azure and Okta issue it)."""
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(str(s) for s in scp)
    return frozenset(scp.split()) if isinstance(scp, str) else frozenset()


def _header_kid(token: str) -> str | None:
    import base64
    import json

    try:
        head = token.split(".", 1)[0]
        data = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, IndexError):
        return None
    kid = data.get("kid") if isinstance(data, dict) else None
    return kid if isinstance(kid, str) else None


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(getattr(k, "kid", None) == kid for k in keys.keys)


def from_config(config: AuthConfig, resource: str, base_dir: Path) -> Authenticator | None:
    """The authenticator `[auth]` asks for, or None when it asks for none. `resource` is the
    gateway's MCP URL: the default audience, with the base URL, of the tokens it accepts."""
    if not config.enabled:
        return None
    from llmspell.protocols.mcp.spec import expand_env

    jwt = None
    if config.jwt is not None:
        j = config.jwt
        sources = [s for s in (j.jwks_url, j.public_key, j.secret) if s]
        if len(sources) != 1:
            raise ConfigError("[auth.jwt]: give exactly one of jwks_url, public_key or secret")
        key: Any = None
        try:
            if j.public_key:
                text = expand_env(j.public_key)
                if "-----BEGIN" not in text:
                    path = Path(text).expanduser()
                    text = (path if path.is_absolute() else base_dir / path).read_text()
                key = JsonWebKey.import_key(text)
            elif j.secret:
                key = JsonWebKey.import_key(expand_env(j.secret).encode(), {"kty": "oct"})
        except KeyError as exc:
            raise ConfigError(f"[auth.jwt]: environment variable {exc} is not set") from None
        except (OSError, ValueError, JoseError) as exc:
            raise ConfigError(f"[auth.jwt]: the key cannot be read: {exc}") from None
        audiences = j.audience or [resource, resource.rsplit("/", 1)[0]]
        jwt = JwtVerifier(audiences, j.issuer, j.jwks_url, key)
    keys = []
    for name, entry in config.api_keys.items():
        try:
            value = expand_env(entry.key)
        except KeyError as exc:
            raise ConfigError(
                f"[auth.api_keys.{name}]: environment variable {exc} is not set"
            ) from None
        if len(value) < 16:
            raise ConfigError(f"[auth.api_keys.{name}]: a key needs at least 16 characters")
        keys.append(api_key(f"key:{name}", value, entry.scopes))
    return Authenticator(jwt, keys, frozenset(config.required_scopes))
