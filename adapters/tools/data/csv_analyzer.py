"""`csv-analyzer`: column types, statistics, filtering and a peek at the first rows of a CSV,
from a file inside the roots or inline text. Parsing runs in a thread, under a row cap, so a big
file neither blocks the event loop nor eats the memory."""

from __future__ import annotations

import asyncio
import io
import re
from collections import Counter
from datetime import date, datetime
from typing import Any

from llmspell.runtime import Component, Result
from llmspell.runtime.sandbox import MAX_READ

from .._common import PURE, answer, plain_number, refuse, text_input, tool
from ..sandbox.files import Roots

NAME = "csv-analyzer"
MAX_ROWS = 100_000  # rows read; the rest is left out and `truncated` says so
NULLS = frozenset({"", "null", "none", "na", "n/a", "nan"})
TYPES = ("int", "float", "bool", "date", "string")  # most specific first
BOOLS = {"true": True, "false": False, "yes": True, "no": False}
OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "contains"]
_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class Table:
    """Parsed rows (lists of strings, padded to the header's width) and their column types."""

    def __init__(
        self, header: list[str], rows: list[list[str]], truncated: bool, delimiter: str
    ) -> None:
        self.header, self.rows, self.truncated, self.delimiter = header, rows, truncated, delimiter
        self.types = [_column_type([r[i] for r in rows]) for i in range(len(header))]

    def index(self, column: str) -> int:
        if column not in self.header:
            raise refuse(NAME, f"unknown column {column!r} (columns: {', '.join(self.header)})")
        return self.header.index(column)

    def record(self, row: list[str]) -> dict[str, str]:
        return dict(zip(self.header, row, strict=True))


def _is_null(value: str) -> bool:
    return value.strip().lower() in NULLS


def _as_date(value: str) -> date | None:
    """ISO 8601 dates and date-times (a bare number is an int, which is tried first)."""
    v = value.strip()
    for parse_iso in (date.fromisoformat, datetime.fromisoformat):
        try:
            return parse_iso(v)
        except ValueError:
            continue
    return None


def _fits(kind: str, value: str) -> bool:
    v = value.strip()
    if kind == "int":
        return bool(_INT.fullmatch(v))
    if kind == "float":
        return bool(_FLOAT.fullmatch(v))
    if kind == "bool":
        return v.lower() in BOOLS
    if kind == "date":
        return _as_date(v) is not None
    return True


def _column_type(values: list[str]) -> str:
    present = [v for v in values if not _is_null(v)]
    if not present:
        return "string"
    return next(kind for kind in TYPES if all(_fits(kind, v) for v in present))


def _convert(kind: str, value: str) -> Any:
    v = value.strip()
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v)
    if kind == "bool":
        return BOOLS[v.lower()]
    if kind == "date":
        return _as_date(v)
    return value


def parse(text: str, delimiter: str | None, has_header: bool) -> Table:
    """Sniff the delimiter (comma when the sample says nothing) unless one is given."""
    import csv

    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    truncated = False
    try:
        for row in reader:
            if not row:
                continue
            if len(rows) > MAX_ROWS:  # header + MAX_ROWS data rows
                truncated = True
                break
            rows.append(row)
    except csv.Error as exc:
        raise refuse(NAME, f"malformed CSV at line {reader.line_num}: {exc}") from None
    if not rows:
        raise refuse(NAME, "the CSV has no rows")
    width = max(len(r) for r in rows)
    if has_header:
        header = [h.strip() or f"column{i + 1}" for i, h in enumerate(rows[0])]
        header += [f"column{i + 1}" for i in range(len(header), width)]
        rows = rows[1:]
    else:
        header = [f"column{i + 1}" for i in range(width)]
    padded = [(r + [""] * (width - len(r)))[:width] for r in rows]
    return Table(header, padded, truncated, delimiter)


def _stats(table: Table) -> list[dict[str, Any]]:
    import statistics

    out = []
    for i, (name, kind) in enumerate(zip(table.header, table.types, strict=True)):
        present = [r[i] for r in table.rows if not _is_null(r[i])]
        col: dict[str, Any] = {
            "name": name,
            "type": kind,
            "count": len(present),
            "nulls": len(table.rows) - len(present),
            "unique": len(set(present)),
        }
        if kind in ("int", "float") and present:
            nums = [_convert(kind, v) for v in present]
            col.update(
                min=plain_number(min(nums)),
                max=plain_number(max(nums)),
                mean=plain_number(statistics.fmean(nums)),
                median=plain_number(statistics.median(nums)),
                stdev=plain_number(statistics.stdev(nums)) if len(nums) > 1 else None,
            )
        elif kind == "date" and present:
            dates = sorted((_convert(kind, v) for v in present), key=lambda d: d.isoformat())
            col.update(min=dates[0].isoformat(), max=dates[-1].isoformat())
        if kind in ("string", "bool", "date"):
            col["top"] = [{"value": v, "count": n} for v, n in Counter(present).most_common(5)]
        out.append(col)
    return out


