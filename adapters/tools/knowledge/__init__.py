"""Knowledge: `semantic-search` over the runtime's RAG collections and `embedding-generator`
(texts to vectors). `resource.py` serves the same search as the `rag://{collection}/{query}`
resource template. The RAG stack (numpy, BM25, the embedders) is imported on first call."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import embedding, search


def components(env: ToolEnv) -> list[Component]:
    return [search.component(env), embedding.component(env)]
