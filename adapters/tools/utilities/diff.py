"""`diff-calculator`: a unified diff of two texts, or a structural diff of two JSON values as a
list of add/remove/replace operations at JSON pointers (so a script can act on each change)."""

from __future__ import annotations

import asyncio
import difflib
import json
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool

NAME = "diff-calculator"
MAX_CHANGES = 10_000  # JSON operations listed before the rest is only counted


def _pointer(path: list[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, but 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def json_diff(old: Any, new: Any, path: list[Any] | None = None) -> list[dict[str, Any]]:
    """Operations that turn `old` into `new`: objects by key, arrays by index (removals from the
    end first, so applying them in order keeps the indexes right), anything else replaced."""
    path = path or []
    if isinstance(old, dict) and isinstance(new, dict):
        ops: list[dict[str, Any]] = []
        for key in old:
            if key not in new:
                ops.append({"op": "remove", "path": _pointer([*path, key]), "old": old[key]})
        for key in new:
            if key not in old:
                ops.append({"op": "add", "path": _pointer([*path, key]), "new": new[key]})
            else:
                ops.extend(json_diff(old[key], new[key], [*path, key]))
        return ops
    if isinstance(old, list) and isinstance(new, list):
        ops = []
        for i in range(min(len(old), len(new))):
            ops.extend(json_diff(old[i], new[i], [*path, i]))
        for i in range(len(old) - 1, len(new) - 1, -1):
            ops.append({"op": "remove", "path": _pointer([*path, i]), "old": old[i]})
        for i in range(len(old), len(new)):
            ops.append({"op": "add", "path": _pointer([*path, i]), "new": new[i]})
        return ops
    if _same(old, new):
        return []
    return [{"op": "replace", "path": _pointer(path), "old": old, "new": new}]


def text_diff(old: str, new: str, context: int, labels: tuple[str, str]) -> dict[str, Any]:
    lines = list(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=labels[0],
            tofile=labels[1],
            n=context,
        )
    )
    body = [ln for ln in lines[2:] if not ln.startswith("@@")]  # past the two file headers
    added = sum(1 for ln in body if ln.startswith("+"))
    removed = sum(1 for ln in body if ln.startswith("-"))
    diff = "".join(
        ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n" for ln in lines
    )
    return {"diff": diff, "added": added, "removed": removed, "identical": not lines}


def _value(args: dict[str, Any], key: str) -> Any:
    """json: the value itself, or JSON text when `parse` is set."""
    value = args[key]
    if not args.get("parse"):
        return value
    if not isinstance(value, str):
        raise refuse(NAME, f"'parse' needs '{key}' to be JSON text")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise refuse(NAME, f"'{key}' is not valid JSON: {exc}") from None


async def handle(args: dict[str, Any]) -> Result:
    if args["operation"] == "text":
        old, new = args["old"], args["new"]
        if not isinstance(old, str) or not isinstance(new, str):
            raise refuse(NAME, "text: 'old' and 'new' must be strings")
        labels = (args.get("old_label", "old"), args.get("new_label", "new"))
        out = await asyncio.to_thread(text_diff, old, new, args.get("context", 3), labels)
        text = "identical" if out["identical"] else out["diff"]
        return answer(text, out)
    old, new = _value(args, "old"), _value(args, "new")
    try:
        ops = await asyncio.to_thread(json_diff, old, new)
    except RecursionError:
        raise refuse(NAME, "the JSON values are nested too deeply to compare") from None
    counts = {
        kind: sum(1 for op in ops if op["op"] == kind) for kind in ("add", "remove", "replace")
    }
    shown = ops[:MAX_CHANGES]
    text = (
        "identical"
        if not ops
        else "\n".join(f"{op['op']} {op['path'] or '(root)'}" for op in shown)
    )
    data = {"identical": not ops, "changes": shown, "truncated": len(ops) > len(shown), **counts}
    return answer(text, data)


def component() -> Component:
    return tool(
        NAME,
        "Compares two texts (operation 'text': a unified diff with added/removed line counts) or "
        "two JSON values (operation 'json': a list of {op: add|remove|replace, path (JSON "
        "pointer), old, new}).",
        {
            "old": {"description": "text: a string; json: any JSON value (or JSON text + parse)"},
            "new": {"description": "text: a string; json: any JSON value (or JSON text + parse)"},
            "context": {"type": "integer", "minimum": 0, "maximum": 1000, "default": 3},
            "old_label": {"type": "string", "description": "text: header of the old side"},
            "new_label": {"type": "string", "description": "text: header of the new side"},
            "parse": {"type": "boolean", "description": "json: 'old' and 'new' are JSON text"},
        },
        handle,
        required=["old", "new"],
        operations={"text": [], "json": []},
        annotations=PURE,
    )
