"""`DiskVectorStore`: the embedded default; SQLite holds the records, usearch (HNSW) finds them.

SQLite (`vectors.db`, WAL) is the source of truth: ids, texts, metadata (JSON) and float32
vectors, one transaction per upsert or delete batch, each bumping the collection's generation.
The HNSW index per collection is a cache of it (`hnsw.IndexCache`: used only when its file
matches SQLite's generation and count, otherwise rebuilt), so a kill at any moment leaves a
store that opens, counts and searches, with every committed record and no uncommitted one.

Every SQLite and usearch call runs on one worker thread that owns the connection and indexes
(as the SQLite state store does): the event loop never blocks and writes are serialized. HNSW
keys are SQLite's AUTOINCREMENT row keys, never reused. Scores are recomputed exactly from the
stored vectors, so they equal the memory store's. A filtered search over-fetches from HNSW,
filters the candidates, and falls back to exact search over the matching rows when fewer than
k survive, so a filter never returns fewer than k matches that exist.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from llmspell.runtime.errors import ErrorCode, LLMSpellError
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
from usearch.index import Index

from . import hnsw, schema
from .hnsw import (
    IndexCache,
    Matrix,
)
from .memory import exact_scores, top_k

T = TypeVar("T")
OVERFETCH = 10
"""A filtered search asks HNSW for this many times k candidates (at least 100)."""
CHUNK = 500
"""Ids per `IN (...)`, well under SQLite's variable limit."""
_ROW = "SELECT key, id, text, metadata, vector FROM records"


@dataclass(frozen=True, slots=True)
class _Info:
    cid: int
    dim: int
    metric: Metric
    generation: int


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


def _record(row: tuple[int, str, str, str, bytes]) -> Record:
    vector = np.frombuffer(row[4], dtype=np.float32)
    return Record(row[1], [float(x) for x in vector], row[2], json.loads(row[3]))


