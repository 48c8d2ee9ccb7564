"""Files: tools over the files under the allowed roots, never outside them."""

from __future__ import annotations

from llmspell.runtime import Component
from llmspell.runtime.sandbox import Sandbox

from ..sandbox.files import Roots
from . import archive, converter, document, operations, search, watcher


def components(sandbox: Sandbox) -> list[Component]:
    roots = Roots.from_policy(sandbox.files)
    return [
        operations.component(roots),
        archive.component(roots),
        watcher.component(roots),
        converter.component(roots),
        search.component(roots),
        document.component(roots),
    ]
