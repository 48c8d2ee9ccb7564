"""`data-visualizer`: bar, line, scatter, histogram and pie charts from JSON rows, drawn by
matplotlib (Agg, no pyplot: each call builds its own `Figure` in a worker thread, so calls share
no global state) and returned as a PNG or SVG image, or written to a new file inside the roots.

Rows are objects; `x` and `y` name their fields. `series` names a field whose values split the
rows into series (one bar group, line or colour each). A bar chart sums the y of rows sharing an
x within a series; a pie sums y per x; a histogram counts the values of `x`."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Mapping
from typing import Any

from llmspell.runtime import Component, Result

from .._common import need, plain_number, refuse, tool
from ..media._shared import OUTPUT_PROPERTY, WRITES_OUTPUT, deliver
from ..sandbox.files import Roots

NAME = "data-visualizer"
KINDS = ["bar", "line", "scatter", "histogram", "pie"]
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
DPI = 100
MAX_POINTS = 100_000
_LOCK = threading.Lock()


def _number(value: Any, field: str, index: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refuse(NAME, f"row {index}: {field!r} must be a number, got {value!r}")
    return float(value)


def _field(row: Mapping[str, Any], field: str, index: int) -> Any:
    if field not in row:
        raise refuse(NAME, f"row {index} has no field {field!r}")
    return row[field]


def _label(value: Any) -> str:
    return str(plain_number(value)) if isinstance(value, float) else str(value)


def _series(args: dict[str, Any]) -> dict[str, list[tuple[int, Mapping[str, Any]]]]:
    """Rows by series name (one unnamed series without `series`), in order of appearance."""
    field = args.get("series")
    groups: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    for i, row in enumerate(args["data"]):
        name = _label(_field(row, field, i)) if field else ""
        groups.setdefault(name, []).append((i, row))
    return groups


def _colors(args: dict[str, Any], count: int) -> list[Any] | None:
    colors = args.get("colors")
    if not colors:
        return None
    mcolors = need("matplotlib.colors", "charts", NAME)
    for c in colors:
        if not mcolors.is_color_like(c):
            raise refuse(NAME, f"{c!r} is not a colour (use a name like 'red' or '#ff0000')")
    return [colors[i % len(colors)] for i in range(count)]


def draw(args: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """Render the chart; returns the encoded image and facts about it. matplotlib's caches
    (fonts, text layout) are shared, so one chart is drawn at a time."""
    need("matplotlib", "charts", NAME)
    with _LOCK:
        return _draw(args)


def _draw(args: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    kind, fmt = args["type"], args.get("format", "png")
    width, height = args.get("width", 800), args.get("height", 600)
    x_field: str = args.get("x", "")
    y_field: str = args.get("y", "")
    if kind != "histogram" and (not x_field or not y_field):
        raise refuse(NAME, f"a {kind} chart needs 'x' and 'y' (field names)")
    if kind == "histogram" and not x_field:
        raise refuse(NAME, "a histogram needs 'x' (the field whose values are counted)")
    if kind == "pie" and args.get("series"):
        raise refuse(NAME, "a pie chart has no 'series'")

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)  # Agg for this figure only: no pyplot, no global backend switch
    ax = fig.add_subplot()
    groups = _series(args)
    names = list(groups)
    facts: dict[str, Any] = {"type": kind, "format": fmt, "width": width, "height": height}
    colors = _colors(args, len(names))

    if kind == "bar":
        categories: list[str] = []
        sums: dict[str, dict[str, float]] = {}
        for name, rows in groups.items():
            totals = sums.setdefault(name, {})
            for i, row in rows:
                cat = _label(_field(row, x_field, i))
                if cat not in categories:
                    categories.append(cat)
                totals[cat] = totals.get(cat, 0.0) + _number(_field(row, y_field, i), y_field, i)
        bar_width = 0.8 / len(names)
        categories_at = range(len(categories))
        single = len(names) == 1
        for s, name in enumerate(names):
            offsets = [c + (s - (len(names) - 1) / 2) * bar_width for c in range(len(categories))]
            heights = [sums[name].get(cat, 0.0) for cat in categories]
            if single and colors:
                color: Any = [args["colors"][i % len(args["colors"])] for i in categories_at]
            else:
                color = colors[s] if colors else None
            ax.bar(offsets, heights, bar_width, label=name or None, color=color)
        ax.set_xticks(range(len(categories)), categories)
        facts["categories"] = categories
    elif kind in ("line", "scatter"):
        for s, (name, rows) in enumerate(groups.items()):
            xs = [_field(row, x_field, i) for i, row in rows]
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in xs):
                xs = [_label(v) for v in xs]
            ys = [_number(_field(row, y_field, i), y_field, i) for i, row in rows]
            color = colors[s] if colors else None
            if kind == "line":
                ax.plot(xs, ys, marker="o", label=name or None, color=color)
            else:
                if any(isinstance(v, str) for v in xs):
                    raise refuse(NAME, f"a scatter chart needs numbers in {x_field!r}")
                ax.scatter(xs, ys, label=name or None, color=color)
    elif kind == "histogram":
        values = [
            [_number(_field(row, x_field, i), x_field, i) for i, row in rows]
            for rows in groups.values()
        ]
        ax.hist(
            values if len(values) > 1 else values[0],
            bins=args.get("bins", 10),
            label=names if len(names) > 1 else None,
            color=colors if colors else None,
            alpha=0.75 if len(values) > 1 else 1.0,
        )
    else:  # pie
        labels: list[str] = []
        amounts: dict[str, float] = {}
        for i, row in groups[""]:
            cat = _label(_field(row, x_field, i))
            value = _number(_field(row, y_field, i), y_field, i)
            if value < 0:
                raise refuse(NAME, f"row {i}: a pie slice cannot be negative ({value:g})")
            if cat not in amounts:
                labels.append(cat)
            amounts[cat] = amounts.get(cat, 0.0) + value
        if sum(amounts.values()) <= 0:
            raise refuse(NAME, "a pie chart needs some positive values")
        pie_colors = _colors(args, len(labels))
        ax.pie(
            [amounts[c] for c in labels],
            labels=labels,
            colors=pie_colors,
            autopct="%1.1f%%",
            startangle=90,
        )
        ax.axis("equal")
        facts["categories"] = labels

    if args.get("title"):
        ax.set_title(args["title"])
    if kind != "pie":
        ax.set_xlabel(args.get("x_label", x_field))
        ax.set_ylabel(args.get("y_label", y_field or ("count" if kind == "histogram" else "")))
        if args.get("grid", False):
            ax.grid(True, alpha=0.3)
    if len(names) > 1:
        ax.legend(title=args.get("series"))
    fig.tight_layout()
    buf = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buf, format=fmt, dpi=DPI, metadata=metadata)
    facts.update(series=[n for n in names if n], points=len(args["data"]))
    if args.get("title"):
        facts["title"] = args["title"]
    return buf.getvalue(), facts


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        if not args["data"]:
            raise refuse(NAME, "'data' has no rows")
        fmt = args.get("format", "png")
        image, facts = await asyncio.to_thread(draw, args)
        summary = f"{args['type']} chart ({facts['width']}x{facts['height']} {fmt.upper()})"
        return await deliver(NAME, roots, args, image, FORMATS[fmt], facts, summary)

    return tool(
        NAME,
        "Draws a bar, line, scatter, histogram or pie chart from JSON rows ('data': objects; "
        "'x' and 'y' name fields, 'series' a field that splits rows into series) and returns "
        "it as a PNG image (or SVG with format 'svg'), or writes it to a new file inside the "
        "allowed roots ('output').",
        {
            "type": {"enum": KINDS, "description": "The kind of chart"},
            "data": {
                "type": "array",
                "maxItems": MAX_POINTS,
                "items": {"type": "object"},
                "description": "The rows to plot",
            },
            "x": {"type": "string", "minLength": 1, "description": "The x (category) field"},
            "y": {"type": "string", "minLength": 1, "description": "The y (value) field"},
            "series": {"type": "string", "minLength": 1, "description": "A field to group by"},
            "title": {"type": "string", "maxLength": 500},
            "x_label": {"type": "string", "maxLength": 200},
            "y_label": {"type": "string", "maxLength": 200},
            "width": {"type": "integer", "minimum": 100, "maximum": 4000, "default": 800},
            "height": {"type": "integer", "minimum": 100, "maximum": 4000, "default": 600},
            "format": {"enum": list(FORMATS), "default": "png"},
            "colors": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "minLength": 1},
                "description": "Colours (names or #rrggbb): one per series, or per bar or "
                "slice when there is a single series",
            },
            "bins": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10},
            "grid": {"type": "boolean", "default": False},
            "output": OUTPUT_PROPERTY,
        },
        handle,
        required=["type", "data"],
        annotations=WRITES_OUTPUT,
    )
