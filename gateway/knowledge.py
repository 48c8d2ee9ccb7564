"""The runtime's knowledge as the assembly plugs it in: a stand-in that builds the real one
(`adapters/rag`, which imports numpy, BM25 and the embedders) on first use, so every entry
point has `Runtime.knowledge` and `llmspell run hello.lua` still starts small. Nothing is
written to disk until a collection is used either."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmspell.runtime import Runtime
    from llmspell.runtime.knowledge import Collection, Knowledge
    from llmspell.runtime.sandbox import FilePolicy

    from .config import GatewayConfig

DEFAULT_DIR = Path(".llmspell") / "vectors"


class LazyKnowledge:
    """A `Knowledge` whose implementation is made by `build` when first asked for."""

    def __init__(self, build: Callable[[], Knowledge]) -> None:
        self._build = build
        self._built: Knowledge | None = None

    @property
    def built(self) -> Knowledge | None:
        return self._built

    def get(self) -> Knowledge:
        if self._built is None:
            self._built = self._build()
        return self._built

    async def collection(
        self, name: str, *, backend: str | None = None, embedding: str | None = None
    ) -> Collection:
        return await self.get().collection(name, backend=backend, embedding=embedding)

    async def names(self) -> list[str]:
        return await self.get().names()

    async def aclose(self) -> None:
        """Closes what was built; a knowledge never used costs nothing to close."""
        built, self._built = self._built, None
        if built is not None:
            await built.aclose()


def rag_knowledge(
    runtime: Runtime, config: GatewayConfig | None, files: FilePolicy, cwd: Path
) -> Knowledge:
    """`[knowledge]` (its `path` relative to the config), or without a config the defaults
    under `cwd/.llmspell/vectors`; file ingest stays inside the tools' file policy."""
    from llmspell.adapters.rag.knowledge import RagKnowledge
    from llmspell.adapters.tools.sandbox.files import Roots

    roots = Roots.from_policy(files)
    if config is None:
        return RagKnowledge(cwd / DEFAULT_DIR, runtime=runtime, roots=roots)
    section = config.knowledge
    return RagKnowledge(
        config.base_dir / Path(section.path).expanduser(),
        runtime=runtime,
        roots=roots,
        default_backend=section.backend,
        default_embedding=section.embedding,
        store_options=section.store_options(),
    )


__all__ = ["DEFAULT_DIR", "LazyKnowledge", "rag_knowledge"]
