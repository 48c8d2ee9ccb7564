"""Knowledge: `semantic-search` over the runtime's RAG collections and `embedding-generator`
(texts to vectors). `resource.py` serves the same search as the `rag://{collection}/{query}`
resource template. The RAG stack (numpy, BM25, the embedders) is imported on first call."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmspell.runtime import Component

    from ..env import ToolEnv


def components(env: ToolEnv) -> list[Component]:
    # Imported here: every run registers the `rag://` resource (resource.py, in this package)
    # and must not load the tools with it.
    from . import embedding, search

    return [search.component(env), embedding.component(env)]
