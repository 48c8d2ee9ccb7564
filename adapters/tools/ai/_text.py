"""Text helpers the `ai` tools share: sentence splitting with offsets, and "one of" inputs."""

from __future__ import annotations

import re
from typing import Any

from llmspell.runtime import Component

_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc",
    "ltd", "co", "corp", "no", "fig", "approx", "dept", "gen", "col", "lt", "sgt", "capt",
}  # fmt: skip


def sentences(text: str) -> list[tuple[int, int, str]]:
    """(start, end, sentence) for each sentence: split after . ! ? before a capital or digit
    and at blank lines, but not after a common abbreviation or a single initial."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start()].rsplit(None, 1)
        word = before[-1].lower().rstrip(".") if before else ""
        if match.group(0).strip() and (word in _ABBREVIATIONS or len(word) == 1):
            continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for begin, end in spans:
        chunk = text[begin:end]
        stripped = chunk.strip()
        if stripped:
            lead = begin + (len(chunk) - len(chunk.lstrip()))
            out.append((lead, lead + len(stripped), stripped))
    return out


def one_of(component: Component, *fields: str) -> Component:
    """Require exactly one of `fields` in the component's schema (e.g. `text` or `texts`)."""
    schema: dict[str, Any] = component.input_schema
    schema["oneOf"] = [{"required": [f]} for f in fields]
    return component
