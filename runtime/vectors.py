"""Vectors: the port every vector store implements (memory, disk, external servers), and the
plain records and hits that cross it.

A store holds collections (namespaces). A record is an id, a vector, the text it came from and
flat metadata (str, int, float, bool values); a filter is equality on metadata keys, with a list
meaning "any of". One behaviour, checked by one shared test suite against every backend:
upsert replaces by id, search returns the k best by the collection's metric (higher score is
better for every metric: cosine similarity, dot product, negative L2 distance), delete by ids
or by filter, count with or without a filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from .errors import ErrorCode, LLMSpellError

Metric = Literal["cosine", "dot", "l2"]
METRICS: tuple[Metric, ...] = ("cosine", "dot", "l2")
Scalar = str | int | float | bool
Metadata = Mapping[str, Scalar]
Filter = Mapping[str, Scalar | Sequence[Scalar]]
"""Equality per key; a list value matches any of its items. All keys must match."""


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    vector: Sequence[float]
    text: str = ""
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    """Higher is better, whatever the metric (L2 gives the negative distance)."""
    text: str = ""
    metadata: Metadata = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    dim: int
    metric: Metric
    count: int


class VectorStore(Protocol):
    """One backend. Collections are created on first use with the dimension and metric given
    then; a later call with another dimension is refused (`check_dim`)."""

    async def create(self, collection: str, dim: int, metric: Metric = "cosine") -> None: ...
    async def collections(self) -> list[CollectionInfo]: ...
    async def drop(self, collection: str) -> bool: ...
    async def upsert(self, collection: str, records: Sequence[Record]) -> int: ...
    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        k: int = 10,
        filter: Filter | None = None,
    ) -> list[Hit]: ...
    async def get(self, collection: str, ids: Sequence[str]) -> list[Record]: ...
    async def delete(
        self, collection: str, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> int: ...
    async def count(self, collection: str, filter: Filter | None = None) -> int: ...
    async def aclose(self) -> None: ...


def matches(metadata: Metadata, filter: Filter | None) -> bool:
    """The one reading of a filter, for backends that filter in Python."""
    if not filter:
        return True
    for key, wanted in filter.items():
        value = metadata.get(key)
        if isinstance(wanted, list | tuple):
            if value not in wanted:
                return False
        elif value != wanted:
            return False
    return True


def check_metric(metric: str) -> Metric:
    if metric not in METRICS:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS, f"unknown metric {metric!r} (cosine, dot or l2)"
        )
    return metric


def check_dim(collection: str, expected: int, vector: Sequence[float]) -> None:
    if len(vector) != expected:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"collection {collection!r} holds {expected}-dimensional vectors, "
            f"not {len(vector)}",
        )


def unknown_collection(collection: str) -> LLMSpellError:
    return LLMSpellError(
        ErrorCode.INVALID_ARGUMENTS,
        f"no collection {collection!r}",
        data={"collection": collection},
    )


__all__ = [
    "METRICS",
    "CollectionInfo",
    "Filter",
    "Hit",
    "Metadata",
    "Metric",
    "Record",
    "VectorStore",
    "check_dim",
    "check_metric",
    "matches",
    "unknown_collection",
]
