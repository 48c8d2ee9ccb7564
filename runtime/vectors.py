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
    """One backend. `create` makes a collection with its dimension and metric, and is a no-op
    when it exists alike (another dimension or metric is refused: `check_same`). Every other
    call on a collection that does not exist fails with `unknown_collection`, except `drop`
    (False). Upsert takes the last record of an id in a batch; `delete` needs ids, a non-empty
    filter, or both (records among the ids that match); `search` with a filter returns the k
    best matching records, never fewer when k exist; `get` returns the records found in the
    order asked, skipping unknown ids. Upsert and delete return how many records they wrote or
    removed."""

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
    """The one reading of a filter, for backends that filter in Python. A bool matches only a
    bool (Python's `True == 1` would not hold in a server's filter), 1 matches 1.0."""
    if not filter:
        return True
    for key, wanted in filter.items():
        if key not in metadata:
            return False
        value = metadata[key]
        options = wanted if isinstance(wanted, list | tuple) else (wanted,)
        if not any(_same(value, option) for option in options):
            return False
    return True


def _same(value: Scalar, wanted: Scalar) -> bool:
    if isinstance(value, bool) or isinstance(wanted, bool):
        return type(value) is type(wanted) and value == wanted
    return value == wanted


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
            f"collection {collection!r} holds {expected}-dimensional vectors, not {len(vector)}",
        )


def check_same(collection: str, info: CollectionInfo, dim: int, metric: str) -> None:
    """`create` of a collection that exists: fine when alike, refused when not."""
    if (info.dim, info.metric) != (dim, metric):
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"collection {collection!r} exists with {info.dim} dimensions and metric "
            f"{info.metric}, not {dim} and {metric}",
        )


def check_create(dim: int, metric: str) -> Metric:
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"dimension must be >= 1, not {dim!r}")
    return check_metric(metric)


def check_records(collection: str, dim: int, records: Sequence[Record]) -> list[Record]:
    """The batch to write: dimensions and metadata checked, the last record of an id kept."""
    last: dict[str, Record] = {}
    for record in records:
        check_dim(collection, dim, record.vector)
        for key, value in record.metadata.items():
            if not isinstance(key, str) or not isinstance(value, str | int | float | bool):
                raise LLMSpellError(
                    ErrorCode.INVALID_ARGUMENTS,
                    f"record {record.id!r}: metadata {key!r} must be a str, int, float or "
                    f"bool, not {type(value).__name__}",
                )
        last.pop(record.id, None)
        last[record.id] = record
    return list(last.values())


def check_delete(ids: Sequence[str] | None, filter: Filter | None) -> None:
    """Refuse a delete that names nothing: emptying a collection is `drop`'s job."""
    if ids is None and not filter:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS, "delete needs ids or a non-empty filter (or both)"
        )


def check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"k must be >= 1, not {k!r}")


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
    "check_create",
    "check_delete",
    "check_dim",
    "check_k",
    "check_metric",
    "check_records",
    "check_same",
    "matches",
    "unknown_collection",
]
