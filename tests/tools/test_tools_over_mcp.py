"""The built-in tools as an MCP client sees them: a real gateway process over Streamable HTTP
with a `[tools]` sandbox from its config, called with the SDK's own client."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import mcp_types as types
import pytest
from llmspell.adapters.tools import CATEGORIES, builtin_tools
from mcp import Client
from mcpserver.conftest import RunningGateway, gateway
from PIL import Image

CONFIG = """\
roots = ["files"]

[tools.process]
allow = ["echo"]

[tools.environment]
allow = ["LLMSPELL_SHOWN", "LLMSPELL_API_TOKEN"]
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, Path]]:
    base = tmp_path_factory.mktemp("tools-mcp")
    files = base / "files"
    files.mkdir()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(files / "red.png")
    (files / "people.csv").write_text("name,age\nada,36\nalan,41\ngrace,85\n")
    (files / "notes.txt").write_text("alpha\nneedle here\nomega\n")
    (base / "llmspell.toml").write_text(CONFIG)
    extra = {"LLMSPELL_SHOWN": "visible", "LLMSPELL_API_TOKEN": "s3cr3t", "LLMSPELL_HIDDEN": "x"}
    with gateway(config=base / "llmspell.toml", cwd=base, extra_env=extra) as running:
        yield running, files


def text_of(result: types.CallToolResult) -> str:
    return "".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_every_builtin_is_listed_with_honest_annotations(served: tuple) -> None:
    running, _ = served
    async with Client(running.url) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
    builtins = builtin_tools()
    assert len(builtins) >= 28
    assert {"files", "data", "utilities", "system", "media"} <= {c.category for c in builtins}
    assert {c.category for c in builtins} <= set(CATEGORIES)
    for component in builtins:
        tool = listed[component.name]
        assert tool.annotations is not None, component.name
        assert tool.annotations.read_only_hint == component.annotations.read_only
        assert tool.annotations.destructive_hint == component.annotations.destructive
        assert tool.input_schema["type"] == "object"
    assert listed["process-executor"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert listed["calculator"].annotations.read_only_hint is True  # type: ignore[union-attr]


async def test_image_processor_returns_image_content_the_client_decodes(served: tuple) -> None:
    running, _ = served
    async with Client(running.url) as client:
        result = await client.call_tool(
            "image-processor", {"operation": "resize", "path": "red.png", "width": 32}
        )
    assert not result.is_error, text_of(result)
    images = [c for c in result.content if isinstance(c, types.ImageContent)]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    picture = Image.open(io.BytesIO(base64.b64decode(images[0].data)))
    assert picture.format == "PNG"
    assert picture.size == (32, 24)
    assert picture.convert("RGB").getpixel((5, 5)) == (200, 30, 30)


async def test_a_sample_of_each_category_runs_over_mcp(served: tuple) -> None:
    running, _ = served
    async with Client(running.url) as client:
        found = await client.call_tool("file-search", {"pattern": "*.txt", "regex": "needle"})
        stats = await client.call_tool("csv-analyzer", {"operation": "stats", "path": "people.csv"})
        diff = await client.call_tool(
            "diff-calculator", {"operation": "text", "old": "a\nb\n", "new": "a\nc\n"}
        )
        echoed = await client.call_tool(
            "process-executor", {"command": "echo", "args": ["-c", "echo hi; rm -rf /"]}
        )
        shown = await client.call_tool("environment-reader", {"operation": "list"})
    for result in (found, stats, diff, echoed, shown):
        assert not result.is_error, text_of(result)
    assert "needle here" in text_of(found)
    assert stats.structured_content["columns"][1]["max"] == 85  # type: ignore[index]
    assert "-b" in text_of(diff) and "+c" in text_of(diff)
    assert echoed.structured_content["stdout"] == "-c echo hi; rm -rf /\n"  # type: ignore[index]
    listing = text_of(shown)
    assert "visible" in listing and "s3cr3t" not in listing and "LLMSPELL_HIDDEN" not in listing


async def test_refusals_are_tool_errors_and_the_gateway_keeps_serving(served: tuple) -> None:
    running, _ = served
    async with Client(running.url) as client:
        unlisted = await client.call_tool("process-executor", {"command": "ls"})
        outside = await client.call_tool(
            "file-operations", {"operation": "read", "path": "../llmspell.toml"}
        )
        after = await client.call_tool("calculator", {"expression": "6*7"})
    assert unlisted.is_error and "'ls' is not an allowed command" in text_of(unlisted)
    assert outside.is_error and "is outside the allowed roots" in text_of(outside)
    assert text_of(after) == "42"
