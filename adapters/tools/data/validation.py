"""`data-validation`: checks data against a JSON Schema and/or simple field rules and lists every
violation with its JSON pointer, so a caller can fix them all in one pass, not one per call."""

from __future__ import annotations

import asyncio
import json
import operator
from collections.abc import Iterable
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool

NAME = "data-validation"
PATTERN_TIMEOUT = 1.0  # seconds one rule pattern may take on one value
JSON_TYPES = ["string", "integer", "number", "boolean", "array", "object", "null"]
_MISSING = object()


def pointer(parts: Iterable[Any]) -> str:
    """RFC 6901: '' is the whole document, '~' and '/' in a key are escaped."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _kin(a: Any, b: Any) -> bool:
    """Same JSON type, counting integers as numbers (so 1 equals 1.0 but not true)."""
    family = {"integer": "number"}
    ta, tb = _json_type(a), _json_type(b)
    return family.get(ta, ta) == family.get(tb, tb)


def schema_violations(schema: dict[str, Any], data: Any) -> list[dict[str, Any]]:
    from jsonschema import Draft202012Validator, SchemaError, validators

    cls = validators.validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise refuse(NAME, f"'schema' is not a valid JSON Schema: {exc.message}") from None
    errors = sorted(
        cls(schema).iter_errors(data),
        key=lambda e: [f"{p:012d}" if isinstance(p, int) else p for p in e.absolute_path],
    )
    return [
        {
            "path": pointer(e.absolute_path),
            "message": e.message,
            "source": "schema",
            "keyword": str(e.validator),
        }
        for e in errors
    ]


def _lookup(row: dict[str, Any], field: str) -> tuple[list[str], Any]:
    """A dotted field ('address.city') walks nested objects."""
    parts, value = field.split("."), row
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            return parts, _MISSING
        value = value[part]
    return parts, value


def _check(rule: dict[str, Any], value: Any) -> list[tuple[str, str]]:
    """(keyword, message) for each rule the present, non-null value breaks."""
    out: list[tuple[str, str]] = []
    kind = _json_type(value)
    wanted = rule.get("type")
    if wanted and not (kind == wanted or (wanted == "number" and kind == "integer")):
        out.append(("type", f"is {kind}, not {wanted}"))
    if "enum" in rule and not any(_kin(e, value) and e == value for e in rule["enum"]):
        out.append(("enum", f"{value!r} is not one of {rule['enum']!r}"))
    number = kind in ("integer", "number")
    for keyword, bad in (("min", operator.lt), ("max", operator.gt)):
        if keyword in rule:
            if not number:
                out.append((keyword, f"is {kind}; '{keyword}' needs a number"))
            elif bad(value, rule[keyword]):
                word = "less" if keyword == "min" else "greater"
                out.append((keyword, f"{value!r} is {word} than {rule[keyword]!r}"))
    sized = kind in ("string", "array", "object")
    for keyword, bad in (("min_length", operator.lt), ("max_length", operator.gt)):
        if keyword in rule:
            if not sized:
                out.append((keyword, f"is {kind}; '{keyword}' needs a string or array"))
            elif bad(len(value), rule[keyword]):
                out.append((keyword, f"length {len(value)} breaks {keyword} {rule[keyword]}"))
    if "pattern" in rule:
        out.extend(_pattern(rule["pattern"], value, kind))
    return out


def _pattern(pattern: str, value: Any, kind: str) -> list[tuple[str, str]]:
    import importlib

    regex: Any = importlib.import_module("regex")  # ships no type stubs
    if kind != "string":
        return [("pattern", f"is {kind}; 'pattern' needs a string")]
    try:
        found = regex.search(pattern, value, timeout=PATTERN_TIMEOUT)
    except regex.error as exc:
        raise refuse(NAME, f"bad pattern {pattern!r}: {exc}") from None
    except TimeoutError:
        raise refuse(NAME, f"pattern {pattern!r} took over {PATTERN_TIMEOUT}s on a value") from None
    return [] if found else [("pattern", f"{value!r} does not match {pattern!r}")]


def rule_violations(rules: list[dict[str, Any]], data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        rows: list[tuple[list[Any], Any]] = [([], data)]
    elif isinstance(data, list):
        rows = [([i], row) for i, row in enumerate(data)]
    else:
        raise refuse(NAME, "'rules' apply to an object or a list of objects")
    out: list[dict[str, Any]] = []
    for prefix, row in rows:
        if not isinstance(row, dict):
            out.append(
                {
                    "path": pointer(prefix),
                    "message": f"is {_json_type(row)}, not an object",
                    "source": "rule",
                    "keyword": "type",
                }
            )
            continue
        for rule in rules:
            parts, value = _lookup(row, rule["field"])
            path = pointer([*prefix, *parts])
            if value is _MISSING or value is None:
                if rule.get("required"):
                    out.append(
                        {
                            "path": path,
                            "message": f"'{rule['field']}' is required",
                            "source": "rule",
                            "keyword": "required",
                        }
                    )
                continue
            out.extend(
                {"path": path, "message": message, "source": "rule", "keyword": keyword}
                for keyword, message in _check(rule, value)
            )
    return out


async def validate(args: dict[str, Any]) -> Result:
    if "schema" not in args and "rules" not in args:
        raise refuse(NAME, "give 'schema' (a JSON Schema), 'rules', or both")
    if ("data" in args) == ("json" in args):
        raise refuse(NAME, "give either 'data' (a value) or 'json' (a string)")
    if "json" in args:
        try:
            data = json.loads(args["json"])
        except json.JSONDecodeError as exc:
            raise refuse(NAME, f"'json' is not valid JSON: {exc}") from None
    else:
        data = args["data"]

    def work() -> list[dict[str, Any]]:
        found = schema_violations(args["schema"], data) if "schema" in args else []
        return found + (rule_violations(args["rules"], data) if "rules" in args else [])

    violations = await asyncio.to_thread(work)
    text = (
        "valid"
        if not violations
        else f"{len(violations)} violation(s):\n"
        + "\n".join(f"{v['path'] or '(root)'}: {v['message']}" for v in violations)
    )
    return answer(
        text, {"valid": not violations, "count": len(violations), "violations": violations}
    )


RULE = {
    "type": "object",
    "properties": {
        "field": {"type": "string", "minLength": 1, "description": "Key; dots walk into objects"},
        "required": {"type": "boolean"},
        "type": {"type": "string", "enum": JSON_TYPES},
        "min": {"type": "number"},
        "max": {"type": "number"},
        "pattern": {"type": "string", "description": "A regular expression the value must contain"},
        "enum": {"type": "array"},
        "min_length": {"type": "integer", "minimum": 0},
        "max_length": {"type": "integer", "minimum": 0},
    },
    "required": ["field"],
    "additionalProperties": False,
}


def component() -> Component:
    return tool(
        NAME,
        "Validates data against a JSON Schema and/or simple rules ({field, required, type, min, "
        "max, pattern, enum, min_length, max_length}) applied to an object or to each row of a "
        "list. Lists every violation with its JSON pointer, not just the first.",
        {
            "data": {"description": "The data as a value"},
            "json": {"type": "string", "description": "The data as JSON text"},
            "schema": {"type": "object", "description": "A JSON Schema"},
            "rules": {"type": "array", "items": RULE, "minItems": 1, "maxItems": 200},
        },
        validate,
        annotations=PURE,
        output_schema={
            "type": "object",
            "properties": {
                "valid": {"type": "boolean"},
                "count": {"type": "integer"},
                "violations": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "path": {"type": "string"},
                            "message": {"type": "string"},
                            "source": {"type": "string", "enum": ["schema", "rule"]},
                            "keyword": {"type": "string"},
                        },
                        "required": ["path", "message", "source"],
                    },
                },
            },
            "required": ["valid", "count", "violations"],
        },
    )
