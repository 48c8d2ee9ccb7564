"""Code: tools that read source trees under the allowed roots as code (symbols, references),
not as text."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import search


def components(env: ToolEnv) -> list[Component]:
    return [search.component(env)]
