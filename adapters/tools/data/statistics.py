"""`statistical-analyzer`: descriptive statistics, percentiles, correlation (Pearson and
Spearman), simple linear regression and histograms over lists of numbers.

Built on the standard library's `statistics` plus a little own code: percentiles interpolate
linearly between closest ranks (numpy's default), Spearman is Pearson over average ranks (ties
share the mean of their ranks), r² is 1 - SS_res / SS_tot."""

from __future__ import annotations

import itertools
import math
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, plain_number, refuse, tool

NAME = "statistical-analyzer"
MAX_VALUES = 1_000_000


def numbers(args: dict[str, Any], key: str, minimum: int = 1) -> list[float]:
    """`args[key]` as numbers, refusing anything else (booleans included) by position."""
    values = args.get(key)
    if not isinstance(values, list):
        raise refuse(NAME, f"'{key}' must be a list of numbers")
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise refuse(NAME, f"'{key}' holds a non-number at index {i}: {v!r}")
    if len(values) < minimum:
        raise refuse(NAME, f"'{key}' needs at least {minimum} number(s), got {len(values)}")
    return values


def _n(value: float | None) -> Any:
    return None if value is None else plain_number(value)


def describe(values: list[float], population: bool) -> dict[str, Any]:
    import statistics

    n = len(values)
    variance: float | None
    if population:
        variance = statistics.pvariance(values)
    else:
        variance = statistics.variance(values) if n > 1 else None
    return {
        "count": n,
        "sum": _n(math.fsum(values)),
        "mean": _n(statistics.fmean(values)),
        "median": _n(statistics.median(values)),
        "mode": sorted(_n(m) for m in statistics.multimode(values)),
        "min": _n(min(values)),
        "max": _n(max(values)),
        "range": _n(max(values) - min(values)),
        "variance": _n(variance),
        "stdev": _n(None if variance is None else math.sqrt(variance)),
        "population": population,
    }


