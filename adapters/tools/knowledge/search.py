"""`semantic-search`: the top passages of a collection for a query, each with its citation
(`source (location)`), by vectors, BM25 or both fused. Reads only; a collection that does not
exist yet is reported, not created."""

from __future__ import annotations

from typing import Any

from llmspell.runtime import Annotations, Component, Result

from .._common import answer, tool
from ..env import ToolEnv
from ._shared import SEARCH_PROPERTIES, existing, knowledge_source, render

NAME = "semantic-search"


def component(env: ToolEnv) -> Component:
    source = knowledge_source(env)

    async def handle(args: dict[str, Any]) -> Result:
        knowledge = source()
        name, query = args["collection"], args["query"]
        collection = await existing(knowledge, name)
        if collection is None:
            known = await knowledge.names()
            note = f"no collection named {name!r}; known: {', '.join(known) or 'none yet'}"
            data = {"collection": name, "query": query, "passages": [], "known": known}
            return answer(note, data)
        passages = await collection.search(
            query, int(args.get("k", 5)), args.get("filter") or None, args.get("mode", "hybrid")
        )
        text = render(passages) if passages else f"nothing in {name!r} matches {query!r}"
        plain = [p.to_plain() for p in passages]
        return answer(text, {"collection": name, "query": query, "passages": plain})

    return tool(
        NAME,
        "Search a knowledge collection (documents ingested with `llmspell rag ingest` or "
        "RAG.collection) and return the best passages, each with a citation to quote as "
        "[source (location)].",
        dict(SEARCH_PROPERTIES),
        handle,
        required=["collection", "query"],
        annotations=Annotations(
            read_only=True, idempotent=True, destructive=False, open_world=False
        ),
    )
