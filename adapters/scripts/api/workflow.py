"""`Workflow`: the runtime's five patterns built from a script's tables, registered in the
catalog like `Tool.define`, so the gateway serves them over MCP and A2A.

Script functions a workflow holds (arguments, predicates, inline steps, the source, the
output) are called with a `ctx` object: the run context's fields (`input`, `steps`, `state`,
`item`, `index`, `results`) plus `ctx:set(key, value)` and `ctx:break_loop()`. A stream's
source gets `emit`, which suspends the source while the buffer is full.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from llmspell.runtime.invocation import nested
from llmspell.runtime.schema import CompiledSchema, InvalidSchema

from ..engine import HostFunction, HostObject, ScriptFunction
from .arguments import API_ERROR, ScriptAPIError, as_list, as_object, need
from .binding import async_, sync

if TYPE_CHECKING:
    # The workflow model is imported by the functions that build one (a script that defines
    # no workflow does not load it).
    from llmspell.runtime.workflow import (
        Branch,
        Emit,
        Fn,
        Pattern,
        RunContext,
        Source,
        Step,
    )

    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    functions = {p: sync(partial(build, host, p)) for p in _PATTERNS}
    functions["list"] = sync(partial(list_, host))
    return functions


def bind_methods(host: ScriptHost) -> dict[str, HostFunction]:
    """The methods of `Workflow` objects."""
    return {"execute": async_(partial(execute, host))}


def bind_context(host: ScriptHost) -> dict[str, HostFunction]:
    """The methods of the `ctx` a workflow's functions get."""
    return {"set": sync(partial(set_state, host)), "break_loop": sync(partial(break_loop, host))}


def bind_emit(host: ScriptHost) -> dict[str, HostFunction]:
    """`emit(item)`: a callable object, so the source reads `emit(x)` in both languages."""
    return {"__call": async_(partial(emit, host))}


def list_(host: ScriptHost) -> list[dict[str, Any]]:
    return [c.summary() for c in host.runtime.catalog.list("workflow")]


def build(host: ScriptHost, pattern: str, spec: Any) -> HostObject:
    from llmspell.runtime.workflow import Workflow, component

    need(isinstance(spec, dict), f"Workflow.{pattern}{{...}} takes a table/object")
    name = spec.get("name")
    need(
        isinstance(name, str) and name != "", f"Workflow.{pattern}: name must be a non-empty string"
    )
    what = f"Workflow.{pattern} {name!r}"
    schema = spec.get("input_schema") or {"type": "object"}
    need(isinstance(schema, dict), f"{what}: input_schema must be a table/object")
    try:
        CompiledSchema(schema)
    except InvalidSchema as exc:
        raise ScriptAPIError(API_ERROR, f"{what}: {exc}") from None
    output = spec.get("output")
    workflow = Workflow(
        name,
        _body(host, pattern, spec, what),
        description=str(spec.get("description") or ""),
        input_schema=schema,
        output=None if output is None else _fn(host, output, f"{what}: output"),
        source=host.source,
    )
    host.register(component(workflow, host.runtime.pipeline))
    fields = {"name": name, "kind": "workflow", "pattern": pattern}
    return HostObject("Workflow", host.refs.hold(workflow), fields)


async def execute(host: ScriptHost, ref: Any, args: Any = None) -> dict[str, Any]:
    """`wf:execute(input)`: a call of the workflow's catalog component, a child of the call
    in progress (the whole gate applies, as for `Tool.execute`)."""
    from llmspell.runtime.workflow import Workflow

    workflow = host.refs.get(ref, Workflow)
    need(workflow is not None, "not a workflow: call execute on what Workflow.* returned")
    assert workflow is not None
    arguments = as_object(args, "wf:execute(input): input")
    result = await host.runtime.pipeline.invoke(nested(workflow.name, arguments))
    return result.to_plain()


def set_state(host: ScriptHost, ref: Any, key: Any, value: Any = None) -> None:
    ctx = _context(host, ref)
    need(isinstance(key, str) and key != "", "ctx:set(key, value): key must be a string")
    ctx.state[key] = value


def break_loop(host: ScriptHost, ref: Any) -> None:
    _context(host, ref).break_loop()


async def emit(host: ScriptHost, ref: Any, item: Any = None) -> None:
    emitter = host.refs.get(ref, _Emitter)
    need(emitter is not None, "emit is only valid while the stream's source runs")
    assert emitter is not None
    await emitter.emit(item)


