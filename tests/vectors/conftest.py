"""The `store` fixture: every vector backend in `BACKENDS`, each test on a fresh, empty store.

Adding a backend to the shared suite is one entry: a name and an async factory taking the
test's tmp_path and returning an empty store (it may `pytest.skip` when its server is absent).
The fixture closes the store after the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from llmspell.adapters.vectors import DiskVectorStore, MemoryVectorStore
from llmspell.runtime.vectors import VectorStore

from .chroma_server import chroma_store

Factory = Callable[[Path], Awaitable[VectorStore]]


async def _memory(tmp_path: Path) -> VectorStore:
    return MemoryVectorStore()


async def _disk(tmp_path: Path) -> VectorStore:
    return DiskVectorStore(tmp_path / "vectors")


BACKENDS: dict[str, Factory] = {
    "memory": _memory,
    "disk": _disk,
    "chroma": chroma_store,  # a fresh database on one `chroma run` server per session
}


@pytest.fixture(params=list(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[VectorStore]:
    made = await BACKENDS[request.param](tmp_path)
    try:
        yield made
    finally:
        await made.aclose()