def _coerce(kind: str, value: Any) -> Any:
    """`value` as the column's type, or None when it is not one (then strings are compared)."""
    if kind in ("int", "float") and not isinstance(value, bool):
        if isinstance(value, int | float):
            return float(value)
        return float(value) if _fits("float", value) else None
    if kind == "bool":
        return value if isinstance(value, bool) else BOOLS.get(str(value).strip().lower())
    if kind == "date" and isinstance(value, str):
        return _as_date(value)
    return None


def _matches(kind: str, cell: str, operator: str, value: Any) -> bool:
    if operator == "contains":
        return str(value) in cell
    if _is_null(cell):
        null_wanted = isinstance(value, str) and _is_null(value)
        return null_wanted if operator == "==" else operator == "!=" and not null_wanted
    right = _coerce(kind, value)
    left = _coerce(kind, cell) if right is not None else None
    if left is None or right is None:
        left, right = cell, str(value).lower() if isinstance(value, bool) else str(value)
    try:
        return bool(
            {
                "==": lambda: left == right,
                "!=": lambda: left != right,
                "<": lambda: left < right,
                "<=": lambda: left <= right,
                ">": lambda: left > right,
                ">=": lambda: left >= right,
            }[operator]()
        )
    except TypeError:  # a date against a datetime
        return False


def analyze(table: Table, args: dict[str, Any]) -> Result:
    op = args["operation"]
    base = {"rows": len(table.rows), "truncated": table.truncated, "delimiter": table.delimiter}
    if op == "columns":
        cols = [{"name": n, "type": t} for n, t in zip(table.header, table.types, strict=True)]
        text = "\n".join(f"{c['name']}: {c['type']}" for c in cols)
        return answer(text, {**base, "columns": cols})
    if op == "stats":
        cols = _stats(table)
        lines = [
            f"{c['name']} ({c['type']}): {c['count']} values, {c['nulls']} nulls"
            + (f", mean {c['mean']:g}" if "mean" in c else "")
            for c in cols
        ]
        return answer(f"{len(table.rows)} rows\n" + "\n".join(lines), {**base, "columns": cols})
    if op == "head":
        picked = [table.record(r) for r in table.rows[: args.get("n", 10)]]
        return answer(_render(table.header, picked, table.delimiter), {**base, "records": picked})
    if op == "filter":
        i = table.index(args["column"])
        operator, value, limit = args["operator"], args["value"], args.get("limit", 100)
        hits = [r for r in table.rows if _matches(table.types[i], r[i], operator, value)]
        picked = [table.record(r) for r in hits[:limit]]
        text = f"{len(hits)} of {len(table.rows)} rows match\n" + _render(
            table.header, picked, table.delimiter
        )
        return answer(text, {**base, "matched": len(hits), "records": picked})
    raise refuse(NAME, f"unknown operation {op!r}")


def _render(header: list[str], records: list[dict[str, str]], delimiter: str) -> str:
    import csv

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, header, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue().rstrip("\n")


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        text = await text_input(args, roots, NAME, "content")

        def work() -> Result:
            table = parse(text, args.get("delimiter"), args.get("has_header", True))
            return analyze(table, args)

        return await asyncio.to_thread(work)

    return tool(
        NAME,
        "Analyzes CSV from a file inside the allowed roots ('path') or inline ('content'): "
        "columns (names and inferred types int/float/bool/date/string), stats (counts, nulls, "
        "min/max/mean/median/stdev, top values), filter rows (column operator value) and head. "
        f"The delimiter is sniffed unless given; at most {MAX_ROWS} rows are read.",
        {
            "path": {"type": "string", "minLength": 1, "description": "A CSV file in the roots"},
            "content": {"type": "string", "maxLength": MAX_READ, "description": "The CSV text"},
            "delimiter": {"type": "string", "minLength": 1, "maxLength": 1},
            "has_header": {"type": "boolean", "default": True},
            "n": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
            "column": {"type": "string", "description": "filter: the column to test"},
            "operator": {"type": "string", "enum": OPERATORS, "description": "filter: how"},
            "value": {
                "type": ["string", "number", "boolean"],
                "description": "filter: what to compare with",
            },
            "limit": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 100},
        },
        handle,
        operations={
            "columns": [],
            "stats": [],
            "filter": ["column", "operator", "value"],
            "head": [],
        },
        annotations=PURE,
    )
