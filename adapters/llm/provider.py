"""The provider interface (as httpx's transport is for HTTP) and the shared error mapping."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any, Protocol

from llmspell.runtime import ErrorCode, LLMSpellError

from .spec import ModelSpec
from .types import Capabilities, ChatRequest, Completion, StreamEvent

WIRE_CAPABILITIES = {
    "openai": Capabilities(tools=True, images=True, streaming=True, json_mode=True),
    "anthropic": Capabilities(tools=True, images=True, streaming=True, json_mode=False),
    "offline": Capabilities(tools=True, images=True, streaming=True, json_mode=True),
}
"""What each wire format can carry; `llmspell model list` shows the same table."""


class Provider(Protocol):
    spec: ModelSpec
    capabilities: Capabilities

    async def complete(self, request: ChatRequest) -> Completion: ...

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]: ...

    async def aclose(self) -> None: ...


def api_key(spec: ModelSpec) -> str | None:
    """The key from the config, else the environment; a missing required key is a clear error."""
    env = spec.api_key_env or spec.preset.api_key_env
    key = spec.api_key or (os.environ.get(env) if env else None)
    if not key and spec.preset.needs_key and not spec.base_url:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED,
            f"{spec.label}: no API key; set {env} in the environment or api_key in the config",
            data={"provider": spec.provider, "model": spec.model, "env": env},
        )
    return key


def require(spec: ModelSpec, capabilities: Capabilities, request: ChatRequest) -> None:
    """Refuse what the provider cannot do, naming the capability, before any request is sent."""
    missing = []
    if request.tools and not capabilities.tools:
        missing.append("tools")
    if any(m.images for m in request.messages) and not capabilities.images:
        missing.append("images")
    if request.json_mode and not capabilities.json_mode:
        missing.append("json_mode")
    if missing:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"{spec.label} does not support {', '.join(missing)}",
            data={"provider": spec.provider, "model": spec.model, "missing": missing},
        )


def provider_error(spec: ModelSpec, message: str, *, status: int | None = None) -> LLMSpellError:
    where = f" (HTTP {status})" if status else ""
    return LLMSpellError(
        ErrorCode.PROVIDER_ERROR,
        f"{spec.label}: {message}{where}",
        data={
            "provider": spec.provider,
            "model": spec.model,
            **({"status": status} if status else {}),
        },
    )


def sdk_options(spec: ModelSpec) -> dict[str, Any]:
    """Client options both official SDKs take alike; their own retries do the backoff."""
    return {
        "api_key": api_key(spec) or "not-needed",
        "base_url": spec.base_url or spec.preset.base_url,
        "timeout": spec.timeout,
        "max_retries": spec.max_retries,
    }


def sdk_error(spec: ModelSpec, sdk: Any, exc: Exception, base_url: object) -> Exception:
    """Map an `openai` or `anthropic` SDK exception (both SDKs share the hierarchy) to ours."""
    if isinstance(exc, sdk.APITimeoutError):
        return timeout_error(spec)
    if isinstance(exc, sdk.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        err = body.get("error", body)
        detail = err.get("message") if isinstance(err, dict) else None
        return provider_error(spec, str(detail or exc.message), status=exc.status_code)
    if isinstance(exc, sdk.APIConnectionError):
        return provider_error(spec, f"cannot reach {base_url}")
    return exc


def timeout_error(spec: ModelSpec) -> LLMSpellError:
    return LLMSpellError(
        ErrorCode.TIMEOUT,
        f"{spec.label}: no answer within {spec.timeout:g} s",
        data={"provider": spec.provider, "model": spec.model},
    )
