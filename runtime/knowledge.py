"""Knowledge: named collections of passages that scripts, agents, tools, the CLI and MCP clients
search. The port is here; chunking, embeddings, BM25, hybrid retrieval and the vector stores
behind it live in `adapters/rag` (the runtime holds whatever implementation the assembly gives
it as `Runtime.knowledge`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .vectors import Filter, Metadata

SearchMode = Literal["hybrid", "vector", "bm25"]
Progress = Callable[[int, int | None, str], Awaitable[None] | None]
"""(done, total or None, what): ingest reports each source it finished."""


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved chunk, with where it came from, so an answer can cite it."""

    id: str
    text: str
    score: float
    source: str
    """A path, URL or `text:<id>` for inline text."""
    location: str = ""
    """Where in the source: `lines 10-24`, `# Heading > Sub`, `def name`, `page 3`..."""
    metadata: Metadata = field(default_factory=dict)

    def citation(self) -> str:
        return f"{self.source} ({self.location})" if self.location else self.source

    def to_plain(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "score": self.score,
            "source": self.source,
            "location": self.location,
            "citation": self.citation(),
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True, slots=True)
class IngestReport:
    sources: int
    chunks: int
    skipped: Sequence[str] = ()
    """Sources left out, each with the reason (`path: binary file`...)."""


class Collection(Protocol):
    name: str

    async def ingest(
        self,
        *,
        path: str | None = None,
        url: str | None = None,
        text: str | None = None,
        metadata: Metadata | None = None,
        progress: Progress | None = None,
    ) -> IngestReport: ...

    async def search(
        self,
        query: str,
        k: int = 5,
        filter: Filter | None = None,
        mode: SearchMode = "hybrid",
    ) -> list[Passage]: ...

    async def delete(
        self, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> int: ...

    async def count(self) -> int: ...


class Knowledge(Protocol):
    """The collections of one runtime, by name."""

    async def collection(
        self, name: str, *, backend: str | None = None, embedding: str | None = None
    ) -> Collection:
        """The collection `name`, created with `backend` (memory, disk, chroma, weaviate) and
        `embedding` (`provider/model`) on first use; later calls may leave both out."""
        ...

    async def names(self) -> list[str]: ...

    async def aclose(self) -> None: ...


__all__ = ["Collection", "IngestReport", "Knowledge", "Passage", "Progress", "SearchMode"]
