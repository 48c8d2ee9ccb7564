"""One collection: ingest (files, directories, URLs, inline text) into chunks with vectors, and
search by vector, by BM25 or both fused (`hybrid.py`).

A chunk's id is derived from its source and its index in that source, and ingesting a source
first removes whatever that source left before, so re-ingesting replaces rather than piles up.
The vectors go to the vector store; the texts and metadata also go to the ledger
(`knowledge.py`), from which BM25 is rebuilt lazily when the ledger's generation moved.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.runtime.content import Result
from llmspell.runtime.embeddings import Embedder
from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.invocation import nested
from llmspell.runtime.knowledge import IngestReport, Passage, Progress, SearchMode
from llmspell.runtime.runtime import Runtime
from llmspell.runtime.vectors import Filter, Metadata, Record, VectorStore

from ..tools.sandbox.files import Roots
from . import hybrid
from .bm25 import BM25Index, Entry

if TYPE_CHECKING:
    from .knowledge import Ledger

TOOL = "rag"
DOCUMENTS = frozenset({".pdf", ".docx", ".html", ".htm", ".xhtml"})
"""Read through the `document-reader` tool; everything else is read as UTF-8 text."""
SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})
"""Besides hidden directories: caches and vendored trees nobody means to search."""
RESERVED = ("source", "location", "start", "end", "chunk")


@dataclass(frozen=True, slots=True)
class Chunking:
    """How sources are cut and embedded. `size`/`overlap` None: the chunker's defaults."""

    strategy: str = "auto"
    size: int | None = None
    overlap: int | None = None
    batch: int = 64
    """Chunks per embedder call and per upsert."""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A source read into text, or the reason it was not."""

    source: str
    text: str = ""
    chunk_as: str = ""
    """The file name the chunker sees (it picks the strategy from the extension)."""
    skipped: str = ""


def chunk_id(source: str, index: int) -> str:
    """Deterministic, so a re-ingested source overwrites its own chunks."""
    return f"{hashlib.sha1(source.encode()).hexdigest()[:16]}-{index}"


class RagCollection:
    def __init__(
        self,
        name: str,
        *,
        backend: str,
        dim: int,
        store: VectorStore,
        ledger: Ledger,
        embedder: Embedder,
        roots: Roots,
        runtime: Runtime | None,
        chunking: Chunking,
    ) -> None:
        self.name = name
        self.backend = backend
        self.dim = dim
        self.store = store
        self.ledger = ledger
        self.embedder = embedder
        self.roots = roots
        self.runtime = runtime
        self.chunking = chunking
        self._created = False
        self._writing = asyncio.Lock()
        self._bm25: tuple[int, BM25Index] | None = None

    # ingest

    async def ingest(
        self,
        *,
        path: str | None = None,
        url: str | None = None,
        text: str | None = None,
        metadata: Metadata | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        if sum(x is not None for x in (path, url, text)) != 1:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, "ingest takes exactly one of path, url or text"
            )
        extra = {k: v for k, v in (metadata or {}).items() if k not in RESERVED}
        if text is not None:
            label = str((metadata or {}).get("id") or hashlib.sha1(text.encode()).hexdigest()[:12])
            loads: list[Path | Loaded] = [Loaded(f"text:{label}", text, "text")]
        elif url is not None:
            loads = [await self._scrape(url)]
        else:
            assert path is not None
            loads = [*await asyncio.to_thread(self._files, path)]
        chunks, sources, skipped = 0, 0, []
        for done, item in enumerate(loads, start=1):
            loaded = await self._load(item) if isinstance(item, Path) else item
            if loaded.skipped:
                skipped.append(f"{loaded.source}: {loaded.skipped}")
            else:
                chunks += await self._ingest_one(loaded, extra)
                sources += 1
            if progress is not None:
                said = progress(done, len(loads), loaded.source)
                if inspect.isawaitable(said):
                    await said
        return IngestReport(sources, chunks, tuple(skipped))

    def _files(self, path: str) -> list[Path]:
        """The file, or every file under the directory (sorted, hidden and cache directories
        left out), each inside the roots even after resolving symlinks."""
        top = self.roots.resolve(TOOL, path)
        if top.is_file():
            return [top]
        if not top.is_dir():
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"{TOOL}: {path!r} does not exist")
        found: list[Path] = []
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
            for name in sorted(files):
                if name.startswith("."):
                    continue
                try:
                    found.append(self.roots.resolve(TOOL, os.path.join(folder, name)))
                except LLMSpellError:
                    continue  # a symlink out of the roots
        return found

    def _source(self, path: Path) -> str:
        """The path relative to the root holding it: short, and the same in every process
        started with the same roots."""
        for root in self.roots.paths:
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
        return str(path)

    async def _load(self, path: Path) -> Loaded:
        source = self._source(path)
        if path.suffix.lower() in DOCUMENTS:
            return await self._document(path, source)
        return await asyncio.to_thread(self._read_text, path, source)

    def _read_text(self, path: Path, source: str) -> Loaded:
        try:
            size = path.stat().st_size
            if size > self.roots.max_read:
                return Loaded(source, skipped=f"{size} bytes, over the {self.roots.max_read}")
            data = path.read_bytes()
        except OSError as exc:
            return Loaded(source, skipped=f"unreadable ({exc.strerror or exc})")
        if b"\x00" in data[:8192]:
            return Loaded(source, skipped="binary file")
        try:
            return Loaded(source, data.decode("utf-8-sig"), source)
        except UnicodeDecodeError:
            return Loaded(source, skipped="binary file (not UTF-8 text)")

    def _tool(self, name: str) -> Runtime | None:
        runtime = self.runtime
        return runtime if runtime is not None and name in runtime.catalog else None

    async def _call(self, runtime: Runtime, tool: str, args: dict[str, Any]) -> Result:
        result = await runtime.pipeline.invoke(nested(tool, args))
        if result.is_error:
            raise LLMSpellError(ErrorCode.COMPONENT_FAILED, f"{tool}: {result.text}")
        return result

    async def _document(self, path: Path, source: str) -> Loaded:
        runtime = self._tool("document-reader")
        if runtime is None:
            return Loaded(source, skipped="needs the document-reader tool, not in the catalog")
        try:
            result = await self._call(runtime, "document-reader", {"path": str(path)})
        except LLMSpellError as exc:
            return Loaded(source, skipped=exc.message)
        data = result.data if isinstance(result.data, dict) else {}
        shown = path.stem + (".md" if data.get("format") == "html" else ".txt")
        return Loaded(source, str(data.get("text", result.text)), shown)

    async def _scrape(self, url: str) -> Loaded:
        runtime = self._tool("web-scraper")
        if runtime is None:
            raise LLMSpellError(
                ErrorCode.NOT_CONFIGURED,
                f"{TOOL}: ingesting a URL needs the web-scraper tool, which is not in the "
                "catalog (serve the built-in tools with the 'web' extra)",
            )
        result = await self._call(runtime, "web-scraper", {"url": url, "links": False})
        data = result.data if isinstance(result.data, dict) else {}
        return Loaded(url, str(data.get("markdown", result.text)), "page.md")

    async def _ingest_one(self, loaded: Loaded, extra: Metadata) -> int:
        from .chunking import chunk_file

        settings: dict[str, Any] = {"strategy": self.chunking.strategy}
        if self.chunking.size is not None:
            settings["size"] = self.chunking.size
        if self.chunking.overlap is not None:
            settings["overlap"] = self.chunking.overlap
        pieces = await asyncio.to_thread(chunk_file, loaded.chunk_as, loaded.text, **settings)
        entries = []
        for i, piece in enumerate(p for p in pieces if p.text.strip()):
            own = {k: v for k, v in piece.metadata.items() if k != "path" and _scalar(v)}
            meta = {**own, **extra, "source": loaded.source, "location": piece.location}
            meta |= {"start": piece.start, "end": piece.end, "chunk": i}
            entries.append(Entry(chunk_id(loaded.source, i), piece.text, meta))
        records: list[Record] = []
        step = max(1, self.chunking.batch)
        for at in range(0, len(entries), step):
            batch = entries[at : at + step]
            vectors = await self.embedder.embed([e.text for e in batch])
            records += [
                Record(e.id, v, e.text, e.metadata) for e, v in zip(batch, vectors, strict=True)
            ]
        async with self._writing:
            if records:
                await self._ensure(len(records[0].vector))
            if self._created or self.dim:
                await self.store.delete(self.name, filter={"source": loaded.source})
            for at in range(0, len(records), step):
                await self.store.upsert(self.name, records[at : at + step])
            await self.ledger.replace_source(self.name, loaded.source, entries)
        return len(entries)

    async def _ensure(self, dim: int) -> None:
        """Creates the store's collection on the first vectors; afterwards every vector must
        have the same length (an embedder that changed models would corrupt the collection)."""
        if self.dim and dim != self.dim:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS,
                f"collection {self.name!r} holds {self.dim}-dimensional vectors; "
                f"{self.embedder.model} returned {dim}",
            )
        if not self._created:
            await self.store.create(self.name, dim, "cosine")
            if not self.dim:
                await self.ledger.set_dim(self.name, dim)
            self.dim, self._created = dim, True

    # search

    async def search(
        self,
        query: str,
        k: int = 5,
        filter: Filter | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[Passage]:
        if mode not in ("hybrid", "vector", "bm25"):
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, f"search mode {mode!r}: hybrid, vector or bm25"
            )
        if k <= 0 or not query.strip():
            return []
        if mode == "vector":
            return await self._vector(query, k, filter)
        if mode == "bm25":
            return await self._keywords(query, k, filter)
        deep = hybrid.depth(k)
        by_vector, by_words = await asyncio.gather(
            self._vector(query, deep, filter), self._keywords(query, deep, filter)
        )
        found = {p.id: p for p in [*by_words, *by_vector]}
        fused = hybrid.fuse([[p.id for p in by_vector], [p.id for p in by_words]], k)
        return [_rescored(found[i], score) for i, score in fused]

    async def _vector(self, query: str, k: int, filter: Filter | None) -> list[Passage]:
        if not self.dim:
            return []
        [vector] = await self.embedder.embed([query])
        hits = await self.store.search(self.name, vector, k, filter)
        return [_passage(h.id, h.text, h.score, h.metadata) for h in hits]

    async def _keywords(self, query: str, k: int, filter: Filter | None) -> list[Passage]:
        index = await self._index()
        ranked = await asyncio.to_thread(index.search, query, k, filter)
        return [_passage(e.id, e.text, score, e.metadata) for e, score in ranked]

    async def _index(self) -> BM25Index:
        """The BM25 index, rebuilt when the ledger's generation moved (a write here or in
        another process) since it was built."""
        generation = await self.ledger.generation(self.name)
        if self._bm25 is None or self._bm25[0] != generation:
            entries = await self.ledger.entries(self.name)
            self._bm25 = (generation, await asyncio.to_thread(BM25Index, entries))
        return self._bm25[1]

    # delete, count

    async def delete(self, ids: Sequence[str] | None = None, filter: Filter | None = None) -> int:
        if ids is None and not filter:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, "delete takes ids, a filter or both, not neither"
            )
        async with self._writing:
            gone = await self.ledger.delete(self.name, ids, filter)
            if not self.dim:
                return len(gone)
            removed = await self.store.delete(self.name, ids, filter)
            return max(removed, len(gone))

    async def count(self) -> int:
        return await self.store.count(self.name) if self.dim else 0


def _scalar(value: object) -> bool:
    return isinstance(value, str | int | float | bool)


def _passage(id: str, text: str, score: float, metadata: Metadata) -> Passage:
    meta = {k: v for k, v in metadata.items() if k not in ("source", "location")}
    return Passage(
        id, text, score, str(metadata.get("source", "")), str(metadata.get("location", "")), meta
    )


def _rescored(passage: Passage, score: float) -> Passage:
    return Passage(
        passage.id, passage.text, score, passage.source, passage.location, passage.metadata
    )


__all__ = ["Chunking", "RagCollection", "chunk_id"]
