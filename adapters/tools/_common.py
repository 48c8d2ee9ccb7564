"""What every built-in tool shares: how a tool is declared, answers, and refuses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from llmspell.runtime import (
    Annotations,
    Component,
    DataPart,
    ErrorCode,
    Invocation,
    LLMSpellError,
    Result,
    TextPart,
)

if TYPE_CHECKING:
    from .sandbox.files import Roots

Handler = Callable[[dict[str, Any]], Awaitable[Result]]


def tool(
    name: str,
    description: str,
    properties: dict[str, Any],
    handler: Handler,
    *,
    required: list[str] | None = None,
    operations: dict[str, list[str]] | None = None,
    annotations: Annotations | None = None,
    output_schema: dict[str, Any] | None = None,
) -> Component:
    """Declare a tool. `operations` maps each `operation` value to the fields it requires, which
    becomes `if/then` clauses so the schema itself names a missing field."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    if operations:
        properties["operation"] = {
            "type": "string",
            "enum": list(operations),
            "description": "What to do: " + ", ".join(operations),
        }
        schema["required"] = sorted({*(required or []), "operation"})
        conditions = [
            {"if": {"properties": {"operation": {"const": op}}}, "then": {"required": fields}}
            for op, fields in operations.items()
            if fields
        ]
        if conditions:
            schema["allOf"] = conditions

    async def call(inv: Invocation) -> Result:
        return await handler(inv.arguments)

    return Component(
        name=name,
        handler=call,
        kind="tool",
        description=description,
        input_schema=schema,
        output_schema=output_schema,
        annotations=annotations or Annotations(read_only=True, idempotent=True),
    )


def answer(text: str, data: Any) -> Result:
    """Text for people and models, structured data for scripts."""
    return Result([TextPart(text), DataPart(data)])


def refuse(tool_name: str, message: str) -> LLMSpellError:
    return LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"{tool_name}: {message}")


def plain_number(value: Any) -> Any:
    """Integral floats print as integers (2 ** 10 + sqrt(16) is 1028, not 1028.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


PURE = Annotations(read_only=True, idempotent=True, destructive=False, open_world=False)


def need(module: str, extra: str, tool_name: str) -> Any:
    """Import an optional dependency, or say which extra brings it. The tool still lists without
    it; only a call needs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED,
            f"{tool_name}: needs the '{extra}' extra (pip install 'llmspell[{extra}]'); "
            f"{module} is not installed",
            data={"extra": extra, "module": module},
        ) from None


INPUT_PROPERTIES: dict[str, Any] = {
    "path": {"type": "string", "minLength": 1, "description": "A file inside the allowed roots"},
    "data": {"type": "string", "contentEncoding": "base64", "description": "The bytes, base64"},
}
"""The two ways a media or document tool takes its input: a path or the bytes themselves."""


async def input_bytes(args: dict[str, Any], roots: Roots, tool_name: str) -> bytes:
    """The input's bytes from `path` (inside the roots, under the read cap) or `data`."""
    import base64
    import binascii

    if "path" in args:
        return await roots.read_bytes(tool_name, args["path"])
    if "data" in args:
        try:
            data = base64.b64decode(args["data"], validate=True)
        except (binascii.Error, ValueError):
            raise refuse(tool_name, "'data' is not valid base64") from None
        if len(data) > roots.max_read:
            raise refuse(tool_name, f"'data' is over the {roots.max_read}-byte read limit")
        return data
    raise refuse(tool_name, "give 'path' (a file inside the allowed roots) or 'data' (base64)")


async def text_input(args: dict[str, Any], roots: Roots, tool_name: str, inline: str) -> str:
    """A text given inline (`args[inline]`) or as `path`, a UTF-8 file inside the roots:
    exactly one of the two."""
    if (inline in args) == ("path" in args):
        raise refuse(tool_name, f"give either '{inline}' or 'path' (a text file inside the roots)")
    if inline in args:
        return str(args[inline])
    raw = await roots.read_bytes(tool_name, args["path"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse(tool_name, f"{args['path']!r} is not UTF-8 text") from None


def json_value(args: dict[str, Any], tool_name: str, what: str) -> Any:
    """A JSON value given as text (`json`) or as a value (`data`): exactly one of the two."""
    import json

    if ("json" in args) == ("data" in args):
        raise refuse(tool_name, f"{what} takes either 'json' (text) or 'data' (a value)")
    if "data" in args:
        return args["data"]
    try:
        return json.loads(args["json"])
    except json.JSONDecodeError as exc:
        raise refuse(tool_name, f"'json' is not valid JSON: {exc}") from None
