"""`text-manipulator` and `json-processor`: transformations of strings and JSON documents."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from llmspell.runtime import Component, Result

from ._common import PURE, answer, refuse, tool

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


def _document(args: dict[str, Any]) -> Any:
    if "json" in args:
        raw = args["json"]
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            raise refuse("json-processor", f"'json' is not valid JSON: {exc}") from None
    if "data" in args:
        return args["data"]
    raise refuse("json-processor", "'data' (a value) or 'json' (a string) is required")


async def process(args: dict[str, Any]) -> Result:
    op, doc = args["operation"], _document(args)
    if op == "query":
        import jmespath
        import jmespath.exceptions

        try:
            found = jmespath.search(args["query"], doc)
        except jmespath.exceptions.JMESPathError as exc:
            raise refuse("json-processor", f"bad JMESPath query {args['query']!r}: {exc}") from None
        return answer(json.dumps(found, ensure_ascii=False), {"result": found})
    if op == "validate":
        from jsonschema import Draft202012Validator, SchemaError, validators

        schema = args["schema"]
        cls = validators.validator_for(schema, default=Draft202012Validator)
        try:
            cls.check_schema(schema)
        except SchemaError as exc:
            raise refuse(
                "json-processor", f"'schema' is not a valid JSON Schema: {exc.message}"
            ) from None
        errors = [
            {"path": "/".join(str(p) for p in e.absolute_path), "message": e.message}
            for e in sorted(
                cls(schema).iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))
            )
        ]
        text = (
            "valid"
            if not errors
            else "; ".join(f"{e['path'] or '(root)'}: {e['message']}" for e in errors)
        )
        return answer(text, {"valid": not errors, "errors": errors})
    if op == "format":
        out = json.dumps(
            doc,
            indent=args.get("indent", 2),
            ensure_ascii=False,
            sort_keys=bool(args.get("sort_keys")),
        )
        return answer(out, {"result": out})
    if op == "minify":
        out = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
        return answer(out, {"result": out})
    raise refuse("json-processor", f"unknown operation {op!r}")


def json_component() -> Component:
    return tool(
        "json-processor",
        "Queries JSON with JMESPath, validates it against a JSON Schema, pretty-prints or minifies "
        "it. The document comes as a value ('data') or as text ('json').",
        {
            "data": {"description": "The JSON document as a value"},
            "json": {"type": "string", "description": "The JSON document as text"},
            "query": {"type": "string", "description": "query: a JMESPath expression"},
            "schema": {"type": "object", "description": "validate: a JSON Schema"},
            "indent": {"type": "integer", "minimum": 0, "maximum": 8},
            "sort_keys": {"type": "boolean"},
        },
        process,
        operations={"query": ["query"], "validate": ["schema"], "format": [], "minify": []},
        annotations=PURE,
    )
