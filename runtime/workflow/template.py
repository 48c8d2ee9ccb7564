"""`${...}` templates over a run context: how a declarative workflow (the gateway's
`llmspell.toml`) says what a step's arguments, a loop's list or the output are, without code.

References: `${input.x}`, `${steps.NAME.text}`, `${steps.NAME.data.a.b}`,
`${steps.NAME.is_error}`, `${state.k}`, `${item}`, `${item.x}`, `${index}`; a number
segment indexes a list (`${input.items.0}`). A string that is exactly one reference yields the
raw value (a number stays a number, a list a list); otherwise each reference is put into the
text (JSON when it is not a string). `$${` is a literal `${`. Templates apply inside tables
and lists. A template is parsed once (`compile`), so a run only looks values up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import ErrorCode, LLMSpellError
from .context import RunContext
from .model import Fn

ROOTS = ("input", "steps", "state", "item", "index")
STEP_FIELDS = ("text", "data", "is_error")
_TOKEN = re.compile(r"\$(\$?)\{([^{}]*)\}")
Render = Callable[[RunContext], Any]


@dataclass(frozen=True, slots=True)
class Ref:
    """One `${...}`: its root (`input`, `steps`...) and the path below it."""

    text: str
    root: str
    path: tuple[str, ...]

    @property
    def step(self) -> str | None:
        return self.path[0] if self.root == "steps" else None


def compile(value: Any) -> Fn:
    """A template value (a string, or tables and lists holding strings) as a function of the
    run context, for `Step.args`, `Loop.over` and `Workflow.output`. Raises INVALID_ARGUMENTS
    for a malformed reference; an unknown one raises when it is looked up."""
    render = _compile(value)

    async def fn(ctx: RunContext) -> Any:
        return render(ctx)

    return fn


def problems(
    value: Any, *, steps: Collection[str] = (), loop: bool = False, path: str = ""
) -> Iterator[tuple[str, str]]:
    """What is wrong with a template value before any run: `(key path, problem)` for each
    malformed reference, each unknown root, each `${steps.X}` not among `steps` (the steps
    run before it), and `${item}`/`${index}` outside a loop."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from problems(item, steps=steps, loop=loop, path=_join(path, str(key)))
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from problems(item, steps=steps, loop=loop, path=_join(path, str(i)))
        return
    if not isinstance(value, str):
        return
    try:
        pieces = _parse(value)
    except LLMSpellError as exc:
        yield path, exc.message
        return
    for ref in pieces:
        if not isinstance(ref, Ref):
            continue
        if ref.step is not None and ref.step not in steps:
            known = ", ".join(steps) or "none"
            yield path, f"${{{ref.text}}} names no step that runs before it (those: {known})"
        elif ref.root in ("item", "index") and not loop:
            yield path, f"${{{ref.text}}} is only defined in a loop's steps"


def single(value: Any) -> Ref | None:
    """The reference when `value` is exactly one `${...}` (what a loop's `over` must be)."""
    try:
        pieces = _parse(value) if isinstance(value, str) else []
    except LLMSpellError:
        return None
    return pieces[0] if len(pieces) == 1 and isinstance(pieces[0], Ref) else None


def _compile(value: Any) -> Render:
    if isinstance(value, dict):
        fields = {k: _compile(v) for k, v in value.items()}
        return lambda ctx: {k: render(ctx) for k, render in fields.items()}
    if isinstance(value, list):
        items = [_compile(v) for v in value]
        return lambda ctx: [render(ctx) for render in items]
    if not isinstance(value, str):
        return lambda ctx: value
    pieces = _parse(value)
    if len(pieces) == 1 and isinstance(pieces[0], Ref):
        ref = pieces[0]
        return lambda ctx: _resolve(ref, ctx)
    if not any(isinstance(p, Ref) for p in pieces):
        text = "".join(p for p in pieces if isinstance(p, str))
        return lambda ctx: text
    return lambda ctx: "".join(p if isinstance(p, str) else _text(_resolve(p, ctx)) for p in pieces)


def _parse(text: str) -> list[str | Ref]:
    pieces: list[str | Ref] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        literal = text[pos : match.start()]
        if "${" in literal:
            raise _error(f"unclosed '${{' in {text!r}")
        pieces.append(literal)
        if match.group(1):  # `$${...}`: the text `${...}`
            pieces.append(match.group(0)[1:])
        else:
            pieces.append(_ref(match.group(2).strip()))
        pos = match.end()
    if "${" in text[pos:]:
        raise _error(f"unclosed '${{' in {text!r}")
    pieces.append(text[pos:])
    return [p for p in pieces if p != ""]


def _ref(text: str) -> Ref:
    root, *path = text.split(".")
    if root not in ROOTS:
        raise _error(f"${{{text}}}: a reference starts with {', '.join(ROOTS)}")
    if any(not segment for segment in path):
        raise _error(f"${{{text}}}: an empty name between dots")
    if root == "steps" and not path:
        raise _error(f"${{{text}}}: name the step, e.g. ${{steps.NAME.text}}")
    if root == "steps" and len(path) > 1 and path[1] not in STEP_FIELDS:
        raise _error(f"${{{text}}}: a step has {', '.join(STEP_FIELDS)}, not {path[1]!r}")
    if root == "index" and path:
        raise _error(f"${{{text}}}: an index is a number, it has no fields")
    return Ref(text, root, tuple(path))


def _resolve(ref: Ref, ctx: RunContext) -> Any:
    """The value a reference names in this run; INVALID_ARGUMENTS naming it when there is none."""
    path, where = ref.path, ref.root
    value: Any
    if ref.root == "steps":
        result = ctx.steps.get(path[0])
        if result is None:
            raise _error(f"unknown reference ${{{ref.text}}}: step {path[0]!r} has not run")
        value = {"text": result.text, "data": result.data, "is_error": result.is_error}
        path, where = path[1:], f"steps.{path[0]}"
    elif ref.root in ("item", "index"):
        if ctx.index is None:
            raise _error(f"unknown reference ${{{ref.text}}}: not in a loop")
        value = ctx.item if ref.root == "item" else ctx.index
    else:
        value = ctx.input if ref.root == "input" else ctx.state
    for segment in path:
        if isinstance(value, dict) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            raise _error(f"unknown reference ${{{ref.text}}}: {where} has no {segment!r}")
        where = f"{where}.{segment}"
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _error(message: str) -> LLMSpellError:
    return LLMSpellError(ErrorCode.INVALID_ARGUMENTS, message)