class _Engine:
    """What the worker thread runs: the connection, the loaded indexes, and every operation."""

    def __init__(self, folder: Path, busy_timeout: float, cache: IndexCache) -> None:
        self.folder = folder
        self.busy_timeout = busy_timeout
        self.cache = cache
        self.conn: sqlite3.Connection | None = None

    # -- SQLite ------------------------------------------------------------------------------

    def db(self) -> sqlite3.Connection:
        if self.conn is None:
            self.conn = schema.connect(self.folder, self.busy_timeout)
        return self.conn

    def info(self, name: str) -> _Info:
        row = (
            self.db()
            .execute("SELECT cid, dim, metric, generation FROM collections WHERE name = ?", (name,))
            .fetchone()
        )
        if row is None:
            raise unknown_collection(name)
        return _Info(*row)

    def write(self, name: str, change: Callable[[sqlite3.Connection, _Info], list[int]]) -> int:
        """One transaction: `change` returns the keys it touched; the generation moves on if
        any. Returns the generation the change started from (-1 when nothing changed)."""
        with schema.transaction(self.db()) as conn:
            info = self.info(name)
            if not change(conn, info):
                return -1
            conn.execute(
                "UPDATE collections SET generation = generation + 1 WHERE cid = ?", (info.cid,)
            )
            return info.generation

    def rows(self, sql: str, cid: int, column: str, values: Sequence[Any]) -> list[Any]:
        """Rows of collection `cid` whose `column` (key or id) is among `values`. `+cid`
        keeps SQLite from planning on the (cid, id) index for a key lookup: a key is a rowid."""
        found: list[Any] = []
        where = "+cid" if column == "key" else "cid"
        for part in _chunks(values):
            query = f"{sql} WHERE {where} = ? AND {column} IN ({_marks(part)})"
            found.extend(self.db().execute(query, (cid, *part)))
        return found

    def index(self, info: _Info) -> Index:
        cid = info.cid

        def count() -> int:
            row = self.db().execute("SELECT count(*) FROM records WHERE cid = ?", (cid,))
            return int(row.fetchone()[0])

        def vectors() -> tuple[list[int], Matrix]:
            rows = list(self.db().execute("SELECT key, vector FROM records WHERE cid = ?", (cid,)))
            blob = b"".join(vector for _, vector in rows)
            matrix = np.frombuffer(blob, dtype=np.float32).reshape(len(rows), info.dim)
            return [key for key, _ in rows], matrix

        return self.cache.get(cid, info.dim, info.metric, info.generation, count, vectors)

    # -- the operations ------------------------------------------------------------------------

    def create(self, name: str, dim: int, metric: Metric) -> None:
        conn = self.db()
        conn.execute(
            "INSERT OR IGNORE INTO collections (name, dim, metric, generation) VALUES (?, ?, ?, 0)",
            (name, dim, metric),
        )
        found = conn.execute("SELECT dim, metric FROM collections WHERE name = ?", (name,))
        found = found.fetchone()
        if found is not None:
            check_same(name, CollectionInfo(name, found[0], found[1], 0), dim, metric)

    def collections(self) -> list[CollectionInfo]:
        rows = self.db().execute(
            "SELECT name, dim, metric, (SELECT count(*) FROM records r WHERE r.cid = c.cid) "
            "FROM collections c ORDER BY name"
        )
        return [CollectionInfo(*row) for row in rows]

    def drop(self, name: str) -> bool:
        with schema.transaction(self.db()) as conn:
            row = conn.execute("SELECT cid FROM collections WHERE name = ?", (name,)).fetchone()
            if row is not None:
                conn.execute("DELETE FROM records WHERE cid = ?", row)
                conn.execute("DELETE FROM collections WHERE cid = ?", row)
        if row is None:
            return False
        self.cache.drop(row[0])
        return True

    def upsert(self, name: str, records: Sequence[Record]) -> int:
        info = self.info(name)
        batch = check_records(name, info.dim, records)
        if not batch:
            return 0
        matrix = np.asarray([r.vector for r in batch], dtype=np.float32).reshape(len(batch), -1)
        self.index(info)  # loaded now, so the change below can be applied to it
        replaced: list[int] = []
        keys: list[int] = []

        def change(conn: sqlite3.Connection, now: _Info) -> list[int]:
            ids = [r.id for r in batch]
            existing = dict(self.rows("SELECT id, key FROM records", now.cid, "id", ids))
            seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'records'")
            last = (seq.fetchone() or (0,))[0]
            for record in batch:
                key = existing.get(record.id)
                if key is None:
                    last += 1
                    key = last
                else:
                    replaced.append(key)
                keys.append(key)
            conn.executemany(
                "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        now.cid,
                        r.id,
                        r.text,
                        json.dumps(dict(r.metadata), ensure_ascii=False),
                        row.tobytes(),
                    )
                    for key, r, row in zip(keys, batch, matrix, strict=True)
                ],
            )
            return keys

        started = self.write(name, change)
        if started >= 0:
            self.cache.apply(info.cid, started, replaced, (keys, matrix))
        return len(batch)

    def search(self, name: str, vector: Sequence[float], k: int, filter: Filter | None) -> Any:
        info = self.info(name)
        check_dim(name, info.dim, vector)
        check_k(k)
        index = self.index(info)
        total = len(index)
        if total == 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        if info.metric == "cosine" and not query.any():
            return self._exact(info, query, k, filter)  # HNSW's cosine of a zero vector: NaN
        want = min(total, max(k * OVERFETCH, 100)) if filter else min(total, k)
        keys = [int(key) for key in index.search(query, want, threads=1).keys]
        rows = self.rows(_ROW, info.cid, "key", keys)
        if filter:
            rows = [row for row in rows if matches(_meta(row), filter)]
        if len(rows) < k and len(keys) < total:
            return self._exact(info, query, k, filter)
        return _best(rows, query, k, info.metric)

    def _exact(self, info: _Info, query: Any, k: int, filter: Filter | None) -> list[Hit]:
        if filter:
            listed = self.db().execute(
                "SELECT key, metadata FROM records WHERE cid = ?", (info.cid,)
            )
            keys = [key for key, meta in listed if matches(json.loads(meta), filter)]
            rows = self.rows(_ROW, info.cid, "key", keys)
        else:
            rows = list(self.db().execute(f"{_ROW} WHERE cid = ?", (info.cid,)))
        return _best(rows, query, k, info.metric)

    def get(self, name: str, ids: Sequence[str]) -> list[Record]:
        info = self.info(name)
        found = {row[1]: row for row in self.rows(_ROW, info.cid, "id", list(ids))}
        return [_record(found[i]) for i in ids if i in found]

    def delete(self, name: str, ids: Sequence[str] | None, filter: Filter | None) -> int:
        check_delete(ids, filter)
        info = self.info(name)
        self.index(info)
        doomed: list[int] = []

        def change(conn: sqlite3.Connection, now: _Info) -> list[int]:
            sql = "SELECT key, metadata FROM records"
            if ids is None:
                rows = list(conn.execute(f"{sql} WHERE cid = ?", (now.cid,)))
            else:
                rows = self.rows(sql, now.cid, "id", list(ids))
            doomed.extend(key for key, meta in rows if matches(json.loads(meta), filter))
            for part in _chunks(doomed):
                conn.execute(f"DELETE FROM records WHERE key IN ({_marks(part)})", tuple(part))
            return doomed

        started = self.write(name, change)
        if started >= 0:
            self.cache.apply(info.cid, started, doomed)
        return len(doomed)

    def count(self, name: str, filter: Filter | None) -> int:
        info = self.info(name)
        if not filter:
            row = self.db().execute("SELECT count(*) FROM records WHERE cid = ?", (info.cid,))
            return int(row.fetchone()[0])
        listed = self.db().execute("SELECT metadata FROM records WHERE cid = ?", (info.cid,))
        return sum(1 for (meta,) in listed if matches(json.loads(meta), filter))

    def close(self) -> None:
        try:
            self.cache.close()
        finally:
            if self.conn is not None:
                self.conn.close()
                self.conn = None


