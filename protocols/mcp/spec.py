"""An `mcpServers` entry, as Claude Desktop, Cursor and VS Code write it: parsed, `${ENV}`
expanded and checked. Config files, `MCP.connect` and the CLI read entries here; nothing in this
module imports the MCP SDK, so reading a config does not pay for it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from llmspell.runtime.guard import GuardSettings, checked_rate, parse_rate
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from .credentials import TokenExchange
from .oauth import OAuthSettings

_ENV = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def guard_settings(spec: ServerSpec) -> GuardSettings:
    return GuardSettings(
        rate=parse_rate(spec.rate) if spec.rate else None,
        max_concurrency=spec.max_concurrency,
        breaker_failures=spec.breaker_failures,
        breaker_reset=spec.breaker_reset,
    )


class ServerSpec(BaseModel):
    """One entry of an `mcpServers` map, as Claude Desktop, Cursor and VS Code write it, plus
    llmspell's own keys (include, exclude, timeout). Unknown keys are other tools' and ignored."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(default="", pattern=r"^[A-Za-z0-9_-]*$")
    type: Literal["stdio", "http", "streamable-http", "streamableHttp", "sse"] | None = None
    command: str | None = None
    args: list[str] = []
    env: dict[str, str] = {}
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    include: list[str] = []
    """Globs on the upstream's tool names; empty means all."""
    exclude: list[str] = []
    timeout: float = Field(default=60.0, gt=0, description="seconds per call")
    connect_timeout: float = Field(default=10.0, gt=0)
    ping_interval: float = Field(default=15.0, ge=0, description="0: no health pings")
    disabled: bool = False
    rate: Annotated[str | None, AfterValidator(checked_rate)] = None
    """Calls per period sent to this server, e.g. "50/second"; more wait their turn."""
    max_concurrency: int = Field(default=0, ge=0, description="calls in flight; 0: no cap")
    breaker_failures: int = Field(default=5, ge=0, description="failures in a row; 0: off")
    breaker_reset: float = Field(default=30.0, gt=0, description="seconds open before a probe")
    auth: Literal["service", "passthrough", "exchange", "oauth"] = "service"
    """service: every call goes with this entry's own `headers`. passthrough: each caller's
    calls go over a session of its own that carries the caller's bearer token. exchange: the
    same, with a token traded for the caller's (RFC 8693) at `token_exchange.url`. oauth: the
    gateway logs in itself (`llmspell mcp login NAME`), with `oauth` settings if any."""
    token_exchange: TokenExchange | None = None
    oauth: OAuthSettings | None = None

    @model_validator(mode="after")
    def _exchange(self) -> ServerSpec:
        if self.auth == "exchange" and self.token_exchange is None:
            raise ValueError('auth = "exchange" needs token_exchange = { url, client_id, ... }')
        if self.auth == "oauth" and self.url is None:
            raise ValueError('auth = "oauth" needs a url (an HTTP server)')
        return self

    @model_validator(mode="after")
    def _one_transport(self) -> ServerSpec:
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (stdio) or url (Streamable HTTP or SSE)")
        if self.type == "stdio" and self.command is None:
            raise ValueError("type stdio needs a command")
        return self

    @property
    def transport(self) -> Literal["stdio", "http", "sse"]:
        if self.command is not None:
            return "stdio"
        return "sse" if self.type == "sse" else "http"

    def public(self) -> dict[str, Any]:
        """What may be shown or logged: never env, headers, URL credentials or query."""
        if self.command is not None:
            target = " ".join([os.path.basename(self.command), *self.args])
        else:
            assert self.url is not None
            parts = urlsplit(self.url)
            target = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"
            target += parts.path
        return {"name": self.name, "transport": self.transport, "target": target}


def expand_env(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """`${NAME}`, `${env:NAME}` (VS Code's spelling) and `${NAME:-default}` in every string."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise KeyError(name)

        return _ENV.sub(sub, value)
    if isinstance(value, list):
        return [expand_env(v, env) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, env) for k, v in value.items()}
    return value


class SpecError(ValueError):
    """An `mcpServers` entry that cannot be used; the message names the key, never a value."""


def parse_spec(entry: Mapping[str, Any], **fixed: Any) -> ServerSpec:
    """One `mcpServers` entry as written, `${ENV}` expanded, as a ServerSpec; `fixed` keys (the
    name) override the entry's. The one parser for config files and `MCP.connect`."""
    try:
        expanded = expand_env(dict(entry))
    except KeyError as exc:
        raise SpecError(f"environment variable {exc} is not set") from None
    try:
        return ServerSpec.model_validate({**expanded, **fixed})
    except ValidationError as exc:
        raise SpecError(validation_problems(exc, "(spec)")) from None


def validation_problems(exc: ValidationError, top: str = "(top)") -> str:
    """A pydantic error as `key.path: message; ...`, for config files and specs alike."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or top}: {e['msg']}" for e in exc.errors()
    )
