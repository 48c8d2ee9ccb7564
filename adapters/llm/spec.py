"""Model specifiers: `provider/model` or the full form, accepted the same from every front end."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from llmspell.runtime import ErrorCode, LLMSpellError
from llmspell.runtime.knowledge import Passage


@dataclass(frozen=True, slots=True)
class ProviderPreset:
    """How to reach a provider: its wire format, default endpoint and key variable."""

    kind: str  # "openai" | "anthropic" | "ollama" | "offline": which adapter speaks to it
    base_url: str | None = None
    api_key_env: str | None = None
    needs_key: bool = True


PROVIDERS: dict[str, ProviderPreset] = {
    "openai": ProviderPreset("openai", None, "OPENAI_API_KEY"),
    "anthropic": ProviderPreset("anthropic", None, "ANTHROPIC_API_KEY"),
    # Ollama through its OpenAI-compatible endpoint: same SDK, same retries, same tool calls.
    "ollama": ProviderPreset(
        "openai", "http://127.0.0.1:11434/v1", "OLLAMA_API_KEY", needs_key=False
    ),
    "groq": ProviderPreset("openai", "https://api.groq.com/openai/v1", "GROQ_API_KEY"),
    "openrouter": ProviderPreset("openai", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"),
    "together": ProviderPreset("openai", "https://api.together.xyz/v1", "TOGETHER_API_KEY"),
    "mistral": ProviderPreset("openai", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"),
    "deepseek": ProviderPreset("openai", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
    "vllm": ProviderPreset("openai", "http://127.0.0.1:8000/v1", "VLLM_API_KEY", needs_key=False),
    "lmstudio": ProviderPreset(
        "openai", "http://127.0.0.1:1234/v1", "LMSTUDIO_API_KEY", needs_key=False
    ),
    "offline": ProviderPreset("offline", None, None, needs_key=False),
}

_FIELDS = {
    "provider",
    "model",
    "base_url",
    "api_key_env",
    "api_key",
    "temperature",
    "max_tokens",
    "timeout",
    "max_retries",
}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    provider: str
    model: str
    base_url: str | None = None
    api_key_env: str | None = None
    api_key: str | None = field(default=None, repr=False)
    """Only from configuration, never from a script file; kept out of repr so it is never logged."""
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float = 60.0
    max_retries: int = 2

    @property
    def preset(self) -> ProviderPreset:
        return PROVIDERS[self.provider]

    @property
    def label(self) -> str:
        return f"{self.provider}/{self.model}"

    def with_overrides(self, **changes: Any) -> ModelSpec:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _bad(message: str) -> LLMSpellError:
    known = ", ".join(sorted(PROVIDERS))
    return LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"{message}; known providers: {known}")


def parse_model(value: Any) -> ModelSpec:
    """Parse `"provider/model"` or `{provider=, model=, ...}` (a model may itself contain '/')."""
    if isinstance(value, ModelSpec):
        return value
    if isinstance(value, str):
        provider, sep, model = value.partition("/")
        if not sep or not provider or not model:
            raise _bad(f"malformed model specifier {value!r}: expected 'provider/model'")
        fields: dict[str, Any] = {"provider": provider, "model": model}
    elif isinstance(value, dict):
        unknown = set(value) - _FIELDS
        if unknown:
            raise _bad(f"unknown model option(s) {', '.join(sorted(unknown))}")
        fields = dict(value)
        if isinstance(fields.get("model"), str) and "provider" not in fields:
            return parse_model(fields.pop("model")).with_overrides(**fields)
    else:
        raise _bad(f"a model is 'provider/model' or a table, not {type(value).__name__}")
    provider_name, model_name = fields.get("provider"), fields.get("model")
    if not isinstance(provider_name, str) or not isinstance(model_name, str) or not model_name:
        raise _bad("a model needs both provider and model")
    if provider_name not in PROVIDERS:
        raise _bad(f"unknown provider {provider_name!r} in {provider_name}/{model_name}")
    return ModelSpec(**fields)


model_override: ContextVar[ModelSpec | None] = ContextVar("llmspell_model_override", default=None)
"""The model every LLM agent run in this context uses instead of its own (a control API call's
`model`): a context variable, so it reaches each agent step of a workflow, parallel branches
included, and no call running beside it."""


@contextmanager
def overriding_model(model: ModelSpec | None) -> Iterator[None]:
    """Run the block with every LLM agent on `model` (None: each on its own)."""
    token = model_override.set(model)
    try:
        yield
    finally:
        model_override.reset(token)


def effective_model(configured: ModelSpec) -> ModelSpec:
    """The model an agent configured with `configured` runs on here: the override, keeping the
    agent's temperature and max_tokens where the override leaves them unset."""
    override = model_override.get()
    if override is None:
        return configured
    temperature, max_tokens = override.temperature, override.max_tokens
    return replace(
        override,
        temperature=configured.temperature if temperature is None else temperature,
        max_tokens=configured.max_tokens if max_tokens is None else max_tokens,
    )


@dataclass(frozen=True, slots=True)
class KnowledgeUse:
    """An agent's `knowledge`: the collection searched with each user message, and how many
    passages go into the system context."""

    collection: str
    k: int = 4


def parse_knowledge(value: Any, agent: str) -> KnowledgeUse | None:
    """`"collection"` or `{collection=, k=}`; None when absent."""
    if value is None:
        return None
    if isinstance(value, str) and value:
        return KnowledgeUse(value)
    if isinstance(value, dict) and isinstance(value.get("collection"), str) and value["collection"]:
        unknown = set(value) - {"collection", "k"}
        k = value.get("k", 4)
        if isinstance(k, float) and k.is_integer():
            k = int(k)  # a JS number
        if not unknown and isinstance(k, int) and not isinstance(k, bool) and 1 <= k <= 50:
            return KnowledgeUse(value["collection"], k)
    raise LLMSpellError(
        ErrorCode.INVALID_ARGUMENTS,
        f"agent {agent!r}: knowledge is a collection name or {{collection=NAME, k=1..50}}",
    )


CITE = "Answer from these passages and cite them as [source (location)]."


def with_passages(system: str, passages: Sequence[Passage]) -> str:
    """The system prompt followed by the retrieved passages, each headed by its citation, so
    the model can answer from them and say where each fact came from."""
    if not passages:
        return system
    block = "\n\n".join(f"[{p.citation()}]\n{p.text}" for p in passages)
    return "\n\n".join(part for part in (system, f"{CITE}\n\n{block}") if part)
