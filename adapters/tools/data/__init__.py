"""Data: querying, validating, analyzing and rendering structured documents."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import csv_analyzer, json_processor, template, validation


def components(env: ToolEnv) -> list[Component]:
    return [
        json_processor.json_component(),
        csv_analyzer.component(env.roots),
        validation.component(),
        template.component(),
    ]