# -- from tables to the runtime's model ---------------------------------------------------------


def _body(host: ScriptHost, pattern: str, spec: dict[str, Any], what: str) -> Pattern:
    return _PATTERNS[pattern](host, spec, what)


def _sequential(host: ScriptHost, spec: dict[str, Any], what: str) -> Pattern:
    from llmspell.runtime.workflow import Sequential

    return Sequential(_steps(host, spec.get("steps"), what))


def _conditional(host: ScriptHost, spec: dict[str, Any], what: str) -> Pattern:
    from llmspell.runtime.workflow import Conditional

    return Conditional(_branches(host, spec, what, conditional=True))


def _loop(host: ScriptHost, spec: dict[str, Any], what: str) -> Pattern:
    from llmspell.runtime.workflow import Loop

    over, while_ = spec.get("over"), spec.get("while_", spec.get("while"))
    need((over is None) != (while_ is None), f"{what}: give one of over or while_")
    return Loop(
        _steps(host, spec.get("steps"), what),
        over=None if over is None else _list_fn(host, over, f"{what}: over"),
        while_=None if while_ is None else _fn(host, while_, f"{what}: while_"),
        max_iterations=_count(spec, "max_iterations", 100, what),
    )


def _parallel(host: ScriptHost, spec: dict[str, Any], what: str) -> Pattern:
    from llmspell.runtime.workflow import Parallel

    branches = _branches(host, spec, what, conditional=False)
    _unique([b.name for b in branches], f"{what}: branch")
    join = spec.get("join", "all")
    need(join in ("all", "any"), f'{what}: join is "all" or "any"')
    limited = spec.get("max_concurrency") is not None
    return Parallel(
        branches,
        max_concurrency=_count(spec, "max_concurrency", 1, what) if limited else None,
        join=join,
        fail_fast=bool(spec.get("fail_fast")),
    )


def _stream(host: ScriptHost, spec: dict[str, Any], what: str) -> Pattern:
    from llmspell.runtime.workflow import Stream

    source = spec.get("source")
    if not isinstance(source, ScriptFunction):
        raise ScriptAPIError(API_ERROR, f"{what}: source must be a function(emit, ctx)")
    return Stream(
        _source(host, source),
        _steps(host, spec.get("steps"), what),
        buffer=_count(spec, "buffer", 16, what),
        workers=_count(spec, "max_concurrency", 1, what),
        stream_results=bool(spec.get("stream_results")),
    )


_PATTERNS: dict[str, Callable[[ScriptHost, dict[str, Any], str], Pattern]] = {
    "sequential": _sequential,
    "conditional": _conditional,
    "loop": _loop,
    "parallel": _parallel,
    "stream": _stream,
}


def _branches(
    host: ScriptHost, spec: dict[str, Any], what: str, *, conditional: bool
) -> tuple[Branch, ...]:
    branches = tuple(
        _branch(host, b, f"{what}: branches[{i}]", i, conditional=conditional)
        for i, b in enumerate(as_list(spec.get("branches"), f"{what}: branches"), 1)
    )
    need(bool(branches), f"{what}: give at least one branch")
    return branches


def _branch(host: ScriptHost, value: Any, what: str, index: int, *, conditional: bool) -> Branch:
    from llmspell.runtime.workflow import Branch

    need(isinstance(value, dict), f"{what}: a branch is a table/object")
    name = value.get("name") or f"branch{index}"
    need(isinstance(name, str), f"{what}: name must be a string")
    steps = _steps(host, value.get("steps"), what)
    if not conditional:
        return Branch(name, steps)
    otherwise, when = bool(value.get("otherwise")), value.get("when")
    need(otherwise != (when is not None), f"{what}: give when = function(ctx) or otherwise = true")
    return Branch(
        name,
        steps,
        when=None if when is None else _fn(host, when, f"{what}: when"),
        otherwise=otherwise,
    )


def _steps(host: ScriptHost, value: Any, what: str) -> tuple[Step, ...]:
    steps = tuple(
        _step(host, s, f"{what}: steps[{i}]")
        for i, s in enumerate(as_list(value, f"{what}: steps"), 1)
    )
    need(bool(steps), f"{what}: give at least one step")
    _unique([s.name for s in steps], f"{what}: step")
    return steps


