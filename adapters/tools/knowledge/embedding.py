"""`embedding-generator`: texts to vectors with an embedding model. The offline models
(`local/wordllama`, `offline/hash`) are always allowed; a provider model
(`openai/text-embedding-3-small`, `ollama/nomic-embed-text`) only when `[tools.embedding-generator]
models` lists it, with its endpoint and key from the same table (`base_url`, `api_key_env`,
`api_key`, `timeout`) or the environment, never from the call. So the tool is closed-world
unless the configuration opens it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmspell.runtime import Annotations, Component, Result

from .._common import answer, refuse, tool
from ..env import ToolEnv

if TYPE_CHECKING:
    from llmspell.runtime.embeddings import Embedder

NAME = "embedding-generator"
LOCAL = ("local/wordllama", "offline/hash")
DEFAULT = "local/wordllama"
_SETTINGS = ("base_url", "api_key_env", "api_key", "timeout", "max_retries")
MAX_TEXTS = 256


def component(env: ToolEnv) -> Component:
    settings = env.settings_for(NAME)
    configured = [str(m) for m in settings.get("models") or []]
    allowed = [*LOCAL, *(m for m in configured if m not in LOCAL)]
    open_world = any(m not in LOCAL for m in allowed)
    offline: dict[str, Embedder] = {}

    async def handle(args: dict[str, Any]) -> Result:
        from llmspell.adapters.embeddings import embedder

        model = args.get("model", DEFAULT)
        if model not in allowed:
            raise refuse(NAME, f"model {model!r} is not allowed; allowed: {', '.join(allowed)}")
        texts: list[str] = args["texts"]
        dimensions = args.get("dimensions")
        if model in LOCAL:
            key = f"{model}:{dimensions}"
            if key not in offline:  # the WordLlama weights load once
                offline[key] = embedder(model, state=env.state, dimensions=dimensions)
            vectors = await offline[key].embed(texts)
        else:
            options = {k: settings[k] for k in _SETTINGS if k in settings}
            remote = embedder(model, state=env.state, dimensions=dimensions, **options)
            try:
                vectors = await remote.embed(texts)
            finally:
                close = getattr(remote, "aclose", None)
                if close is not None:
                    await close()
        dims = len(vectors[0]) if vectors else 0
        data = {"model": model, "dims": dims, "vectors": vectors}
        return answer(f"{len(vectors)} vector(s) of {dims} dimensions from {model}", data)

    return tool(
        NAME,
        "Turn texts into embedding vectors (for similarity, clustering, your own index). "
        f"Models: {', '.join(allowed)}.",
        {
            "texts": {
                "type": "array",
                "items": {"type": "string"},
                "minItems": 1,
                "maxItems": MAX_TEXTS,
                "description": "The texts to embed, one vector each, in order",
            },
            "model": {"type": "string", "enum": allowed, "default": DEFAULT},
            "dimensions": {
                "type": "integer",
                "minimum": 1,
                "maximum": 4096,
                "description": "Shorter vectors (WordLlama truncation, a provider's parameter)",
            },
        },
        handle,
        required=["texts"],
        annotations=Annotations(
            read_only=True, idempotent=True, destructive=False, open_world=open_world
        ),
    )
