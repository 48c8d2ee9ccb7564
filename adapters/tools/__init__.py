"""Built-in tools: each a catalog component with a real JSON Schema, validated before it runs,
honest MCP annotations and a category (`adapters/tools/<category>/`).

Every `llmspell run` registers them all, so their modules import heavy dependencies (simpleeval,
jmespath, Pillow, PyAV...) inside the handlers that need them: start-up stays small, and a tool
whose optional extra is missing still lists and says which extra to install when called.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from llmspell.runtime import Catalog, Component, ErrorCode, LLMSpellError
from llmspell.runtime.knowledge import Knowledge
from llmspell.runtime.pipeline import Pipeline
from llmspell.runtime.sandbox import FilePolicy, Sandbox
from llmspell.runtime.state import StateStore

from . import ai, charts, code, data, files, knowledge, media, messaging, system, utilities, web
from .env import ToolEnv

CATEGORIES = {
    "files": files,
    "data": data,
    "utilities": utilities,
    "system": system,
    "media": media,
    "web": web,
    "messaging": messaging,
    "charts": charts,
    "code": code,
    "ai": ai,
    "knowledge": knowledge,
}


def builtin_tools(
    sandbox: Sandbox | None = None,
    *,
    roots: Sequence[Path] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    state: StateStore | None = None,
    knowledge: Knowledge | None = None,
    pipeline: Pipeline | None = None,
) -> list[Component]:
    """`roots` is a shortcut for `Sandbox(files=FilePolicy(roots))` (default: the working
    directory); `settings` are the `[tools.NAME]` tables; `knowledge` the collections the
    knowledge tools search."""
    sandbox = sandbox or Sandbox()
    if roots:
        sandbox = replace(sandbox, files=replace(sandbox.files, roots=tuple(map(Path, roots))))
    env = ToolEnv(sandbox, settings or {}, state, knowledge, pipeline)
    return [
        replace(component, category=category)
        for category, module in CATEGORIES.items()
        for component in module.components(env)
    ]


def register_builtins(
    catalog: Catalog,
    sandbox: Sandbox | None = None,
    *,
    roots: Sequence[Path] | None = None,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    state: StateStore | None = None,
    knowledge: Knowledge | None = None,
    pipeline: Pipeline | None = None,
    names: Collection[str] | None = None,
) -> None:
    """`names`: only those tools (library mode's `tools=[...]`); None registers them all."""
    tools = builtin_tools(
        sandbox,
        roots=roots,
        settings=settings,
        state=state,
        knowledge=knowledge,
        pipeline=pipeline,
    )
    for component in tools if names is None else select(tools, names):
        catalog.register(component)


def select(tools: list[Component], names: Collection[str]) -> list[Component]:
    """The tools named; a name that is no built-in is an error naming the near ones."""
    known = {c.name: c for c in tools}
    for name in names:
        if name not in known:
            import difflib

            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise LLMSpellError(
                ErrorCode.UNKNOWN_COMPONENT,
                f"unknown built-in tool {name!r}{hint}",
                data={"name": name, "suggestions": close},
            )
    return [known[name] for name in dict.fromkeys(names)]


__all__ = [
    "CATEGORIES",
    "FilePolicy",
    "Sandbox",
    "ToolEnv",
    "builtin_tools",
    "register_builtins",
]
