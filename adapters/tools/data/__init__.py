"""Data: querying, validating, analyzing and rendering structured documents."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import (
    csv_analyzer,
    database,
    json_processor,
    statistics,
    template,
    text_analyzer,
    transformer,
    validation,
    xml_processor,
    yaml_processor,
)


def components(env: ToolEnv) -> list[Component]:
    return [
        json_processor.json_component(),
        csv_analyzer.component(env.roots),
        validation.component(),
        template.component(),
        database.component(env.settings_for(database.NAME), env.roots),
        xml_processor.component(env.roots),
        yaml_processor.component(env.roots),
        transformer.component(),
        statistics.component(),
        text_analyzer.component(env.roots),
    ]
