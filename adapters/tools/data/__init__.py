"""Data: querying, validating, analyzing and rendering structured documents."""

from __future__ import annotations

from llmspell.runtime import Component
from llmspell.runtime.sandbox import Sandbox

from ..sandbox.files import Roots
from . import csv_analyzer, json_processor, template, validation


def components(sandbox: Sandbox) -> list[Component]:
    return [
        json_processor.json_component(),
        csv_analyzer.component(Roots.from_policy(sandbox.files)),
        validation.component(),
        template.component(),
    ]
