"""Sentence vectors for the offline summarizer and classifier: the shared `local/wordllama`
embedder (weights in the wordllama wheel, nothing downloaded; loaded once, in a worker thread)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MODEL = "local/wordllama"
_embedder: Any = None


async def unit_vectors(texts: Sequence[str]) -> np.ndarray:
    """One row per text, scaled to length 1 (so a dot product is the cosine similarity)."""
    import numpy as np
    from llmspell.adapters.embeddings import embedder

    global _embedder
    if _embedder is None:
        _embedder = embedder(MODEL)
    rows = await _embedder.embed(list(texts))
    matrix = np.asarray(rows, dtype=np.float64).reshape(len(texts), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)
