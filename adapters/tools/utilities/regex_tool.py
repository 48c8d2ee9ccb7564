"""`regex-tool`: match, find_all, replace and split with the `regex` package, whose `timeout=`
stops a pattern that backtracks catastrophically; stdlib `re` cannot be interrupted, and a
pattern from a model must not hang a worker thread forever."""

from __future__ import annotations

import asyncio
import importlib
import time
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool

NAME = "regex-tool"
DEFAULT_TIMEOUT = 1.0
MAX_TIMEOUT = 5.0
MAX_PARTS = 10_000  # split pieces returned


def _regex() -> Any:
    return importlib.import_module("regex")  # ships no type stubs: used as Any


def _match(m: Any) -> dict[str, Any]:
    return {
        "match": m.group(0),
        "start": m.start(),
        "end": m.end(),
        "groups": list(m.groups()),
        "named": m.groupdict(),
    }


def run(args: dict[str, Any]) -> Result:
    regex = _regex()
    op, pattern, text = args["operation"], args["pattern"], args["text"]
    timeout = args.get("timeout", DEFAULT_TIMEOUT)
    known = {"ignorecase": regex.IGNORECASE, "multiline": regex.MULTILINE, "dotall": regex.DOTALL}
    flags = 0
    for name in args.get("flags", []):
        flags |= known[name]
    try:
        compiled = regex.compile(pattern, flags)
    except regex.error as exc:
        raise refuse(NAME, f"bad pattern {pattern!r}: {exc}") from None
    try:
        if op == "match":
            found = compiled.search(text, timeout=timeout)
            if found is None:
                return answer("no match", {"matched": False})
            return answer(found.group(0), {"matched": True, **_match(found)})
        if op == "find_all":
            limit, deadline = args.get("max_matches", 100), time.monotonic() + timeout
            matches: list[dict[str, Any]] = []
            truncated = False
            for m in compiled.finditer(text, timeout=timeout):
                if len(matches) == limit:
                    truncated = True
                    break
                matches.append(_match(m))
                if time.monotonic() > deadline:
                    raise TimeoutError
            text_out = "\n".join(m["match"] for m in matches) if matches else "no match"
            return answer(
                text_out, {"count": len(matches), "matches": matches, "truncated": truncated}
            )
        if op == "replace":
            try:
                out, n = compiled.subn(
                    args["replacement"], text, count=args.get("count", 0), timeout=timeout
                )
            except (regex.error, IndexError) as exc:
                raise refuse(NAME, f"bad replacement {args['replacement']!r}: {exc}") from None
            return answer(out, {"result": out, "replacements": n})
        if op == "split":
            parts = compiled.split(text, maxsplit=args.get("max_splits", 0), timeout=timeout)
            shown = parts[:MAX_PARTS]
            return answer(
                "\n".join(p or "" for p in shown),
                {"parts": shown, "count": len(parts), "truncated": len(parts) > len(shown)},
            )
    except TimeoutError:
        raise refuse(
            NAME,
            f"pattern {pattern!r} ran over the {timeout:g}s time limit "
            "(catastrophic backtracking?); simplify it or shorten the text",
        ) from None
    raise refuse(NAME, f"unknown operation {op!r}")


async def handle(args: dict[str, Any]) -> Result:
    return await asyncio.to_thread(run, args)


def component() -> Component:
    return tool(
        NAME,
        "Regular expressions: match (the first match anywhere, with groups), find_all, replace "
        "(\\1 or \\g<name> in the replacement) and split, with flags ignorecase, multiline, "
        f"dotall. Each call has a time limit (default {DEFAULT_TIMEOUT:g}s) so a pathological "
        "pattern is stopped with an error.",
        {
            "pattern": {"type": "string", "minLength": 1, "maxLength": 10_000},
            "text": {"type": "string", "maxLength": 10_000_000},
            "replacement": {"type": "string", "description": "replace: what to put instead"},
            "flags": {
                "type": "array",
                "items": {"type": "string", "enum": ["ignorecase", "multiline", "dotall"]},
                "uniqueItems": True,
            },
            "max_matches": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 100},
            "count": {"type": "integer", "minimum": 0, "description": "replace: at most (0: all)"},
            "max_splits": {"type": "integer", "minimum": 0, "description": "split: 0 is no limit"},
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT,
                "default": DEFAULT_TIMEOUT,
                "description": "Seconds the pattern may run",
            },
        },
        handle,
        required=["pattern", "text"],
        operations={"match": [], "find_all": [], "replace": ["replacement"], "split": []},
        annotations=PURE,
    )
