"""Data: querying, validating and reshaping structured documents."""

from __future__ import annotations

from llmspell.runtime import Component
from llmspell.runtime.sandbox import Sandbox

from . import json_processor


def components(sandbox: Sandbox) -> list[Component]:
    return [json_processor.json_component()]
