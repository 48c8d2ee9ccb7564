"""`template-engine`: renders Jinja2 templates in the sandboxed environment, so a template from a
model or a user can format data but cannot reach Python internals, and a template that tries is
refused with the reason instead of rendering an empty string."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool

NAME = "template-engine"
MAX_OUTPUT = 1_000_000  # characters rendered before the template is stopped
MAX_SECONDS = 5.0  # checked between output chunks
MAX_POWER = 1_000  # the largest exponent `**` accepts
MAX_REPEAT = 100_000  # the largest repeat count for `'x' * n` and `[..] * n`


def _environment(autoescape: bool, strict: bool) -> Any:
    from jinja2 import StrictUndefined, Undefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    class Sandbox(SandboxedEnvironment):
        """The stock sandbox, made loud (unsafe access raises at once) and bounded (no
        `9 ** 9 ** 9` or `'x' * 10 ** 9` to exhaust the CPU or the memory)."""

        intercepted_binops = frozenset({"**", "*"})

        def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
            raise SecurityError(
                f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
            )

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_POWER:
                raise SecurityError(f"exponent {right} is larger than {MAX_POWER}")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    sized = isinstance(seq, str | list | tuple) and isinstance(n, int)
                    if sized and len(seq) * n > MAX_REPEAT:
                        raise SecurityError(f"repeating makes over {MAX_REPEAT} items")
            return super().call_binop(context, operator, left, right)

    return Sandbox(
        autoescape=autoescape,
        undefined=StrictUndefined if strict else Undefined,
        keep_trailing_newline=True,
    )


def render(source: str, variables: dict[str, Any], autoescape: bool, strict: bool) -> str:
    from jinja2.exceptions import (
        SecurityError,
        TemplateError,
        TemplateSyntaxError,
        UndefinedError,
    )

    env = _environment(autoescape, strict)
    try:
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        raise refuse(NAME, f"syntax error on line {exc.lineno}: {exc.message}") from None
    chunks: list[str] = []
    size, deadline = 0, time.monotonic() + MAX_SECONDS
    try:
        for chunk in template.generate(variables):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise refuse(NAME, f"output is over {MAX_OUTPUT} characters")
            if time.monotonic() > deadline:
                raise refuse(NAME, f"rendering took over {MAX_SECONDS:g}s")
    except SecurityError as exc:
        raise refuse(NAME, f"refused by the sandbox: {exc}") from None
    except UndefinedError as exc:
        raise refuse(NAME, f"undefined: {exc.message}") from None
    except TemplateError as exc:
        raise refuse(NAME, f"cannot render: {exc.message or exc}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise refuse(NAME, f"cannot render: {type(exc).__name__}: {exc}") from None
    return "".join(chunks)


async def handle(args: dict[str, Any]) -> Result:
    out = await asyncio.to_thread(
        render,
        args["template"],
        args.get("variables") or {},
        args.get("autoescape", False),
        args.get("strict", False),
    )
    return answer(out, {"result": out})


def component() -> Component:
    return tool(
        NAME,
        "Renders a Jinja2 template string with variables in a sandbox (no access to Python "
        "internals; unsafe attribute access is refused). Options: autoescape (HTML-escape "
        "values) and strict (an undefined variable is an error instead of empty).",
        {
            "template": {"type": "string", "maxLength": 200_000, "description": "Jinja2 source"},
            "variables": {"type": "object", "description": "Names the template can use"},
            "autoescape": {"type": "boolean", "default": False},
            "strict": {"type": "boolean", "default": False},
        },
        handle,
        required=["template"],
        annotations=PURE,
        output_schema={
            "type": "object",
            "properties": {"result": {"type": "string"}},
            "required": ["result"],
        },
    )
