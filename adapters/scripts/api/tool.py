"""`Tool`: list the catalog, call any component, and define tools written in the script.

A call made while a call is in progress (a tool's handler calling another tool) is that call's
child: the same caller for policy, a deadline no later, cancelled with it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Annotations, Component, Invocation, Result
from llmspell.runtime.invocation import nested
from llmspell.runtime.schema import CompiledSchema, InvalidSchema

from ..engine import HostFunction, HostObject, ScriptFunction
from .arguments import API_ERROR, ScriptAPIError, as_object, need
from .binding import async_, sync

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {
        "list": sync(partial(list_, host)),
        "execute": async_(partial(execute, host)),
        "define": sync(partial(define, host)),
    }


def list_(host: ScriptHost, kind: str | None = None) -> list[dict[str, Any]]:
    return [c.summary() for c in host.runtime.catalog.list() if kind is None or c.kind == kind]


async def execute(host: ScriptHost, name: Any, args: Any = None) -> dict[str, Any]:
    need(isinstance(name, str), "Tool.execute(name, args): name must be a string")
    arguments = as_object(args, "Tool.execute(name, args): args")
    result = await host.runtime.pipeline.invoke(nested(name, arguments))
    return result.to_plain()


def define(host: ScriptHost, spec: Any) -> str:
    need(isinstance(spec, dict), "Tool.define{...} takes a table/object")
    name, handler = spec.get("name"), spec.get("handler")
    need(isinstance(name, str) and name != "", "Tool.define: name must be a non-empty string")
    need(isinstance(handler, ScriptFunction), "Tool.define: handler must be a function")
    schema = spec.get("input_schema") or {"type": "object"}
    need(isinstance(schema, dict), "Tool.define: input_schema must be a table/object")
    try:
        CompiledSchema(schema)
    except InvalidSchema as exc:
        raise ScriptAPIError(API_ERROR, f"Tool.define {name!r}: {exc}") from None
    annotations = spec.get("annotations") or {}

    async def call(inv: Invocation) -> Result:
        with host.refs.holding(inv) as ref:
            ctx = HostObject("Call", ref, {"tool": name})
            return Result.from_plain(await handler.engine.call(handler, inv.arguments, ctx))

    host.register(
        Component(
            name=name,
            handler=call,
            kind="tool",
            description=str(spec.get("description") or ""),
            input_schema=schema,
            output_schema=spec.get("output_schema"),
            annotations=Annotations(
                title=annotations.get("title"),
                read_only=annotations.get("read_only"),
                destructive=annotations.get("destructive"),
                idempotent=annotations.get("idempotent"),
                open_world=annotations.get("open_world"),
            ),
            source=host.source,
        )
    )
    return str(name)
