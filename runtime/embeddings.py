"""Embeddings: the port that turns texts into vectors. The local model (offline, weights in a
wheel) and provider models (`openai/text-embedding-3-small`, `ollama/nomic-embed-text`, any
OpenAI-compatible `base_url`) live in adapters; a cache in the state store wraps any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Embedder(Protocol):
    model: str
    """`provider/model`, as configs and scripts name it (`local/wordllama`...)."""
    dim: int
    """Length of every vector it returns; a provider model learns it from its first answer
    (0 before) unless configured."""

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order; batching is the embedder's business."""
        ...


__all__ = ["Embedder"]
