"""System: tools over the machine (system)."""

from __future__ import annotations

from llmspell.runtime import Component
from llmspell.runtime.sandbox import Sandbox


def components(sandbox: Sandbox) -> list[Component]:
    return []
