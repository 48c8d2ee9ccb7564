"""Built-in tools: each a catalog component with a real JSON Schema, validated before it runs,
honest MCP annotations and a category (`adapters/tools/<category>/`).

Every `llmspell run` registers them all, so registering imports none of them: each tool is
listed from `catalog.json` (`registry`) and its category module is imported on its first call.
The modules themselves import heavy dependencies (simpleeval, jmespath, Pillow, PyAV...) inside
the handlers that need them, and a tool whose optional extra is missing still lists and says
which extra to install when called.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.sandbox import FilePolicy, Sandbox

from . import registry

if TYPE_CHECKING:
    from types import ModuleType

    from llmspell.runtime.catalog import Catalog
    from llmspell.runtime.component import Component
    from llmspell.runtime.knowledge import Knowledge
    from llmspell.runtime.pipeline import Pipeline
    from llmspell.runtime.state import StateStore

    from .env import ToolEnv

    CATEGORIES: dict[str, ModuleType]


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
    from .env import ToolEnv

    sandbox = sandbox or Sandbox()
    if roots:
        sandbox = replace(sandbox, files=replace(sandbox.files, roots=tuple(map(Path, roots))))
    return registry.tools(ToolEnv(sandbox, settings or {}, state, knowledge, pipeline))


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


def __getattr__(name: str) -> Any:
    """`CATEGORIES` (each category's module), `ToolEnv` and the category modules themselves
    are imported when asked for, not when the tools are registered."""
    if name == "CATEGORIES":
        return {category: import_module(module) for category, module in registry.CATEGORIES.items()}
    if name == "ToolEnv":
        from .env import ToolEnv

        return ToolEnv
    if name in registry.CATEGORIES:
        return import_module(registry.CATEGORIES[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CATEGORIES",
    "FilePolicy",
    "Sandbox",
    "ToolEnv",
    "builtin_tools",
    "register_builtins",
]
