"""`/api/v1/components` and `POST /api/v1/{tools,agents,workflows}/{name}`: the catalog listed
and called over plain JSON. A call is the same `Invocation` every entry point makes, through
the runtime's pipeline (policy for the token's subject, limits, schema, hooks, deadline); the
reply is the result as scripts and `llmspell tool run --json` see it (`Result.to_plain`)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal, cast, get_args

from llmspell.adapters.llm.registry import create_provider
from llmspell.adapters.llm.spec import ModelSpec, overriding_model, parse_model
from llmspell.protocols.asgi import caller
from llmspell.runtime import (
    LOCAL,
    Component,
    ErrorCode,
    Invocation,
    LLMSpellError,
    Result,
    Runtime,
)
from llmspell.runtime.schema import CompiledSchema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import ApiError, json_body

Kind = Literal["tool", "agent", "workflow"]
KINDS: tuple[Kind, ...] = get_args(Kind)
MAX_TIMEOUT = 24 * 3600.0

MODEL_OBJECT: dict[str, Any] = {
    "type": "object",
    "description": "A model in full. Endpoints and keys stay the gateway's own: a caller "
    "cannot point the gateway's credentials at another server.",
    "properties": {
        "provider": {"type": "string", "examples": ["openai", "anthropic", "ollama", "offline"]},
        "model": {"type": "string"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "max_tokens": {"type": "integer", "minimum": 1},
        "timeout": {"type": "number", "exclusiveMinimum": 0},
        "max_retries": {"type": "integer", "minimum": 0, "maximum": 10},
    },
    "required": ["provider", "model"],
    "additionalProperties": False,
}
CALL_REQUEST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "input": {
            "type": "object",
            "description": "The component's arguments, checked against its input schema",
        },
        "model": {
            "description": "Run every LLM agent of this call (the agent itself, or each agent "
            "step of a workflow) on this model instead of its own",
            "oneOf": [
                {"type": "string", "pattern": "^[^/]+/.+$", "examples": ["offline/echo"]},
                MODEL_OBJECT,
            ],
        },
        "timeout": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": MAX_TIMEOUT,
            "description": "Seconds before the call is stopped (504)",
        },
    },
    "required": ["input"],
    "additionalProperties": False,
}
CALL_RESULT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "is_error": {"type": "boolean", "description": "The component reported a failure"},
        "text": {"type": "string", "description": "Every text part, joined"},
        "data": {"description": "The structured part's data, when there is one"},
        "parts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"type": {"type": "string"}},
                "required": ["type"],
            },
            "description": "Every part: text, data, image/audio/file (base64), resources",
        },
    },
    "required": ["is_error", "text", "data", "parts"],
}
COMPONENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "kind": {"enum": list(KINDS)},
        "description": {"type": "string"},
        "category": {"type": "string"},
        "input_schema": {"type": "object", "description": "JSON Schema of `input`"},
    },
    "required": ["name", "kind", "description", "input_schema"],
}
_REQUEST = CompiledSchema(
    {**CALL_REQUEST, "properties": {**CALL_REQUEST["properties"], "model": {}}}
)
"""The body's check; `model` is left to `model_of`, whose messages say more than `oneOf`'s."""


def describe(component: Component) -> dict[str, Any]:
    return {**component.summary(), "input_schema": component.input_schema}


async def model_of(value: Any) -> ModelSpec | None:
    """The body's `model`, checked down to the provider accepting it: a model that cannot run
    is the caller's 400 now, not a failure halfway through a workflow."""
    if value is None:
        return None
    extra = set(value) - set(MODEL_OBJECT["properties"]) if isinstance(value, dict) else ()
    if extra:
        raise ApiError(
            400,
            "bad_model",
            f"model: {', '.join(sorted(extra))} cannot be set over the API (the gateway's "
            f"endpoints and keys stay its own); allowed: {', '.join(MODEL_OBJECT['properties'])}",
            {"model": value},
        )
    try:
        spec = parse_model(value)
        provider = await asyncio.to_thread(create_provider, spec)  # imports an SDK
        await provider.aclose()
    except LLMSpellError as exc:
        raise ApiError(400, "bad_model", f"model: {exc.message}", {"model": value}) from None
    return spec


def routes(runtime: Runtime) -> list[Route]:
    pipeline, catalog = runtime.pipeline, runtime.catalog

    def visible(request: Request, kind: str | None) -> list[Component]:
        who = caller(request.scope) or LOCAL
        listed = catalog.list(None if kind is None else cast("Kind", kind))
        return [c for c in listed if pipeline.allows(who, c)]

    async def components(request: Request) -> Response:
        kind = request.query_params.get("kind")
        if kind is not None and kind not in KINDS:
            raise ApiError(400, "bad_request", f"kind must be one of {', '.join(KINDS)}")
        listed = sorted(visible(request, kind), key=lambda c: c.name)
        return JSONResponse([describe(c) for c in listed])

    def call(kind: Kind) -> Any:
        async def endpoint(request: Request) -> Response:
            name = request.path_params["name"]
            found = catalog.find(name)
            if found is None or found.kind != kind:
                close = catalog.suggest(name, among=[c.name for c in visible(request, kind)])
                hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
                also = f" ({name!r} is {_a(found.kind)})" if found is not None else ""
                raise ApiError(
                    404,
                    "unknown_component",
                    f"unknown {kind} {name!r}{also}{hint}",
                    {"name": name, "suggestions": close},
                )
            body = await json_body(request, _REQUEST)
            model = await model_of(body.get("model"))
            inv = Invocation.create(
                name,
                body["input"],
                caller=caller(request.scope) or LOCAL,
                timeout=body.get("timeout"),
            )
            try:
                with overriding_model(model):
                    result = await pipeline.invoke(inv)
            except LLMSpellError as exc:
                if not _refused_inside(exc, found, pipeline.allows(inv.caller, found)):
                    raise
                result = Result.error(exc.message)
            plain = result.to_plain()
            return JSONResponse({k: plain[k] for k in ("is_error", "text", "data", "parts")})

        return endpoint

    return [
        Route("/components", components, methods=["GET"]),
        *(Route(f"/{kind}s/{{name}}", call(kind), methods=["POST"]) for kind in KINDS),
    ]


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _refused_inside(exc: LLMSpellError, component: Component, allowed: bool) -> bool:
    """A built-in's own sandbox refusal (a path outside the roots) is the tool's answer, as
    over MCP: the caller was let in, the tool said no. The gate's refusal stays a 403."""
    return exc.code == ErrorCode.DENIED and component.source == "builtin" and allowed
