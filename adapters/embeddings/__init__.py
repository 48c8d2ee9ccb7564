"""Embedders by name: `local/wordllama` (the default, offline), `offline/hash` (no model, for
tests and demos) and provider models named like chat models (`openai/text-embedding-3-small`,
`ollama/nomic-embed-text`, any OpenAI-compatible `base_url`). Given a state store, the embedder
is wrapped in a cache there, so an unchanged text is never embedded twice."""

from __future__ import annotations

from typing import Any

from llmspell.runtime import ErrorCode, LLMSpellError
from llmspell.runtime.embeddings import Embedder
from llmspell.runtime.state import StateStore

from .cached import CachedEmbedder
from .local import HashEmbedder, LocalEmbedder

DEFAULT = "local/wordllama"
_MODEL_OPTIONS = {"base_url", "api_key_env", "api_key", "timeout", "max_retries"}
_OWN_OPTIONS = {"dimensions", "batch_size", "cache", "ttl"}


def embedder(
    spec: str | dict[str, Any] = DEFAULT, *, state: StateStore | None = None, **options: Any
) -> Embedder:
    """Build an embedder. Options: `dimensions` (a provider's `dimensions` parameter, or the
    WordLlama truncation), `batch_size`, and for providers `base_url`, `api_key_env`, `api_key`,
    `timeout`, `max_retries`; with `state`, `cache=False` skips the cache and `ttl` expires
    cached vectors. A table spec may carry the same keys next to `model`/`provider`."""
    if isinstance(spec, dict):
        spec = dict(spec)
        options = {**{k: spec.pop(k) for k in list(spec) if k in _OWN_OPTIONS}, **options}
    unknown = set(options) - _MODEL_OPTIONS - _OWN_OPTIONS
    if unknown:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"unknown embedder option(s) {', '.join(sorted(unknown))}; known: "
            f"{', '.join(sorted(_MODEL_OPTIONS | _OWN_OPTIONS))}",
        )
    cache, ttl = options.pop("cache", True), options.pop("ttl", None)
    inner = _build(spec, options)
    if state is not None and cache:
        return CachedEmbedder(inner, state, ttl=ttl)
    return inner


def _build(spec: str | dict[str, Any], options: dict[str, Any]) -> Embedder:
    dimensions, batch_size = options.pop("dimensions", None), options.pop("batch_size", None)
    name = spec if isinstance(spec, str) else _label(spec)
    if name in ("local", "local/wordllama"):
        _no_model_options(name, options)
        return LocalEmbedder(DEFAULT, dimensions=dimensions, batch_size=batch_size or 256)
    if name == "offline/hash":
        _no_model_options(name, options)
        return HashEmbedder(name, dimensions=dimensions)
    if name.startswith(("local/", "offline/")):
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"unknown embedding model {name!r}; offline ones: local/wordllama, offline/hash",
        )
    from ..llm.spec import parse_model
    from .provider import ProviderEmbedder

    model = parse_model(spec).with_overrides(**options)
    return ProviderEmbedder(model, dimensions=dimensions, batch_size=batch_size or 128)


def _label(spec: dict[str, Any]) -> str:
    model, provider = spec.get("model"), spec.get("provider")
    if isinstance(model, str) and isinstance(provider, str):
        return f"{provider}/{model}"
    return model if isinstance(model, str) else ""


def _no_model_options(name: str, options: dict[str, Any]) -> None:
    if options:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"{name} runs in-process and takes no {', '.join(sorted(options))}",
        )


__all__ = ["DEFAULT", "CachedEmbedder", "HashEmbedder", "LocalEmbedder", "embedder"]