def _step(host: ScriptHost, value: Any, what: str) -> Step:
    from llmspell.runtime.workflow import Retry, Step

    need(isinstance(value, dict), f"{what}: a step is a table/object or a workflow")
    if value.get("kind") == "workflow" and "pattern" in value:  # a workflow value as a step
        return Step(str(value["name"]), target=str(value["name"]), args=_same_input)
    name = value.get("name")
    need(isinstance(name, str) and name != "", f"{what}: name must be a non-empty string")
    what = f"{what} {name!r}"
    targets = {
        k: value[k] for k in ("tool", "agent", "workflow", "run") if value.get(k) is not None
    }
    need(len(targets) == 1, f"{what}: give one of tool, agent, workflow or run")
    ((kind, target),) = targets.items()
    if isinstance(target, dict) and target.get("kind") == "workflow":
        target = target.get("name")
    run = None
    if kind == "run":
        run = _fn(host, target, f"{what}: run")
        target = None
    else:
        need(isinstance(target, str) and target != "", f"{what}: {kind} must be a name")
    retry = as_object(value.get("retry"), f"{what}: retry")
    attempts, backoff = retry.get("max", 0), retry.get("backoff", 0)
    need(isinstance(attempts, int) and attempts >= 0, f"{what}: retry.max must be a count >= 0")
    need(isinstance(backoff, int | float) and backoff >= 0, f"{what}: retry.backoff must be >= 0")
    timeout = value.get("timeout")
    need(
        timeout is None or (isinstance(timeout, int | float) and timeout > 0),
        f"{what}: timeout must be > 0",
    )
    on_error = value.get("on_error", "fail")
    if isinstance(on_error, dict):
        on_error = _step(host, on_error, f"{what}: on_error")
    else:
        need(on_error in ("fail", "continue"), f'{what}: on_error is "fail", "continue" or a step')
    return Step(
        name,
        target=target,
        run=run,
        args=_args(host, value.get("args"), f"{what}: args"),
        retry=Retry(attempts, float(backoff)),
        timeout=None if timeout is None else float(timeout),
        on_error=on_error,
    )


def _args(host: ScriptHost, value: Any, what: str) -> Any:
    if isinstance(value, ScriptFunction):
        return _fn(host, value, what)
    need(
        value is None or isinstance(value, dict | list | str),
        f"{what}: a table, a string or a function(ctx)",
    )
    return value


async def _same_input(ctx: RunContext) -> dict[str, Any]:
    """A workflow used as a step as it is gets the input its parent got."""
    return ctx.input


def _fn(host: ScriptHost, value: Any, what: str) -> Fn:
    need(isinstance(value, ScriptFunction), f"{what} must be a function(ctx)")
    fn: ScriptFunction = value

    async def call(ctx: RunContext) -> Any:
        with host.refs.holding(ctx) as ref:
            return await fn.engine.call(fn, HostObject("RunContext", ref, ctx.to_plain()))

    return call


def _list_fn(host: ScriptHost, value: Any, what: str) -> Fn:
    """`over`: a list, or a function(ctx) giving one."""
    if isinstance(value, list | dict):
        items = as_list(value, what)

        async def fixed(ctx: RunContext) -> Any:
            return items

        return fixed
    return _fn(host, value, what)


class _Emitter:
    __slots__ = ("emit",)

    def __init__(self, emit: Emit) -> None:
        self.emit = emit


def _source(host: ScriptHost, fn: ScriptFunction) -> Source:
    async def call(emit: Emit, ctx: RunContext) -> Any:
        with host.refs.holding(_Emitter(emit)) as emitter, host.refs.holding(ctx) as ref:
            return await fn.engine.call(
                fn, HostObject("Emit", emitter, {}), HostObject("RunContext", ref, ctx.to_plain())
            )

    return call


def _context(host: ScriptHost, ref: Any) -> RunContext:
    from llmspell.runtime.workflow import RunContext

    ctx = host.refs.get(ref, RunContext)
    need(
        ctx is not None, "this workflow context has finished: use ctx only while the function runs"
    )
    assert ctx is not None
    return ctx


def _count(spec: dict[str, Any], key: str, default: int, what: str) -> int:
    value = spec.get(key, default)
    need(isinstance(value, int) and value >= 1, f"{what}: {key} must be a whole number >= 1")
    return int(value)


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        need(name not in seen, f"{what} name {name!r} is used twice")
        seen.add(name)
