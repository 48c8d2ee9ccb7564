"""A Python function as a catalog tool (`Runtime.define_tool`): its input JSON Schema from the
signature's type hints, its description from the docstring, its return value as content.

The function then is a component like any other: scripts call it with `Tool.execute`, agents
may offer it to a model, and a served gateway lists it over MCP and A2A. Arguments are checked
twice on purpose: the pipeline validates the JSON Schema (the same gate for every entry point),
then pydantic turns the JSON into the annotated Python types (a model, a date, an enum). A sync
function runs in a worker thread, so a slow one never holds the event loop.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, get_type_hints

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
from llmspell.runtime.content import PART_TYPES

if TYPE_CHECKING:
    from pydantic import BaseModel

ToolFunction = Callable[..., Any]


def function_tool(
    fn: ToolFunction,
    *,
    name: str | None = None,
    description: str | None = None,
    annotations: Annotations | None = None,
) -> Component:
    """The component for `fn`. A parameter annotated `Invocation` receives the call itself (its
    caller, deadline, progress sink) and is left out of the schema."""
    tool_name = name or getattr(fn, "__name__", "")
    if not tool_name or tool_name == "<lambda>":
        raise ValueError("define_tool: a lambda needs a name (define_tool(fn, name=...))")
    model, passed, context = _arguments(fn, tool_name)
    is_async = inspect.iscoroutinefunction(inspect.unwrap(fn))

    async def handler(inv: Invocation) -> Result:
        from pydantic import ValidationError

        try:
            parsed = model.model_validate(inv.arguments)
        except ValidationError as exc:
            raise LLMSpellError(
                ErrorCode.INVALID_ARGUMENTS, f"{tool_name}: {_problems(exc)}"
            ) from None
        args, kwargs = _call_arguments(parsed, passed)
        if context is not None:
            kwargs[context] = inv
        if is_async:
            value = await fn(*args, **kwargs)
        else:
            value = await asyncio.to_thread(fn, *args, **kwargs)
        return to_result(value)

    return Component(
        name=tool_name,
        handler=handler,
        kind="tool",
        description=description if description is not None else _summary(fn),
        input_schema=_schema(model),
        annotations=annotations or Annotations(),
        source=f"python:{getattr(fn, '__module__', None) or '?'}",
    )


Passed = list[tuple[str, str, bool]]
"""Each schema parameter: the model's field name, the parameter's name, positional-only."""


def _arguments(fn: ToolFunction, tool_name: str) -> tuple[type[BaseModel], Passed, str | None]:
    """A pydantic model of the parameters. Fields are named `p0, p1...` and aliased to the
    parameters, so a parameter may be called `json` or `model_x` without clashing with
    BaseModel's own attributes."""
    from pydantic import ConfigDict, Field, create_model

    signature = inspect.signature(fn)
    hints = get_type_hints(fn, include_extras=True)
    fields: dict[str, Any] = {}
    passed: Passed = []
    context = None
    for i, (pname, param) in enumerate(signature.parameters.items()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(
                f"define_tool {tool_name!r}: *{pname} has no JSON Schema; name each parameter"
            )
        hint = hints.get(pname, Any)
        if hint is Invocation:
            context = pname
            continue
        default = ... if param.default is param.empty else param.default
        fields[f"p{i}"] = (hint, Field(default, alias=pname))
        passed.append((f"p{i}", pname, param.kind == param.POSITIONAL_ONLY))
    model = create_model(
        f"{tool_name}_arguments",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
        **fields,
    )
    return model, passed, context


def _call_arguments(parsed: BaseModel, passed: Passed) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for field, pname, positional in passed:
        value = getattr(parsed, field)
        if positional:
            args.append(value)
        else:
            kwargs[pname] = value
    return args, kwargs


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema by alias, without pydantic's generated titles (a title that only
    repeats the name tells a model nothing and costs tokens on every listing)."""
    schema = model.model_json_schema(by_alias=True)
    schema.pop("title", None)
    for pname, prop in schema.get("properties", {}).items():
        if prop.get("title") == pname.replace("_", " ").title():
            del prop["title"]
    return schema


def _summary(fn: ToolFunction) -> str:
    """The docstring's first paragraph, on one line."""
    doc = inspect.getdoc(fn) or ""
    return " ".join(doc.strip().split("\n\n", 1)[0].split())


def _problems(exc: Any) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
    )


def to_result(value: Any) -> Result:
    """What the function returned, as content: a string is text; a dict, list, dataclass or
    pydantic model is structured data; a number or bool is both (text for people, data for
    scripts); a `Result` or a content part is kept; None is an empty result."""
    if isinstance(value, Result):
        return value
    if value is None:
        return Result([])
    if isinstance(value, str):
        return Result([TextPart(value)])
    if isinstance(value, (bytes, *PART_TYPES)):
        return Result.of(value)
    from pydantic_core import to_jsonable_python

    data = to_jsonable_python(value)
    if isinstance(data, dict | list):
        return Result([DataPart(data)])
    return Result([TextPart(json.dumps(data)), DataPart(data)])
