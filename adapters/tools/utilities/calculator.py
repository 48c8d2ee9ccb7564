"""`calculator`: arithmetic and functions through simpleeval's safe AST walker, never eval."""

from __future__ import annotations

import math
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, plain_number, refuse, tool

NAME = "calculator"
MAX_POWER = 10_000  # exponents beyond this are refused before they can eat the CPU

FUNCTIONS: dict[str, Any] = {
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "atan2": math.atan2,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "ln": math.log,
    "exp": math.exp,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "pow": pow,
    "factorial": math.factorial,
    "hypot": math.hypot,
    "degrees": math.degrees,
    "radians": math.radians,
}
CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}


def _safe_pow(base: Any, exp: Any, *mod: Any) -> Any:
    if isinstance(exp, int | float) and abs(exp) > MAX_POWER:
        raise refuse(NAME, f"exponent {exp} is larger than {MAX_POWER}")
    return pow(base, exp, *mod)


def _factorial(n: Any) -> Any:
    if not isinstance(n, int) or n < 0 or n > 1000:
        raise refuse(NAME, "factorial takes an integer from 0 to 1000")
    return math.factorial(n)


async def calculate(args: dict[str, Any]) -> Result:
    import simpleeval

    expression: str = args["expression"]
    variables = args.get("variables") or {}
    clash = set(variables) & set(FUNCTIONS)
    if clash:
        raise refuse(NAME, f"variable name(s) {', '.join(sorted(clash))} shadow functions")
    evaluator = simpleeval.SimpleEval(
        functions={**FUNCTIONS, "pow": _safe_pow, "factorial": _factorial},
        names={**CONSTANTS, **variables},
    )
    evaluator.operators = {**evaluator.operators}
    import ast
    import operator

    evaluator.operators[ast.Pow] = lambda a, b: _safe_pow(a, b)
    evaluator.operators[ast.Div] = operator.truediv
    try:
        result = evaluator.eval(expression)
    except ZeroDivisionError:
        raise refuse(NAME, f"division by zero in {expression!r}") from None
    except simpleeval.NameNotDefined as exc:
        raise refuse(NAME, f"unknown name {exc.name!r} in {expression!r}") from None
    except simpleeval.FunctionNotDefined as exc:
        raise refuse(NAME, f"unknown function {exc.func_name!r}") from None
    except (simpleeval.InvalidExpression, SyntaxError) as exc:
        raise refuse(NAME, f"cannot evaluate {expression!r}: {exc}") from None
    except (ValueError, OverflowError, TypeError) as exc:
        raise refuse(NAME, f"{expression!r}: {exc}") from None
    if isinstance(result, bool) or not isinstance(result, int | float):
        raise refuse(NAME, f"{expression!r} is not a number")
    value = plain_number(result)
    return answer(str(value), {"result": value, "expression": expression})


def component() -> Component:
    return tool(
        NAME,
        "Evaluates an arithmetic expression safely: + - * / // % **, parentheses, functions "
        "(sqrt, sin, cos, tan, log, ln, exp, abs, min, max, round, floor, ceil, pow, factorial...) "
        "and constants pi, e, tau. Integer results stay integers.",
        {
            "expression": {
                "type": "string",
                "minLength": 1,
                "maxLength": 10_000,
                "description": "e.g. '2 ** 10 + sqrt(16)'",
            },
            "variables": {
                "type": "object",
                "additionalProperties": {"type": "number"},
                "description": "Named numbers usable in the expression",
            },
        },
        calculate,
        required=["expression"],
        annotations=PURE,
        output_schema={
            "type": "object",
            "properties": {"result": {"type": "number"}, "expression": {"type": "string"}},
            "required": ["result"],
        },
    )
