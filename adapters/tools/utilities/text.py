"""`text-manipulator`: case, trimming, replacing, splitting and counting of strings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z]|\b|[^a-zA-Z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(text)]


def _camel(words: list[str]) -> str:
    return words[0] + "".join(w.capitalize() for w in words[1:]) if words else ""


async def manipulate(args: dict[str, Any]) -> Result:
    op, text = args["operation"], args["text"]
    simple: dict[str, Callable[[str], str]] = {
        "uppercase": str.upper,
        "lowercase": str.lower,
        "titlecase": str.title,
        "trim": str.strip,
        "reverse": lambda t: t[::-1],
        "snake_case": lambda t: "_".join(_words(t)),
        "kebab_case": lambda t: "-".join(_words(t)),
        "camel_case": lambda t: _camel(_words(t)),
    }
    if op in simple:
        out = simple[op](text)
        return answer(out, {"result": out})
    if op == "replace":
        pattern, replacement = args["pattern"], args.get("replacement", "")
        if args.get("regex"):
            try:
                out, n = re.subn(pattern, replacement, text)
            except re.error as exc:
                raise refuse(
                    "text-manipulator", f"bad regular expression {pattern!r}: {exc}"
                ) from None
        else:
            n = text.count(pattern) if pattern else 0
            out = text.replace(pattern, replacement) if pattern else text
        return answer(out, {"result": out, "replacements": n})
    if op == "split":
        sep = args.get("separator")
        parts = text.split(sep) if sep else text.split()
        return answer("\n".join(parts), {"result": parts, "count": len(parts)})
    if op == "count":
        counts = {
            "characters": len(text),
            "words": len(text.split()),
            "lines": len(text.splitlines()),
        }
        return answer(
            f"{counts['characters']} characters, {counts['words']} words, {counts['lines']} lines",
            counts,
        )
    if op == "truncate":
        length, suffix = args["length"], args.get("suffix", "...")
        out = text if len(text) <= length else text[: max(length - len(suffix), 0)] + suffix
        return answer(out, {"result": out, "truncated": out != text})
    raise refuse("text-manipulator", f"unknown operation {op!r}")


def text_component() -> Component:
    return tool(
        "text-manipulator",
        "Transforms text: uppercase, lowercase, titlecase, snake_case, camel_case, kebab_case, "
        "trim, replace (plain or regex), split, count, reverse, truncate.",
        {
            "text": {"type": "string"},
            "pattern": {"type": "string", "description": "replace: what to find"},
            "replacement": {"type": "string", "description": "replace: what to put instead"},
            "regex": {
                "type": "boolean",
                "description": "replace: treat pattern as a regular expression",
            },
            "separator": {
                "type": "string",
                "description": "split: separator (default: whitespace)",
            },
            "length": {"type": "integer", "minimum": 0, "description": "truncate: maximum length"},
            "suffix": {
                "type": "string",
                "description": "truncate: appended when cut (default ...)",
            },
        },
        manipulate,
        required=["text"],
        operations={
            "uppercase": [],
            "lowercase": [],
            "titlecase": [],
            "snake_case": [],
            "camel_case": [],
            "kebab_case": [],
            "trim": [],
            "replace": ["pattern"],
            "split": [],
            "count": [],
            "reverse": [],
            "truncate": ["length"],
        },
        annotations=PURE,
    )
