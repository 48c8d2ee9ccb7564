"""The knowledge the tools and the `rag://` template read: the one the runtime was given, else
(a tool built on its own, a benchmark) a private in-memory one made on first use."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmspell.runtime import ErrorCode, LLMSpellError

if TYPE_CHECKING:
    from llmspell.runtime.knowledge import Collection, Knowledge, Passage

    from ..env import ToolEnv

KnowledgeSource = Callable[[], "Knowledge"]

SEARCH_PROPERTIES: dict[str, Any] = {
    "collection": {
        "type": "string",
        "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        "description": "The collection to search (`llmspell rag list` shows them)",
    },
    "query": {"type": "string", "minLength": 1, "description": "What to look for"},
    "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
    "filter": {
        "type": "object",
        "description": "Metadata that must match: {key: value} or {key: [any of these]}",
        "additionalProperties": {
            "anyOf": [
                {"type": ["string", "number", "boolean"]},
                {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
            ]
        },
    },
    "mode": {
        "type": "string",
        "enum": ["hybrid", "vector", "bm25"],
        "default": "hybrid",
        "description": "hybrid: vectors and keywords fused; vector; bm25 (exact words)",
    },
}


def knowledge_source(env: ToolEnv) -> KnowledgeSource:
    """`env.knowledge`, else a memory-only knowledge under the sandbox's roots, made once."""
    made: list[Knowledge] = []

    def get() -> Knowledge:
        if env.knowledge is not None:
            return env.knowledge
        if not made:
            from llmspell.adapters.rag.knowledge import RagKnowledge

            made.append(RagKnowledge(None, roots=env.roots, state=env.state))
        return made[0]

    return get


async def existing(knowledge: Knowledge, name: str) -> Collection | None:
    """The collection if it exists: a read must not create an empty one as a side effect."""
    if name not in await knowledge.names():
        return None
    return await knowledge.collection(name)


async def unknown(knowledge: Knowledge, name: str) -> LLMSpellError:
    known = await knowledge.names()
    return LLMSpellError(
        ErrorCode.INVALID_ARGUMENTS,
        f"no collection named {name!r}; known: {', '.join(known) or 'none yet'}",
        data={"collection": name, "known": known},
    )


def render(passages: list[Passage]) -> str:
    """Passages as a model reads them: each headed by the citation to use."""
    return "\n\n".join(f"[{p.citation()}] (score {p.score:.3f})\n{p.text}" for p in passages)
