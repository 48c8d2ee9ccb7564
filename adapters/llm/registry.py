"""Which adapter speaks to which provider; providers are built (and their SDKs imported) on use."""

from __future__ import annotations

from typing import Any

from .provider import WIRE_CAPABILITIES, Provider
from .spec import PROVIDERS, ModelSpec, parse_model


def create_provider(model: Any) -> Provider:
    spec = parse_model(model)
    kind = PROVIDERS[spec.provider].kind
    if kind == "openai":
        from .openai_chat import OpenAIChat

        return OpenAIChat(spec)
    if kind == "anthropic":
        from .anthropic_messages import AnthropicMessages

        return AnthropicMessages(spec)
    from .offline import Offline

    return Offline(spec)


def describe_providers() -> list[dict[str, Any]]:
    """For `llmspell model list`: each provider, how it is reached, and what it can do."""
    import os

    rows = []
    for name, preset in sorted(PROVIDERS.items()):
        caps = WIRE_CAPABILITIES[preset.kind].to_plain()
        configured = not preset.needs_key or bool(
            preset.api_key_env and os.environ.get(preset.api_key_env)
        )
        rows.append(
            {
                "provider": name,
                "wire": preset.kind,
                "base_url": preset.base_url,
                "key": preset.api_key_env,
                "configured": configured,
                "capabilities": caps,
            }
        )
    return rows


__all__ = ["ModelSpec", "create_provider", "describe_providers", "parse_model"]