def percentile(ordered: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's 'linear' method)."""
    rank = p / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ranks(values: list[float]) -> list[float]:
    """1-based ranks, ties sharing the average of the ranks they span."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def pearson(x: list[float], y: list[float]) -> float:
    import statistics

    try:
        return statistics.correlation(x, y)
    except statistics.StatisticsError:
        raise refuse(NAME, "correlation is undefined when a series is constant") from None


def _pair(args: dict[str, Any]) -> tuple[list[float], list[float]]:
    x, y = numbers(args, "x", 2), numbers(args, "y", 2)
    if len(x) != len(y):
        raise refuse(NAME, f"'x' and 'y' differ in length ({len(x)} and {len(y)})")
    return x, y


def regression(x: list[float], y: list[float]) -> dict[str, Any]:
    import statistics

    try:
        slope, intercept = statistics.linear_regression(x, y)
    except statistics.StatisticsError:
        raise refuse(NAME, "regression is undefined when 'x' is constant") from None
    mean_y = statistics.fmean(y)
    ss_res = math.fsum((yi - (slope * xi + intercept)) ** 2 for xi, yi in zip(x, y, strict=True))
    ss_tot = math.fsum((yi - mean_y) ** 2 for yi in y)
    r_squared = 1.0 if ss_tot == 0 else max(0.0, 1 - ss_res / ss_tot)
    # exact inputs (y = 2x + 1) should read exactly, not 1.9999999999999998
    return {
        "slope": _n(_tidy(slope)),
        "intercept": _n(_tidy(intercept)),
        "r_squared": _n(_tidy(r_squared)),
        "n": len(x),
    }


def _tidy(value: float) -> float:
    """Round away float noise below 1e-12 relative (12 significant digits kept)."""
    if value == 0 or not math.isfinite(value):
        return value
    digits = 12 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def histogram(values: list[float], args: dict[str, Any]) -> dict[str, Any]:
    if "edges" in args:
        edges = numbers(args, "edges", 2)
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise refuse(NAME, "'edges' must be strictly increasing")
    else:
        count = args.get("bins", 10)
        low, high = min(values), max(values)
        if low == high:
            low, high = low - 0.5, high + 0.5
        width = (high - low) / count
        edges = [low + i * width for i in range(count)] + [high]
    counts = [0] * (len(edges) - 1)
    below = above = 0
    for v in values:
        if v < edges[0]:
            below += 1
        elif v > edges[-1]:
            above += 1
        elif v == edges[-1]:
            counts[-1] += 1  # the last bin includes its upper edge
        else:
            lo, hi = 0, len(edges) - 1  # the bin with edges[i] <= v < edges[i + 1]
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if edges[mid] <= v:
                    lo = mid
                else:
                    hi = mid
            counts[lo] += 1
    bins = [
        {"start": _n(_tidy(edges[i])), "end": _n(_tidy(edges[i + 1])), "count": counts[i]}
        for i in range(len(counts))
    ]
    return {"bins": bins, "below": below, "above": above, "count": len(values)}


async def analyze(args: dict[str, Any]) -> Result:
    op = args["operation"]
    if op == "describe":
        stats = describe(numbers(args, "values"), bool(args.get("population", False)))
        text = ", ".join(f"{k} {v}" for k, v in stats.items() if k != "population")
        return answer(text, stats)
    if op == "percentiles":
        ordered = sorted(numbers(args, "values"))
        wanted = args.get("percentiles", [25, 50, 75])
        found = {str(plain_number(p)): _n(percentile(ordered, p)) for p in wanted}
        return answer(", ".join(f"p{k} {v}" for k, v in found.items()), {"percentiles": found})
    if op == "correlation":
        x, y = _pair(args)
        method = args.get("method", "both")
        out: dict[str, Any] = {"n": len(x)}
        if method in ("pearson", "both"):
            out["pearson"] = _n(_tidy(pearson(x, y)))
        if method in ("spearman", "both"):
            out["spearman"] = _n(_tidy(pearson(ranks(x), ranks(y))))
        return answer(", ".join(f"{k} {v}" for k, v in out.items()), out)
    if op == "regression":
        x, y = _pair(args)
        fit = regression(x, y)
        if "predict" in args:
            at = numbers(args, "predict")
            fit["predictions"] = [
                {"x": _n(v), "y": _n(_tidy(fit["slope"] * v + fit["intercept"]))} for v in at
            ]
        text = f"y = {fit['slope']} * x + {fit['intercept']} (r² {fit['r_squared']}, n {fit['n']})"
        return answer(text, fit)
    if op == "histogram":
        values = numbers(args, "values")
        hist = histogram(values, args)
        text = "\n".join(f"[{b['start']}, {b['end']}): {b['count']}" for b in hist["bins"])
        return answer(text, hist)
    raise refuse(NAME, f"unknown operation {op!r}")


_NUMBERS = {"type": "array", "maxItems": MAX_VALUES, "items": {"type": "number"}}


def component() -> Component:
    return tool(
        NAME,
        "Statistics over lists of numbers: describe (count, sum, mean, median, mode, min, max, "
        "range, variance, stdev; sample unless 'population'), percentiles (any list, linear "
        "interpolation), correlation (Pearson and/or Spearman between 'x' and 'y'), regression "
        "(least-squares slope, intercept, r², optional predictions) and histogram ('bins' equal "
        "widths or explicit 'edges').",
        {
            "values": {**_NUMBERS, "description": "describe, percentiles, histogram: the data"},
            "x": {**_NUMBERS, "description": "correlation, regression: the first series"},
            "y": {**_NUMBERS, "description": "correlation, regression: the second series"},
            "population": {"type": "boolean", "default": False},
            "percentiles": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "number", "minimum": 0, "maximum": 100},
                "default": [25, 50, 75],
            },
            "method": {"enum": ["pearson", "spearman", "both"], "default": "both"},
            "predict": {**_NUMBERS, "description": "regression: x values to predict y for"},
            "bins": {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 10},
            "edges": {**_NUMBERS, "minItems": 2, "description": "histogram: bin edges"},
        },
        analyze,
        operations={
            "describe": ["values"],
            "percentiles": ["values"],
            "correlation": ["x", "y"],
            "regression": ["x", "y"],
            "histogram": ["values"],
        },
        annotations=PURE,
    )
