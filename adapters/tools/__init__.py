"""Built-in tools: each a catalog component with a real JSON Schema, validated before it runs.

Every `llmspell run` registers them all, so their modules import heavy dependencies (simpleeval,
jmespath, dateutil, zoneinfo, hashlib...) inside the handlers that need them: start-up stays small.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llmspell.runtime import Catalog, Component

from . import calculator, datetime_tool, encoding, files, text


def builtin_tools(*, roots: Sequence[Path] | None = None) -> list[Component]:
    """`roots` confines file access (default: the current working directory)."""
    allowed = files.Roots.of(roots)
    return [
        calculator.component(),
        encoding.uuid_component(),
        encoding.hash_component(allowed),
        encoding.base64_component(),
        datetime_tool.component(),
        text.text_component(),
        text.json_component(),
        files.component(allowed),
    ]


def register_builtins(catalog: Catalog, *, roots: Sequence[Path] | None = None) -> None:
    for component in builtin_tools(roots=roots):
        catalog.register(component)


__all__ = ["builtin_tools", "register_builtins"]
