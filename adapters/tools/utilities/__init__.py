"""Utilities: small, pure tools over numbers, text, dates, encodings, diffs and randomness."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import calculator, date_time, diff, encoding, random_gen, regex_tool, splitter, text


def components(env: ToolEnv) -> list[Component]:
    return [
        calculator.component(),
        encoding.uuid_component(),
        encoding.hash_component(env.roots),
        encoding.base64_component(),
        date_time.component(),
        text.text_component(),
        diff.component(),
        regex_tool.component(),
        splitter.component(),
        random_gen.component(),
    ]
