"""Provider embeddings through the official `openai` SDK: OpenAI itself, Ollama's /v1, vLLM,
LM Studio, any OpenAI-compatible `base_url`. Specs, endpoints and keys come from the same table
as chat models (`adapters/llm/spec.py`), so `ollama/nomic-embed-text` needs no extra set-up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmspell.runtime import ErrorCode, LLMSpellError

from ..llm.provider import provider_error, sdk_error, sdk_options
from ..llm.spec import PROVIDERS, ModelSpec


class ProviderEmbedder:
    """Sends `batch_size` texts per request (OpenAI takes up to 2,048; 128 keeps each request
    small enough for local servers), in order, one request at a time."""

    def __init__(
        self, spec: ModelSpec, *, dimensions: int | None = None, batch_size: int = 128
    ) -> None:
        if PROVIDERS[spec.provider].kind != "openai":
            openai_like = sorted(n for n, p in PROVIDERS.items() if p.kind == "openai")
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"{spec.label}: {spec.provider} has no OpenAI-compatible embeddings endpoint; "
                f"use local/wordllama or one of {', '.join(openai_like)}",
            )
        if dimensions is not None and dimensions < 1:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, f"{spec.label}: dimensions must be >= 1"
            )
        self.spec = spec
        self.model = spec.label
        self.dimensions = dimensions
        self.dim = dimensions or 0
        self.batch_size = max(1, batch_size)
        self._options = sdk_options(spec)  # a missing key fails here, before any request
        self._client: Any = None
        self._openai: Any = None

    def _connect(self) -> Any:
        if self._client is None:
            import openai  # imported on first use: the SDK costs ~300 ms to import

            self._openai = openai
            self._client = openai.AsyncOpenAI(**self._options)
        return self._client

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for at in range(0, len(texts), self.batch_size):
            out += await self._request(list(texts[at : at + self.batch_size]))
        return out

    async def _request(self, batch: list[str]) -> list[list[float]]:
        client = self._connect()
        params: dict[str, Any] = {"model": self.spec.model, "input": batch}
        if self.dimensions is not None:
            params["dimensions"] = self.dimensions
        try:
            response = await client.embeddings.create(**params)
        except Exception as exc:
            err = self._error(exc, client.base_url)
            key = self._options.get("api_key") or "\0"
            raise err from (None if key in str(exc) else exc)
        rows = sorted(response.data or [], key=lambda d: d.index)
        if [d.index for d in rows] != list(range(len(batch))):
            raise provider_error(
                self.spec, f"asked for {len(batch)} embeddings, got {len(rows)} (or bad indexes)"
            )
        vectors = [[float(x) for x in d.embedding] for d in rows]
        widths = {len(v) for v in vectors}
        if len(widths) != 1 or (self.dim and widths != {self.dim}):
            raise provider_error(
                self.spec,
                f"vectors of {sorted(widths)} dimensions, expected {self.dim or 'one width'}",
            )
        self.dim = widths.pop()
        return vectors

    def _error(self, exc: Exception, base_url: object) -> Exception:
        """The SDK error as ours, saying which setting to check on a refused key, and with the
        key scrubbed should the server echo it back."""
        err = sdk_error(self.spec, self._openai, exc, base_url)
        if not isinstance(err, LLMSpellError):
            return err
        message = err.message
        if err.data.get("status") in (401, 403):
            env = self.spec.api_key_env or self.spec.preset.api_key_env
            message += f"; the API key was refused: check {env or 'api_key'}"
        key = self._options.get("api_key")
        if key and key != "not-needed":
            message = message.replace(key, "***")
        return LLMSpellError(err.code, message, data=err.data)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
