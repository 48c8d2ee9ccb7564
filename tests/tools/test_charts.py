"""data-visualizer through the real pipeline: every chart type renders to a PNG of the asked size,
colours land where asked, SVG is XML with an <svg> root, and output files stay in the roots."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from llmspell.runtime import BlobPart, ErrorCode, Runtime
from PIL import Image

from .conftest import call, refused

TOOL = "data-visualizer"
SALES = [
    {"month": "Jan", "region": "north", "sales": 10, "visits": 100},
    {"month": "Feb", "region": "north", "sales": 14, "visits": 130},
    {"month": "Mar", "region": "north", "sales": 9, "visits": 90},
    {"month": "Jan", "region": "south", "sales": 7, "visits": 80},
    {"month": "Feb", "region": "south", "sales": 11, "visits": 120},
    {"month": "Mar", "region": "south", "sales": 15, "visits": 160},
]


def colours(img: Image.Image) -> Counter[tuple[int, int, int]]:
    """How many pixels of each RGB colour."""
    found = img.convert("RGB").getcolors(maxcolors=img.width * img.height)
    assert found is not None
    return Counter({colour: n for n, colour in found})


def image_of(result: Any) -> tuple[BlobPart, Image.Image]:
    blobs = [p for p in result.parts if isinstance(p, BlobPart)]
    assert len(blobs) == 1
    return blobs[0], Image.open(io.BytesIO(blobs[0].data))


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("bar", {"x": "month", "y": "sales", "series": "region"}),
        ("line", {"x": "month", "y": "sales", "series": "region"}),
        ("scatter", {"x": "visits", "y": "sales", "series": "region"}),
        ("histogram", {"x": "sales", "bins": 4}),
        ("pie", {"x": "region", "y": "sales"}),
    ],
)
async def test_every_chart_type_renders(rt: Runtime, kind: str, extra: dict[str, Any]) -> None:
    result = await call(
        rt, TOOL, type=kind, data=SALES, width=640, height=480, title=f"A {kind}", **extra
    )
    blob, img = image_of(result)
    assert blob.mime_type == "image/png" and img.format == "PNG"
    assert img.size == (640, 480)
    assert len(colours(img)) > 10  # something was drawn, not a blank canvas
    facts = result.data
    assert facts["type"] == kind and (facts["width"], facts["height"]) == (640, 480)
    assert (
        facts["points"] == 6 and facts["title"] == f"A {kind}" and facts["bytes"] == len(blob.data)
    )
    if "series" in extra:
        assert facts["series"] == ["north", "south"]
    if kind == "pie":
        assert facts["categories"] == ["north", "south"]
    assert result.text == f"{kind} chart (640x480 PNG)"


async def test_a_red_bar_is_red(rt: Runtime) -> None:
    result = await call(
        rt,
        TOOL,
        type="bar",
        data=[{"k": "only", "v": 5}],
        x="k",
        y="v",
        colors=["red"],
        width=300,
        height=300,
    )
    _, img = image_of(result)
    assert img.size == (300, 300)
    not_white = [(c, n) for c, n in colours(img).most_common() if c != (255, 255, 255)]
    assert not_white[0][0] == (255, 0, 0)  # the dominant colour after the background
    assert not_white[0][1] > 300 * 300 * 0.1
    # per-bar colours on a single series
    two = await call(
        rt,
        TOOL,
        type="bar",
        data=[{"k": "a", "v": 5}, {"k": "b", "v": 5}],
        x="k",
        y="v",
        colors=["#00ff00", "#0000ff"],
    )
    _, img2 = image_of(two)
    counts = colours(img2)
    assert counts[(0, 255, 0)] > 1000 and counts[(0, 0, 255)] > 1000
    assert abs(counts[(0, 255, 0)] - counts[(0, 0, 255)]) < 0.05 * counts[(0, 255, 0)]


async def test_svg_output(rt: Runtime) -> None:
    result = await call(
        rt, TOOL, type="line", data=SALES, x="month", y="sales", format="svg", title="Trend"
    )
    blobs = [p for p in result.parts if isinstance(p, BlobPart)]
    assert blobs[0].mime_type == "image/svg+xml"
    root = fromstring(blobs[0].data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("width") == "576pt" and root.get("height") == "432pt"  # 800x600 px at 100 dpi
    assert result.data["format"] == "svg" and result.text == "line chart (800x600 SVG)"


async def test_output_file_inside_the_roots(rt: Runtime, tmp_path: Path) -> None:
    result = await call(
        rt,
        TOOL,
        type="bar",
        data=SALES,
        x="month",
        y="sales",
        output="chart.png",
        width=200,
        height=150,
    )
    assert result.data["path"] == "chart.png"
    assert result.text == "wrote bar chart (200x150 PNG) to chart.png"
    with Image.open(tmp_path / "chart.png") as img:
        assert img.size == (200, 150)
    err = await refused(rt, TOOL, type="bar", data=SALES, x="month", y="sales", output="chart.png")
    assert err.message == f"{TOOL}: 'chart.png' already exists; choose a new output path"
    err = await refused(
        rt, TOOL, type="bar", data=SALES, x="month", y="sales", output="/tmp/../etc/chart.png"
    )
    assert err.code == ErrorCode.DENIED


async def test_chart_refusals(rt: Runtime) -> None:
    err = await refused(rt, TOOL, type="bar", data=SALES, x="month")
    assert err.message == f"{TOOL}: a bar chart needs 'x' and 'y' (field names)"
    err = await refused(rt, TOOL, type="bar", data=SALES, x="month", y="region")
    assert err.message == f"{TOOL}: row 0: 'region' must be a number, got 'north'"
    err = await refused(rt, TOOL, type="line", data=SALES, x="day", y="sales")
    assert err.message == f"{TOOL}: row 0 has no field 'day'"
    err = await refused(rt, TOOL, type="pie", data=[{"a": "x", "b": -1}], x="a", y="b")
    assert err.message == f"{TOOL}: row 0: a pie slice cannot be negative (-1)"
    err = await refused(rt, TOOL, type="bar", data=SALES, x="month", y="sales", colors=["nope"])
    assert err.message == f"{TOOL}: 'nope' is not a colour (use a name like 'red' or '#ff0000')"
    err = await refused(rt, TOOL, type="bar", data=[], x="month", y="sales")
    assert err.message == f"{TOOL}: 'data' has no rows"
    err = await refused(rt, TOOL, type="radar", data=SALES)
    assert err.code == ErrorCode.INVALID_ARGUMENTS and "'radar' is not one of" in err.message
