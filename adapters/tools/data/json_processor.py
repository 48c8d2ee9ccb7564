"""`json-processor`: JMESPath queries, JSON Schema validation, formatting."""

from __future__ import annotations

import json
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool


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
