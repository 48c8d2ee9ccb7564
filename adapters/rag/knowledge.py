"""The `Knowledge` port's implementation: named collections, each a vector-store collection, an
embedder and a BM25 index over the same chunks.

What a collection is (backend, embedding spec, dimension) and the chunk texts BM25 is built from
live in a small SQLite ledger, `knowledge.db` in the base directory (`.llmspell/vectors/` next
to the config), beside the disk store's own files. Keeping the texts there, rather than asking
the vector store, is what lets any backend serve BM25: the port has no "list every record", and
an external server (Chroma, Weaviate) need not keep the text at all. A second process opening
the same base directory finds the collections, their texts and their vectors as they were.
Memory-backed collections keep their ledger in memory and are gone with the process.

Writes bump a per-collection generation in the ledger, so every process notices that its BM25
index is stale, even when another process wrote.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from llmspell.runtime.embeddings import Embedder
from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.knowledge import Collection
from llmspell.runtime.runtime import Runtime
from llmspell.runtime.state import StateStore
from llmspell.runtime.vectors import Filter, VectorStore, matches

from ..tools.sandbox.files import Roots
from .bm25 import Entry
from .collection import Chunking, RagCollection

T = TypeVar("T")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_EMBEDDING = "local/wordllama"
StoreFactory = Callable[..., VectorStore]
"""`(backend, path=..., **options) -> VectorStore`, as `adapters.vectors.open_store`."""
EmbedderFactory = Callable[..., Embedder]
"""`(spec, state=...) -> Embedder`, as `adapters.embeddings.embedder`."""

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY, backend TEXT NOT NULL, embedding TEXT NOT NULL,
    dim INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS chunks (
    collection TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL, text TEXT NOT NULL,
    metadata TEXT NOT NULL, PRIMARY KEY (collection, id));
CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks (collection, source);
"""


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    backend: str
    embedding: str
    dim: int


class Ledger:
    """The SQLite file (or in-memory database) of collection specs and chunk texts. One worker
    thread owns the connection, so the event loop never waits on SQLite."""

    def __init__(self, path: Path | None) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="llmspell-rag")
        self._path = path
        self._db: sqlite3.Connection | None = None

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            if self._path is not None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self._path or ":memory:", timeout=30)
            self._db.executescript(SCHEMA)
        with self._db:
            return fn(self._db)

    async def spec(self, name: str) -> Spec | None:
        row = await self._run(
            lambda db: db.execute(
                "SELECT name, backend, embedding, dim FROM collections WHERE name = ?", (name,)
            ).fetchone()
        )
        return None if row is None else Spec(*row)

    async def add(self, spec: Spec) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT OR IGNORE INTO collections (name, backend, embedding, dim) "
                "VALUES (?, ?, ?, ?)",
                (spec.name, spec.backend, spec.embedding, spec.dim),
            )
        )

    async def set_dim(self, name: str, dim: int) -> None:
        await self._run(
            lambda db: db.execute("UPDATE collections SET dim = ? WHERE name = ?", (dim, name))
        )

    async def names(self) -> list[str]:
        rows = await self._run(lambda db: db.execute("SELECT name FROM collections").fetchall())
        return [r[0] for r in rows]

    async def generation(self, name: str) -> int:
        row = await self._run(
            lambda db: db.execute(
                "SELECT generation FROM collections WHERE name = ?", (name,)
            ).fetchone()
        )
        return int(row[0]) if row else 0

    async def replace_source(self, name: str, source: str, entries: Sequence[Entry]) -> None:
        """The source's chunks become `entries`, in one transaction."""
        rows = [(name, e.id, source, e.text, json.dumps(dict(e.metadata))) for e in entries]

        def write(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM chunks WHERE collection = ? AND source = ?", (name, source))
            db.executemany("INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?)", rows)
            _bump(db, name)

        await self._run(write)

    async def entries(self, name: str) -> list[Entry]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT id, text, metadata FROM chunks WHERE collection = ? ORDER BY rowid",
                (name,),
            ).fetchall()
        )
        return [Entry(i, text, json.loads(meta)) for i, text, meta in rows]

    async def delete(
        self, name: str, ids: Sequence[str] | None, filter: Filter | None
    ) -> list[str]:
        """Removes the chunks named by `ids` that also pass `filter`; returns their ids."""

        def remove(db: sqlite3.Connection) -> list[str]:
            rows = db.execute(
                "SELECT id, metadata FROM chunks WHERE collection = ?", (name,)
            ).fetchall()
            wanted = None if ids is None else set(ids)
            gone = [
                i
                for i, meta in rows
                if (wanted is None or i in wanted) and matches(json.loads(meta), filter)
            ]
            db.executemany(
                "DELETE FROM chunks WHERE collection = ? AND id = ?", [(name, i) for i in gone]
            )
            if gone:
                _bump(db, name)
            return gone

        return await self._run(remove)

    async def aclose(self) -> None:
        def close(db: sqlite3.Connection) -> None:
            db.close()

        if self._db is not None:
            await asyncio.get_running_loop().run_in_executor(self._pool, close, self._db)
            self._db = None
        self._pool.shutdown(wait=False)


