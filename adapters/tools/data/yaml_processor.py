"""`yaml-processor`: parse YAML (every document of a stream), validate it against a JSON Schema,
query it with JMESPath, and convert YAML <-> JSON.

Only plain YAML is loaded (`yaml.safe_load_all`): a tag that would build an object
(`!!python/object/apply:os.system`, any custom `!tag`) is refused with a clear error. Aliases
are resolved, but a document whose expansion passes MAX_NODES values (an alias bomb, or a
recursive alias) is refused before it can be serialised."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from llmspell.runtime import Component, Result
from llmspell.runtime.sandbox import MAX_READ

from .._common import PURE, answer, json_value, refuse, text_input, tool
from ..sandbox.files import Roots

NAME = "yaml-processor"
MAX_NODES = 1_000_000


def json_safe(value: Any) -> Any:
    """A value any JSON encoder takes: dates and times as ISO 8601, Decimal as a number when a
    float holds it exactly (else its text), bytes as base64, UUIDs as text, durations in seconds,
    NaN/infinity as text, mapping keys as strings, tuples and sets as lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        if value.is_finite():
            if value == value.to_integral_value() and abs(value) < 2**53:
                return int(value)
            as_float = float(value)
            if Decimal(repr(as_float)) == value:
                return as_float
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {_key(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    return str(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    safe = json_safe(key)
    return safe if isinstance(safe, str) else json.dumps(safe)


def _check_size(doc: Any, index: int) -> None:
    """Count the values the document expands to (aliases included), stopping at MAX_NODES."""
    count = 0
    stack = [doc]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise refuse(
                NAME,
                f"document {index + 1} expands to more than {MAX_NODES} values "
                f"(an alias bomb or a recursive alias?)",
            )
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def load_documents(text: str) -> list[Any]:
    """Every document of a YAML stream, safely, as JSON-safe values."""
    import yaml

    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.constructor.ConstructorError as exc:
        tag = exc.problem or ""
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        if "constructor for the tag" in tag:
            found = tag.split("tag", 1)[1].strip().strip("'")
            raise refuse(
                NAME,
                f"the tag {found!r}{where} is refused: only plain YAML is loaded "
                f"(tags that build objects are unsafe)",
            ) from None
        raise refuse(NAME, f"invalid YAML{where}: {exc.problem or exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise refuse(NAME, f"invalid YAML{where}: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise refuse(NAME, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise refuse(NAME, "the YAML is nested too deeply") from None
    for i, doc in enumerate(docs):
        _check_size(doc, i)
    return [json_safe(d) for d in docs]


def _pick(docs: list[Any], args: dict[str, Any]) -> tuple[list[Any], bool]:
    """The documents an operation works on: all, or the one `document` (0-based) names."""
    if "document" in args:
        i = args["document"]
        if i >= len(docs):
            raise refuse(NAME, f"there is no document {i} (the stream has {len(docs)})")
        return [docs[i]], True
    return docs, len(docs) == 1


def _dump(value: Any) -> str:
    import yaml

    return str(yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False))


async def process(args: dict[str, Any], roots: Roots) -> Result:
    op = args["operation"]
    if op == "from_json":
        out = _dump(json_value(args, NAME, "from_json"))
        return answer(out, {"yaml": out})
    text = await text_input(args, roots, NAME, "yaml")
    import asyncio

    all_docs = await asyncio.to_thread(load_documents, text)
    docs, single = _pick(all_docs, args)
    if op == "parse":
        data = {"documents": docs, "count": len(docs)}
        shown = docs[0] if single else docs
        return answer(json.dumps(shown, ensure_ascii=False, indent=2), data)
    if op == "to_json":
        shown = docs[0] if single else docs
        out = json.dumps(shown, ensure_ascii=False, indent=args.get("indent", 2))
        return answer(out, {"json": out})
    if op == "query":
        import jmespath
        import jmespath.exceptions

        try:
            compiled = jmespath.compile(args["query"])
            results = [compiled.search(d) for d in docs]
        except jmespath.exceptions.JMESPathError as exc:
            raise refuse(NAME, f"bad JMESPath query {args['query']!r}: {exc}") from None
        shown = results[0] if single else results
        return answer(json.dumps(shown, ensure_ascii=False), {"results": results})
    if op == "validate":
        from jsonschema import Draft202012Validator, SchemaError, validators

        schema = args["schema"]
        cls = validators.validator_for(schema, default=Draft202012Validator)
        try:
            cls.check_schema(schema)
        except SchemaError as exc:
            raise refuse(NAME, f"'schema' is not a valid JSON Schema: {exc.message}") from None
        validator = cls(schema)
        base = args.get("document", 0)
        errors = [
            {
                "document": base + i,
                "path": "/" + "/".join(str(p) for p in e.absolute_path),
                "keyword": str(e.validator),
                "message": e.message,
            }
            for i, doc in enumerate(docs)
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))
        ]
        text = (
            "valid"
            if not errors
            else "\n".join(f"document {e['document']} {e['path']}: {e['message']}" for e in errors)
        )
        return answer(text, {"valid": not errors, "count": len(errors), "errors": errors})
    raise refuse(NAME, f"unknown operation {op!r}")


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        return await process(args, roots)

    return tool(
        NAME,
        "Parses YAML safely (every document of a stream; object-building tags are refused), "
        "validates it against a JSON Schema (every violation), queries it with JMESPath and "
        "converts YAML to JSON (to_json) or JSON to YAML (from_json). The YAML comes inline "
        "('yaml') or from a file inside the roots ('path').",
        {
            "yaml": {"type": "string", "maxLength": MAX_READ, "description": "The YAML text"},
            "path": {"type": "string", "minLength": 1, "description": "A YAML file in the roots"},
            "document": {
                "type": "integer",
                "minimum": 0,
                "description": "Work on this document of the stream only (0-based)",
            },
            "query": {"type": "string", "minLength": 1, "description": "query: a JMESPath"},
            "schema": {"type": "object", "description": "validate: a JSON Schema"},
            "json": {"type": "string", "description": "from_json: JSON text"},
            "data": {"description": "from_json: a JSON value"},
            "indent": {"type": "integer", "minimum": 0, "maximum": 8, "default": 2},
        },
        handle,
        operations={
            "parse": [],
            "validate": ["schema"],
            "query": ["query"],
            "to_json": [],
            "from_json": [],
        },
        annotations=PURE,
    )
