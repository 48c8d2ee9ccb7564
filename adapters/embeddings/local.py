"""Embedders that need no network: WordLlama (static token embeddings distilled from LLM
embedding tables; weights and tokenizer ship in its wheel) and a tiny feature-hashing embedder
for tests and demos. Both give unit-length vectors, so a dot product is the cosine."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llmspell.runtime import ErrorCode, LLMSpellError

WORDLLAMA_DIMS = (64, 128, 256)
"""The 256-wide table the wheel ships and its Matryoshka truncations."""

_models: dict[int, Any] = {}
_loading = threading.Lock()


def load_wordllama(dim: int = 256) -> Any:
    """Load WordLlama from the files inside its wheel, never from the Hub.

    `WordLlama.load()` looks for the tokenizer in `<package>/tokenizer/` but ships it in
    `<package>/tokenizers/`, so by default it falls back to a Hugging Face download. Pointing
    `cache_dir` at the package directory makes its cache lookup find the shipped file, and
    `disable_download` turns any other miss into an error instead of a request."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama  # its import calls logging.basicConfig(INFO): undone below
        from wordllama import WordLlama
    except ImportError as exc:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED,
            "local/wordllama needs the wordllama package (pip install wordllama)",
        ) from exc
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    try:
        return WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent,
            disable_download=True,
            dim=256,
            trunc_dim=dim if dim != 256 else None,
        )
    except (FileNotFoundError, ValueError) as exc:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED, f"local/wordllama ({dim} dims) cannot load: {exc}"
        ) from exc


def _shared(dim: int) -> Any:
    """One loaded model per width per process: every embedder shares its ~30 MB table."""
    with _loading:
        if dim not in _models:
            _models[dim] = load_wordllama(dim)
        return _models[dim]


class LocalEmbedder:
    """`local/wordllama`: ~ thousands of texts a second on one core, offline, 256 dims.

    Static embeddings average token vectors, so they capture topic and wording rather than
    fine meaning: good for retrieval over docs and code, no match for a transformer model."""

    def __init__(
        self,
        model: str = "local/wordllama",
        *,
        dimensions: int | None = None,
        batch_size: int = 256,
    ) -> None:
        dim = dimensions or 256
        if dim not in WORDLLAMA_DIMS:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"{model}: dimensions must be one of 64, 128, 256 (the shipped weights are 256 "
                f"wide), not {dim}",
            )
        self.model = model
        self.dim = dim
        self.batch_size = max(1, batch_size)

    async def load(self) -> None:
        """Load the weights now (in a thread) rather than on the first `embed`."""
        await asyncio.to_thread(_shared, self.dim)

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        return await asyncio.to_thread(self._embed, list(texts))

    def _embed(self, texts: list[str]) -> list[list[float]]:
        import numpy as np

        model = _shared(self.dim)
        # Sorted by length so each batch pads to a similar length: a long text no longer
        # inflates the short ones batched with it.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for batch in _batches(order, texts, self.batch_size):
            out[batch] = model.embed([texts[i] for i in batch], norm=False, batch_size=len(batch))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(norms == 0, 1.0, norms)  # an empty text stays the zero vector
        result: list[list[float]] = out.tolist()
        return result

    async def aclose(self) -> None:
        return None


def _batches(order: list[int], texts: list[str], most: int) -> list[list[int]]:
    """Up to `most` texts and about `_BATCH_CHARS` characters a batch: a batch pads every text
    to its longest, so long texts go a few at a time (~1.5x faster on 200-word chunks), short
    ones many at a time."""
    batches: list[list[int]] = [[]]
    chars = 0
    for i in order:
        if batches[-1] and (len(batches[-1]) >= most or chars + len(texts[i]) > _BATCH_CHARS):
            batches.append([])
            chars = 0
        batches[-1].append(i)
        chars += len(texts[i])
    return batches


_BATCH_CHARS = 8000
_WORD = re.compile(r"\w+")


class HashEmbedder:
    """`offline/hash`: feature hashing of words and word pairs into `dim` signed buckets.

    Deterministic across processes and machines, no model, no dependency: texts sharing words
    get similar vectors, so it behaves like a (weak) embedder in tests and demos."""

    def __init__(self, model: str = "offline/hash", *, dimensions: int | None = None) -> None:
        self.model = model
        self.dim = dimensions or 64
        if self.dim < 1:
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"{model}: dimensions must be >= 1")

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if len(texts) > 256:
            return await asyncio.to_thread(lambda: [self.vector(t) for t in texts])
        return [self.vector(t) for t in texts]

    def vector(self, text: str) -> list[float]:
        words = _WORD.findall(text.lower())
        features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
        vec = [0.0] * self.dim
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dim
            vec[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vec))
        return [x / norm for x in vec] if norm else vec

    async def aclose(self) -> None:
        return None
