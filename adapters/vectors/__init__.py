"""Vector store backends behind one factory, so configuration names a backend by a word.

"memory" (exact, in-process) and "disk" (SQLite + usearch HNSW under a directory, the embedded
default) ship here. "chroma" and "weaviate" are servers reached through their clients, which
are optional extras: their modules are imported only when named, so the factory (and the
embedded backends) work when those clients, or those modules, are absent.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any

from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.vectors import VectorStore

from .disk import DiskVectorStore
from .memory import MemoryVectorStore

DEFAULT_PATH = Path(".llmspell") / "vectors"
"""Where `disk` keeps its files when the caller passes no path (relative to the project)."""

SERVERS: dict[str, tuple[str, str]] = {
    # -- server backends: module under llmspell.adapters.vectors, class; imported lazily ----
    "chroma": ("chroma", "ChromaVectorStore"),
    "weaviate": ("weaviate", "WeaviateVectorStore"),
}
BACKENDS = ("memory", "disk", *SERVERS)


def open_store(backend: str, *, path: str | Path | None = None, **options: Any) -> VectorStore:
    """The store `backend` names. `path` is disk's directory; `options` go to the backend's
    constructor (a server's URL, HNSW tuning, ...)."""
    if backend == "memory":
        return MemoryVectorStore(**options)
    if backend == "disk":
        return DiskVectorStore(DEFAULT_PATH if path is None else path, **options)
    if backend in SERVERS:
        module_name, class_name = SERVERS[backend]
        try:
            module = import_module(f"{__name__}.{module_name}")
        except ImportError as exc:
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"vector backend {backend!r} is not available ({exc}); install llmspell[{backend}]",
            ) from exc
        store: VectorStore = getattr(module, class_name)(**options)
        return store
    raise LLMSpellError(
        ErrorCode.INVALID_ARGUMENTS,
        f"unknown vector backend {backend!r} ({', '.join(BACKENDS)})",
    )


__all__ = ["BACKENDS", "DEFAULT_PATH", "DiskVectorStore", "MemoryVectorStore", "open_store"]
