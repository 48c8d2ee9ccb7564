"""Files: tools over the files under the allowed roots, never outside them."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import archive, converter, document, operations, search, watcher


def components(env: ToolEnv) -> list[Component]:
    roots = env.roots
    return [
        operations.component(roots),
        archive.component(roots),
        watcher.component(roots),
        converter.component(roots),
        search.component(roots),
        document.component(roots),
    ]
