"""What a built-in tool is built with: the sandbox it runs in, its own `[tools.NAME]` settings
(credentials, providers), the state store (for tools that remember, like a page monitor) and
the runtime's knowledge (the RAG collections `semantic-search` reads)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmspell.runtime.sandbox import Sandbox

from .sandbox.files import Roots

if TYPE_CHECKING:
    from llmspell.runtime.knowledge import Knowledge
    from llmspell.runtime.pipeline import Pipeline
    from llmspell.runtime.state import StateStore


@dataclass(frozen=True, slots=True)
class ToolEnv:
    sandbox: Sandbox = field(default_factory=Sandbox)
    settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """`[tools.NAME]` tables by tool name; credentials come from here or the environment, never
    from a call's arguments."""
    state: StateStore | None = None
    """The runtime's store; None where a tool is built without one (it then keeps memory)."""
    knowledge: Knowledge | None = None
    """The runtime's collections; None: the knowledge tools keep a private in-memory one."""
    pipeline: Pipeline | None = None
    """The runtime's pipeline, for tools that ask a model (`text-summarizer` with `model`...):
    their model calls then pass the caller's policy and the `before_llm`/`after_llm` hooks."""

    @property
    def roots(self) -> Roots:
        return Roots.from_policy(self.sandbox.files)

    def settings_for(self, tool: str) -> Mapping[str, Any]:
        return self.settings.get(tool, {})

    def credential(self, tool: str, key: str, variable: str) -> str | None:
        """A secret from `[tools.TOOL] KEY` or else the environment variable: never from a
        call's arguments, so a model cannot supply or read one. Callers keep it out of
        results, logs and error messages."""
        value = self.settings_for(tool).get(key) or os.environ.get(variable)
        return str(value) if value else None
