"""An embeddings cache in the state store: re-indexing a folder where three files changed sends
three files' chunks to the model, not all of them, and survives restarts with a SQLite store."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

from llmspell.runtime.embeddings import Embedder
from llmspell.runtime.state import StateStore


def cache_scope(model: str) -> str:
    return f"embeddings:{model}"


def cache_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


class CachedEmbedder:
    """Wraps any embedder: vectors are looked up by (model, sha256(text)) in the scope
    `embeddings:<model>`; only misses go to the model, each distinct text once. Vectors are
    stored as little-endian float64 bytes: exact, and half the size of a JSON list."""

    def __init__(self, inner: Embedder, state: StateStore, *, ttl: float | None = None) -> None:
        self.inner = inner
        self.state = state
        self.ttl = ttl
        self.model = inner.model
        self.hits = 0
        self.misses = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    @dim.setter
    def dim(self, value: int) -> None:
        self.inner.dim = value

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        scope = cache_scope(self.model)
        keys = [cache_key(t) for t in texts]
        unique = list(dict.fromkeys(keys))
        stored = await _get_many(self.state, scope, unique)
        found: dict[str, list[float]] = {}
        for k, value in zip(unique, stored, strict=True):
            vector = _decode(value)
            if vector is not None:
                found[k] = vector
        missing = [k for k in unique if k not in found]
        self.hits += sum(1 for k in keys if k in found)
        if missing:
            text_of = dict(zip(keys, texts, strict=True))
            vectors = await self.inner.embed([text_of[k] for k in missing])
            self.misses += len(missing)
            for k, v in zip(missing, vectors, strict=True):
                found[k] = v
            await asyncio.gather(
                *(self.state.set(scope, k, _encode(found[k]), self.ttl) for k in missing)
            )
        return [list(found[k]) for k in keys]

    async def clear(self) -> int:
        """Forget this model's cached vectors; returns how many there were."""
        scope = cache_scope(self.model)
        keys = await self.state.keys(scope)
        await asyncio.gather(*(self.state.delete(scope, k) for k in keys))
        return len(keys)

    async def aclose(self) -> None:
        close = getattr(self.inner, "aclose", None)
        if close is not None:
            await close()


async def _get_many(state: StateStore, scope: str, keys: list[str]) -> list[Any]:
    """One call when the store has a batch read (`get_many`), else the reads run together."""
    get_many = getattr(state, "get_many", None)
    if get_many is not None:
        found = await get_many(scope, keys)
        return [found.get(k) for k in keys] if isinstance(found, dict) else list(found)
    return list(await asyncio.gather(*(state.get(scope, k) for k in keys)))


def _encode(vector: Sequence[float]) -> bytes:
    import numpy as np

    return np.asarray(vector, dtype="<f8").tobytes()


def _decode(value: Any) -> list[float] | None:
    """A stored vector, or None for anything unexpected (then it is recomputed)."""
    import numpy as np

    if isinstance(value, bytes) and value and len(value) % 8 == 0:
        decoded: list[float] = np.frombuffer(value, dtype="<f8").tolist()
        return decoded
    return None
