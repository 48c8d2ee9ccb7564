"""Charts: `data-visualizer` draws bar, line, scatter, histogram and pie charts from JSON rows
(matplotlib, the 'charts' extra) as PNG or SVG."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import visualizer


def components(env: ToolEnv) -> list[Component]:
    return [visualizer.component(env.roots)]
