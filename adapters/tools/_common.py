"""What every built-in tool shares: how a tool is declared, answers, and refuses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

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