def _bump(db: sqlite3.Connection, name: str) -> None:
    db.execute("UPDATE collections SET generation = generation + 1 WHERE name = ?", (name,))


class RagKnowledge:
    """The runtime's collections. `base_dir` holds the disk store and the ledger (no base
    directory: memory only); `runtime` lends the `web-scraper` and `document-reader` tools and
    the state store the embedding cache uses; file ingest stays inside `roots`."""

    def __init__(
        self,
        base_dir: str | Path | None = None,
        *,
        runtime: Runtime | None = None,
        roots: Roots | None = None,
        state: StateStore | None = None,
        default_backend: str | None = None,
        default_embedding: str = DEFAULT_EMBEDDING,
        store_options: Mapping[str, Mapping[str, Any]] | None = None,
        open_store: StoreFactory | None = None,
        embedder: EmbedderFactory | None = None,
        chunking: Chunking | None = None,
    ) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.runtime = runtime
        self.roots = roots or Roots.of(None)
        self.state = state if state is not None else (runtime.state if runtime else None)
        self.default_backend = default_backend or ("disk" if self.base_dir else "memory")
        self.default_embedding = default_embedding
        self.store_options = {k: dict(v) for k, v in (store_options or {}).items()}
        self._open_store = open_store
        self._embedder = embedder
        self.chunking = chunking or Chunking()
        self._saved = Ledger(self.base_dir / "knowledge.db") if self.base_dir else None
        self._memory = Ledger(None)
        self._stores: dict[str, VectorStore] = {}
        self._embedders: dict[str, Embedder] = {}
        self._open: dict[str, RagCollection] = {}
        self._specs: dict[str, Spec] = {}
        self._lock = asyncio.Lock()

    def _ledger(self, backend: str) -> Ledger:
        if backend == "memory":
            return self._memory
        if self._saved is None:
            raise LLMSpellError(
                ErrorCode.NOT_CONFIGURED,
                f"the {backend!r} backend needs a base directory for its ledger; "
                "use backend 'memory' or give the knowledge a base directory",
            )
        return self._saved

    def _store(self, backend: str) -> VectorStore:
        if backend not in self._stores:
            factory = self._open_store or _default_store()
            options = dict(self.store_options.get(backend, {}))
            if backend == "disk" and self.base_dir is not None:
                options.setdefault("path", str(self.base_dir))
            self._stores[backend] = factory(backend, **options)
        return self._stores[backend]

    def _embedder_for(self, spec: str) -> Embedder:
        if spec not in self._embedders:
            factory = self._embedder or _default_embedder()
            self._embedders[spec] = factory(spec, state=self.state)
        return self._embedders[spec]

    async def collection(
        self, name: str, *, backend: str | None = None, embedding: str | None = None
    ) -> Collection:
        if not NAME.match(name):
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"collection name {name!r}: letters, digits, '_', '.' and '-', at most 64",
            )
        async with self._lock:
            if name in self._open:
                known = self._specs[name]
                _same(name, "backend", known.backend, backend)
                _same(name, "embedding", known.embedding, embedding)
                return self._open[name]
            spec = await self._memory.spec(name)
            if spec is None and self._saved is not None:
                spec = await self._saved.spec(name)
            if spec is None:
                asked = backend or self.default_backend
                spec = Spec(name, asked, embedding or self.default_embedding, 0)
                ledger = self._ledger(spec.backend)
                self._store(spec.backend)  # refuses an unknown backend before it is recorded
                self._embedder_for(spec.embedding)
                await ledger.add(spec)  # another process may have won the race: read it back
                spec = await ledger.spec(name) or spec
            _same(name, "backend", spec.backend, backend)
            _same(name, "embedding", spec.embedding, embedding)
            ledger = self._ledger(spec.backend)
            store, model = self._store(spec.backend), self._embedder_for(spec.embedding)
            self._specs[name] = spec
            self._open[name] = RagCollection(
                name,
                backend=spec.backend,
                dim=spec.dim,
                store=store,
                ledger=ledger,
                embedder=model,
                roots=self.roots,
                runtime=self.runtime,
                chunking=self.chunking,
            )
            return self._open[name]

    async def names(self) -> list[str]:
        found = set(await self._memory.names())
        if self._saved is not None:
            found.update(await self._saved.names())
        return sorted(found)

    async def aclose(self) -> None:
        for store in self._stores.values():
            await store.aclose()
        for model in self._embedders.values():
            close = getattr(model, "aclose", None)
            if close is not None:
                await close()
        self._stores.clear()
        self._embedders.clear()
        self._open.clear()
        self._specs.clear()
        await self._memory.aclose()
        if self._saved is not None:
            await self._saved.aclose()


def _default_store() -> StoreFactory:
    """Imported on first use, so the knowledge base costs nothing until a collection opens."""
    from ..vectors import open_store

    return open_store


def _default_embedder() -> EmbedderFactory:
    from ..embeddings import embedder

    return embedder


def _same(name: str, what: str, has: str, asked: str | None) -> None:
    if asked is not None and asked != has:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"collection {name!r} was created with {what} {has!r}, not {asked!r}",
            data={"collection": name, what: has},
        )


__all__ = ["DEFAULT_EMBEDDING", "Ledger", "RagKnowledge", "Spec"]