def _dumps(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, ensure_ascii=False)


def _meta(row: tuple[int, str, str, str, bytes]) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(row[3])
    return meta


def _best(rows: list[Any], query: Any, k: int, metric: Metric) -> list[Hit]:
    if not rows:
        return []
    matrix = np.frombuffer(b"".join(r[4] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    scores = exact_scores(matrix, query, metric)
    return [
        Hit(rows[i][1], float(scores[i]), rows[i][2], json.loads(rows[i][3]))
        for i in top_k(scores, k)
    ]


class DiskVectorStore:
    """The store under `path` (a directory, created on first use)."""

    def __init__(
        self,
        path: str | Path,
        *,
        connectivity: int = hnsw.CONNECTIVITY,
        expansion_add: int = hnsw.EXPANSION_ADD,
        expansion_search: int = hnsw.EXPANSION_SEARCH,
        save_every: int = hnsw.SAVE_EVERY,
        busy_timeout: float = 10.0,
    ) -> None:
        self.path = Path(path)
        cache = IndexCache(
            self.path,
            connectivity=connectivity,
            expansion_add=expansion_add,
            expansion_search=expansion_search,
            save_every=save_every,
        )
        self._engine = _Engine(self.path, busy_timeout, cache)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="llmspell-vectors")
        self._closed = False

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"vector store {self.path} is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._worker, partial(fn, *args))
        except sqlite3.Error as exc:
            raise LLMSpellError(ErrorCode.UNAVAILABLE, f"vector store {self.path}: {exc}") from exc

    async def open(self) -> None:
        """Create or check the file now, so a broken one is reported at start."""
        await self._run(self._engine.db)

    async def create(self, collection: str, dim: int, metric: Metric = "cosine") -> None:
        await self._run(self._engine.create, collection, dim, check_create(dim, metric))

    async def collections(self) -> list[CollectionInfo]:
        return await self._run(self._engine.collections)

    async def drop(self, collection: str) -> bool:
        return await self._run(self._engine.drop, collection)

    async def upsert(self, collection: str, records: Sequence[Record]) -> int:
        return await self._run(self._engine.upsert, collection, list(records))

    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        k: int = 10,
        filter: Filter | None = None,
    ) -> list[Hit]:
        hits: list[Hit] = await self._run(self._engine.search, collection, vector, k, filter)
        return hits

    async def get(self, collection: str, ids: Sequence[str]) -> list[Record]:
        return await self._run(self._engine.get, collection, list(ids))

    async def delete(
        self, collection: str, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> int:
        listed = None if ids is None else list(ids)
        return await self._run(self._engine.delete, collection, listed, filter)

    async def count(self, collection: str, filter: Filter | None = None) -> int:
        return await self._run(self._engine.count, collection, filter)

    async def aclose(self) -> None:
        """Saves the indexes that changed, then closes; later calls are refused."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._worker, self._engine.close)
        finally:
            self._worker.shutdown(wait=False)
