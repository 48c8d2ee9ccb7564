"""`MemoryVectorStore`: exact search with numpy, gone with the process.

It is the reference the approximate backends are measured against (recall in tests and in
`bench rag`), so it never approximates: the filter is applied to every row before the top k
are taken, and every row is scored (float32 arithmetic, as the rows are stored). `exact_scores`
and `top_k` are shared with the disk store's exact fallback, so both score alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from llmspell.runtime.vectors import (
    CollectionInfo,
    Filter,
    Hit,
    Metric,
    Record,
    check_create,
    check_delete,
    check_dim,
    check_k,
    check_records,
    check_same,
    matches,
    unknown_collection,
)

Matrix = npt.NDArray[np.float32]


def exact_scores(
    matrix: Matrix,
    query: Sequence[float],
    metric: Metric,
    norms: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float64]:
    """One score per row, higher is better: cosine similarity (0 against a zero vector), dot
    product, or the negative Euclidean distance. `norms`: the rows' lengths, if kept."""
    rows = matrix
    q = np.asarray(query, dtype=np.float32)
    if metric == "l2":
        return np.asarray(-np.linalg.norm(rows - q, axis=1), dtype=np.float64)
    dots = (rows @ q).astype(np.float64)
    if metric == "dot":
        return np.asarray(dots, dtype=np.float64)
    lengths = np.linalg.norm(rows, axis=1) if norms is None else norms
    norms64 = lengths.astype(np.float64) * float(np.linalg.norm(q))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(norms64 > 0, dots / norms64, 0.0), dtype=np.float64)


def top_k(scores: npt.NDArray[np.float64], k: int) -> list[int]:
    """Row numbers of the k best scores, best first (ties: lower row first)."""
    part = np.argpartition(-scores, k - 1)[:k] if len(scores) > k else np.arange(len(scores))
    return [int(i) for i in part[np.lexsort((part, -scores[part]))]]


@dataclass(slots=True)
class _Collection:
    dim: int
    metric: Metric
    matrix: Matrix
    norms: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    metadata: list[dict[str, str | int | float | bool]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    def put(self, record: Record) -> None:
        vector = np.asarray(record.vector, dtype=np.float32)
        row = self.rows.get(record.id)
        if row is None:
            row = len(self.ids)
            if row == len(self.matrix):  # grow by doubling: amortised O(1) appends
                grown = np.zeros((max(16, 2 * row), self.dim), dtype=np.float32)
                grown[:row] = self.matrix
                self.matrix = grown
                self.norms = np.resize(self.norms, len(grown))
            self.rows[record.id] = row
            self.ids.append(record.id)
            self.texts.append(record.text)
            self.metadata.append(dict(record.metadata))
        else:
            self.texts[row] = record.text
            self.metadata[row] = dict(record.metadata)
        self.matrix[row] = vector
        self.norms[row] = np.linalg.norm(vector)

    def remove(self, record_id: str) -> None:
        """Swap the last row into the hole, so rows stay dense."""
        row = self.rows.pop(record_id)
        last = len(self.ids) - 1
        if row != last:
            moved = self.ids[last]
            self.matrix[row] = self.matrix[last]
            self.norms[row] = self.norms[last]
            self.ids[row], self.texts[row], self.metadata[row] = (
                moved,
                self.texts[last],
                self.metadata[last],
            )
            self.rows[moved] = row
        self.ids.pop()
        self.texts.pop()
        self.metadata.pop()

    def selected(self, filter: Filter | None) -> list[int]:
        return [i for i, meta in enumerate(self.metadata) if matches(meta, filter)]

    def record(self, row: int) -> Record:
        vector = [float(x) for x in self.matrix[row]]
        return Record(self.ids[row], vector, self.texts[row], dict(self.metadata[row]))


class MemoryVectorStore:
    """In-process collections of float32 rows; every search is exact."""

    def __init__(self) -> None:
        self._collections: dict[str, _Collection] = {}

    def _get(self, collection: str) -> _Collection:
        found = self._collections.get(collection)
        if found is None:
            raise unknown_collection(collection)
        return found

    async def create(self, collection: str, dim: int, metric: Metric = "cosine") -> None:
        metric = check_create(dim, metric)
        found = self._collections.get(collection)
        if found is not None:
            check_same(collection, _info(collection, found), dim, metric)
            return
        empty = np.zeros((0, dim), dtype=np.float32)
        self._collections[collection] = _Collection(dim, metric, empty)

    async def collections(self) -> list[CollectionInfo]:
        return [_info(name, c) for name, c in sorted(self._collections.items())]

    async def drop(self, collection: str) -> bool:
        return self._collections.pop(collection, None) is not None

    async def upsert(self, collection: str, records: Sequence[Record]) -> int:
        c = self._get(collection)
        batch = check_records(collection, c.dim, records)
        for record in batch:
            c.put(record)
        return len(batch)

    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        k: int = 10,
        filter: Filter | None = None,
    ) -> list[Hit]:
        c = self._get(collection)
        check_dim(collection, c.dim, vector)
        check_k(k)
        n = len(c.ids)
        rows: Sequence[int] = c.selected(filter) if filter else range(n)
        if not rows:
            return []
        if filter:
            scores = exact_scores(c.matrix[rows], vector, c.metric, c.norms[rows])
        else:  # views, not copies: the whole matrix is read once
            scores = exact_scores(c.matrix[:n], vector, c.metric, c.norms[:n])
        return [
            Hit(c.ids[rows[i]], float(scores[i]), c.texts[rows[i]], dict(c.metadata[rows[i]]))
            for i in top_k(scores, k)
        ]

    async def get(self, collection: str, ids: Sequence[str]) -> list[Record]:
        c = self._get(collection)
        return [c.record(c.rows[i]) for i in ids if i in c.rows]

    async def delete(
        self, collection: str, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> int:
        c = self._get(collection)
        check_delete(ids, filter)
        named = set(c.ids) if ids is None else {i for i in ids if i in c.rows}
        doomed = [i for i in named if matches(c.metadata[c.rows[i]], filter)]
        for record_id in doomed:
            c.remove(record_id)
        return len(doomed)

    async def count(self, collection: str, filter: Filter | None = None) -> int:
        c = self._get(collection)
        return len(c.selected(filter)) if filter else len(c.ids)

    async def aclose(self) -> None:
        self._collections.clear()


def _info(name: str, c: _Collection) -> CollectionInfo:
    return CollectionInfo(name, c.dim, c.metric, len(c.ids))
