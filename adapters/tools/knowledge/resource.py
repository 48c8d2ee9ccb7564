"""`rag://{collection}/{query}`: a collection's top passages as a resource, so an MCP client
that reads resources (and not tools) can still retrieve: `rag://docs/how%20do%20hooks%20work`
is the JSON of the passages, each with its citation."""

from __future__ import annotations

import json
from urllib.parse import unquote

from llmspell.runtime.content import ResourcePart
from llmspell.runtime.resources import Resource

from ._shared import KnowledgeSource, existing, unknown

URI = "rag://{collection}/{query}"
K = 5


def knowledge_resource(source: KnowledgeSource) -> Resource:
    async def read(uri: str, params: dict[str, str]) -> list[ResourcePart]:
        knowledge = source()
        name, query = unquote(params["collection"]), unquote(params["query"])
        collection = await existing(knowledge, name)
        if collection is None:
            raise await unknown(knowledge, name)
        passages = await collection.search(query, K)
        body = {"collection": name, "query": query, "passages": [p.to_plain() for p in passages]}
        text = json.dumps(body, ensure_ascii=False, indent=1)
        return [ResourcePart(uri, "application/json", text=text)]

    async def names(partial: str, given: dict[str, str]) -> list[str]:
        return [n for n in await source().names() if n.startswith(partial)]

    return Resource(
        URI,
        "rag",
        read,
        description="The best passages of a knowledge collection for a query (URL-encoded), "
        f"as JSON: top {K}, each with text, score, source, location and citation.",
        mime_type="application/json",
        complete={"collection": names},
    )
