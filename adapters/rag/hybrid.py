"""Hybrid retrieval: reciprocal rank fusion (RRF) of the vector and BM25 result lists.

RRF (Cormack, Clarke and Büttcher, SIGIR 2009) scores an item `sum(1 / (K + rank))` over the
lists it appears in, rank counted from 1. It uses ranks only, so a cosine similarity and a BM25
score, which live on unrelated scales, need no normalising; an item both lists agree on rises,
and an item only one list found still counts. K = 60 is the paper's constant: it damps the
difference between the first few ranks so no single list dominates.

Each list is fetched deeper than the k asked for (`depth`), so an item ranked, say, 12th by one
method and 3rd by the other can still win a place in the top k.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = 60
"""The RRF constant (the paper's value)."""

T = TypeVar("T", bound=Hashable)


def depth(k: int) -> int:
    """How many results each list contributes to a fusion for the top `k`."""
    return max(k * 4, 20)


def fuse(lists: Sequence[Sequence[T]], k: int, constant: int = K) -> list[tuple[T, float]]:
    """The `k` best items of the ranked `lists` (best first each) by RRF score, best first;
    ties keep the order in which the items were first seen (the earlier list first)."""
    scores: dict[T, float] = {}
    for ranked in lists:
        for rank, item in enumerate(ranked, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (constant + rank)
    best = sorted(scores.items(), key=lambda pair: pair[1], reverse=True)
    return best[:k]


__all__ = ["K", "depth", "fuse"]
