"""`data-transformer`: a chain of steps over JSON rows (a list of objects).

Steps, applied in order (`steps: [{op: ...}, ...]`):
- map: `compute` {field: expression} (evaluated on the incoming row), then `select` [fields]
  (keep these, in this order), then `rename` {old: new};
- filter: `where` {field, op, value} (== != < <= > >= in not_in contains exists) or an
  `expression` that is true for the rows to keep;
- group: `by` [fields] with `aggregates` [{fn: count|sum|avg|min|max, field, as}];
- sort: `keys` [{field, order: asc|desc}] (a plain string is ascending); missing values last;
- join: `rows` (the right side), `on` (a field both sides share, or {left, right}), `how`
  inner|left; a right-side field whose name the left row already has gets the suffix '_right';
- limit: `n` rows.

Expressions go through simpleeval (no eval): the row's fields are names (`price * qty`), the row
itself is `row` (`row['unit price']`), with a few functions (len, str, int, float, round, abs,
min, max, lower, upper)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, plain_number, refuse, tool

NAME = "data-transformer"
MAX_ROWS = 100_000
COMPARISONS = ["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains", "exists"]
AGGREGATES = ["count", "sum", "avg", "min", "max"]
FUNCTIONS: dict[str, Any] = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "round": round,
    "abs": abs,
    "min": min,
    "max": max,
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
}

Rows = list[dict[str, Any]]


def _evaluator(expression: str, step: int) -> Callable[[dict[str, Any], int], Any]:
    import simpleeval

    try:
        parsed = simpleeval.SimpleEval(functions=FUNCTIONS).parse(expression)
    except SyntaxError as exc:
        raise refuse(NAME, f"step {step}: cannot parse {expression!r}: {exc.msg}") from None

    def evaluate(row: dict[str, Any], index: int) -> Any:
        evaluator = simpleeval.SimpleEval(functions=FUNCTIONS, names={**row, "row": row})
        where = f"step {step}, row {index}"
        try:
            return evaluator.eval(expression, previously_parsed=parsed)
        except simpleeval.NameNotDefined as exc:
            raise refuse(NAME, f"{where}: unknown field {exc.name!r} in {expression!r}") from None
        except simpleeval.FunctionNotDefined as exc:
            raise refuse(NAME, f"{where}: unknown function {exc.func_name!r}") from None
        except ZeroDivisionError:
            raise refuse(NAME, f"{where}: division by zero in {expression!r}") from None
        except (simpleeval.InvalidExpression, KeyError, IndexError) as exc:
            raise refuse(NAME, f"{where}: cannot evaluate {expression!r}: {exc}") from None
        except (TypeError, ValueError, OverflowError, AttributeError) as exc:
            raise refuse(NAME, f"{where}: {expression!r}: {exc}") from None

    return evaluate


def _map(rows: Rows, spec: dict[str, Any], step: int) -> Rows:
    compute = {k: _evaluator(e, step) for k, e in (spec.get("compute") or {}).items()}
    select, rename = spec.get("select"), spec.get("rename") or {}
    if not (compute or select or rename):
        raise refuse(NAME, f"step {step}: map needs 'compute', 'select' or 'rename'")
    out = []
    for i, row in enumerate(rows):
        new = dict(row)
        for field, evaluate in compute.items():
            new[field] = plain_number(evaluate(row, i))
        if select is not None:
            new = {f: new.get(f) for f in select}
        if rename:
            new = {rename.get(k, k): v for k, v in new.items()}
        out.append(new)
    return out


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "exists":
        return (left is not None) == (right is not False)
    if op == "in":
        return isinstance(right, list) and left in right
    if op == "not_in":
        return isinstance(right, list) and left not in right
    if op == "contains":
        if isinstance(left, str):
            return str(right) in left
        return isinstance(left, list) and right in left
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool(
            {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
        )
    except TypeError:  # a string against a number: not comparable, not kept
        return False


def _filter(rows: Rows, spec: dict[str, Any], step: int) -> Rows:
    if ("where" in spec) == ("expression" in spec):
        raise refuse(NAME, f"step {step}: filter takes either 'where' or 'expression'")
    if "expression" in spec:
        evaluate = _evaluator(spec["expression"], step)
        return [r for i, r in enumerate(rows) if evaluate(r, i)]
    where = spec["where"]
    field, op, value = where["field"], where["op"], where.get("value")
    if op in ("in", "not_in") and not isinstance(value, list):
        raise refuse(NAME, f"step {step}: '{op}' needs a list as 'value'")
    return [r for r in rows if _compare(r.get(field), op, value)]


def _number(value: Any, fn: str, field: str, step: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refuse(NAME, f"step {step}: {fn} of {field!r} needs numbers, got {value!r}")
    return value


def _aggregate(rows: Rows, agg: dict[str, Any], step: int) -> Any:
    fn, field = agg["fn"], agg.get("field")
    if fn == "count":
        return len(rows) if field is None else sum(r.get(field) is not None for r in rows)
    if field is None:
        raise refuse(NAME, f"step {step}: {fn} needs a 'field'")
    present = [r[field] for r in rows if r.get(field) is not None]
    if fn in ("sum", "avg"):
        numbers = [_number(v, fn, field, step) for v in present]
        if fn == "sum":
            return plain_number(math.fsum(numbers)) if numbers else 0
        return plain_number(math.fsum(numbers) / len(numbers)) if numbers else None
    if not present:
        return None
    try:
        return min(present) if fn == "min" else max(present)
    except TypeError:
        raise refuse(NAME, f"step {step}: {fn} of {field!r} over values of mixed types") from None


def _group(rows: Rows, spec: dict[str, Any], step: int) -> Rows:
    by: list[str] = spec["by"]
    aggregates = spec.get("aggregates") or [{"fn": "count"}]
    groups: dict[str, tuple[dict[str, Any], Rows]] = {}
    for row in rows:
        key_values = {f: row.get(f) for f in by}
        key = json.dumps(list(key_values.values()), sort_keys=True, default=str)
        groups.setdefault(key, (key_values, []))[1].append(row)
    out = []
    for key_values, members in groups.values():
        record = dict(key_values)
        for agg in aggregates:
            name = agg.get("as") or (
                agg["fn"] if "field" not in agg else f"{agg['fn']}_{agg['field']}"
            )
            record[name] = _aggregate(members, agg, step)
        out.append(record)
    return out


def _sort_key(value: Any) -> tuple[int, Any]:
    """Missing last; numbers before strings before anything else (compared as JSON)."""
    if value is None:
        return (3, 0)
    if isinstance(value, bool | int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True))


def _sort(rows: Rows, spec: dict[str, Any], step: int) -> Rows:
    out = list(rows)
    keys = [{"field": k} if isinstance(k, str) else k for k in spec["keys"]]
    for key in reversed(keys):  # stable sorts, least significant key first
        field, descending = key["field"], key.get("order", "asc") == "desc"
        present = [r for r in out if r.get(field) is not None]
        missing = [r for r in out if r.get(field) is None]
        present.sort(key=lambda r: _sort_key(r[field]), reverse=descending)
        out = present + missing
    return out


def _join(rows: Rows, spec: dict[str, Any], step: int) -> Rows:
    on = spec["on"]
    left_key, right_key = (on, on) if isinstance(on, str) else (on["left"], on["right"])
    how = spec.get("how", "inner")
    index: dict[str, Rows] = {}
    for right in spec["rows"]:
        if right.get(right_key) is not None:
            index.setdefault(json.dumps(right[right_key], default=str), []).append(right)
    out = []
    for left in rows:
        value = left.get(left_key)
        matches = [] if value is None else index.get(json.dumps(value, default=str), [])
        if not matches and how == "left":
            out.append(dict(left))
        for right in matches:
            merged = dict(left)
            for k, v in right.items():
                if k == right_key and right_key == left_key:
                    continue
                merged[f"{k}_right" if k in left else k] = v
            out.append(merged)
    return out


def _limit(rows: Rows, spec: dict[str, Any], step: int) -> Rows:
    return rows[: spec["n"]]


STEPS: dict[str, Callable[[Rows, dict[str, Any], int], Rows]] = {
    "map": _map,
    "filter": _filter,
    "group": _group,
    "sort": _sort,
    "join": _join,
    "limit": _limit,
}


def run(rows: Rows, steps: list[dict[str, Any]]) -> Rows:
    for number, spec in enumerate(steps, 1):
        rows = STEPS[spec["op"]](rows, spec, number)
        if len(rows) > MAX_ROWS:
            raise refuse(NAME, f"step {number} made {len(rows)} rows, over the {MAX_ROWS} cap")
    return rows


async def transform(args: dict[str, Any]) -> Result:
    import asyncio

    rows = await asyncio.to_thread(run, args["rows"], args["steps"])
    preview = json.dumps(rows[:20], ensure_ascii=False, default=str)
    more = f"\n... {len(rows) - 20} more" if len(rows) > 20 else ""
    return answer(f"{len(rows)} row(s)\n{preview}{more}", {"rows": rows, "count": len(rows)})


_ROWS = {"type": "array", "maxItems": MAX_ROWS, "items": {"type": "object"}}
_FIELDS = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}


def _step(op: str, properties: dict[str, Any], required: list[str] | None = None) -> Any:
    return {
        "type": "object",
        "properties": {"op": {"const": op}, **properties},
        "required": ["op", *(required or [])],
        "additionalProperties": False,
    }


STEP_SCHEMA: dict[str, Any] = {
    "oneOf": [
        _step(
            "map",
            {
                "compute": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "minLength": 1},
                    "description": "new field -> expression over the row's fields",
                },
                "select": _FIELDS,
                "rename": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        ),
        _step(
            "filter",
            {
                "where": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string", "minLength": 1},
                        "op": {"enum": COMPARISONS},
                        "value": {},
                    },
                    "required": ["field", "op"],
                    "additionalProperties": False,
                },
                "expression": {"type": "string", "minLength": 1},
            },
        ),
        _step(
            "group",
            {
                "by": _FIELDS,
                "aggregates": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "fn": {"enum": AGGREGATES},
                            "field": {"type": "string", "minLength": 1},
                            "as": {"type": "string", "minLength": 1},
                        },
                        "required": ["fn"],
                        "additionalProperties": False,
                    },
                },
            },
            ["by"],
        ),
        _step(
            "sort",
            {
                "keys": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "oneOf": [
                            {"type": "string", "minLength": 1},
                            {
                                "type": "object",
                                "properties": {
                                    "field": {"type": "string", "minLength": 1},
                                    "order": {"enum": ["asc", "desc"]},
                                },
                                "required": ["field"],
                                "additionalProperties": False,
                            },
                        ]
                    },
                }
            },
            ["keys"],
        ),
        _step(
            "join",
            {
                "rows": _ROWS,
                "on": {
                    "oneOf": [
                        {"type": "string", "minLength": 1},
                        {
                            "type": "object",
                            "properties": {
                                "left": {"type": "string", "minLength": 1},
                                "right": {"type": "string", "minLength": 1},
                            },
                            "required": ["left", "right"],
                            "additionalProperties": False,
                        },
                    ]
                },
                "how": {"enum": ["inner", "left"], "default": "inner"},
            },
            ["rows", "on"],
        ),
        _step("limit", {"n": {"type": "integer", "minimum": 0}}, ["n"]),
    ]
}


def component() -> Component:
    return tool(
        NAME,
        "Transforms JSON rows (a list of objects) through chained steps: map (compute fields "
        "with expressions like 'price * qty', select, rename), filter (field op value, or an "
        "expression), group (by fields with count/sum/avg/min/max), sort (several keys, "
        "asc/desc), join (inner/left with a second list on a key) and limit.",
        {
            "rows": {**_ROWS, "description": "The input rows"},
            "steps": {"type": "array", "minItems": 1, "maxItems": 50, "items": STEP_SCHEMA},
        },
        transform,
        required=["rows", "steps"],
        annotations=PURE,
        output_schema={
            "type": "object",
            "properties": {"rows": {"type": "array"}, "count": {"type": "integer"}},
            "required": ["rows", "count"],
        },
    )
