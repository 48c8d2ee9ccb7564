"""`Runtime.define_tool`: a Python function becomes a catalog tool whose schema comes from its
type hints, callable through the pipeline from Python and from scripts."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

import llmspell


class Point(BaseModel):
    x: float
    y: float


@dataclass
class Box:
    width: int
    height: int


def make_runtime() -> llmspell.Runtime:
    rt = llmspell.Runtime.create(tools=None)

    @rt.define_tool
    def search(
        query: Annotated[str, Field(description="What to look for")],
        limit: int = 10,
        tags: list[str] | None = None,
        order: Literal["asc", "desc"] = "asc",
    ) -> dict[str, object]:
        """Search the notes.

        This second paragraph is not part of the description."""
        return {"query": query, "limit": limit, "tags": tags, "order": order}

    @rt.define_tool(name="distance", description="Distance from the origin")
    async def far(point: Point) -> float:
        await asyncio.sleep(0)
        return (point.x**2 + point.y**2) ** 0.5

    return rt


async def test_the_schema_comes_from_the_type_hints() -> None:
    async with make_runtime() as rt:
        search = rt.core.catalog.get("search")
        distance = rt.core.catalog.get("distance")
    assert search.description == "Search the notes."
    assert search.input_schema == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to look for"},
            "limit": {"type": "integer", "default": 10},
            "tags": {
                "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
                "default": None,
            },
            "order": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
        },
        "required": ["query"],
        "additionalProperties": False,
    }
    assert search.source == f"python:{__name__}"
    assert distance.description == "Distance from the origin"
    assert distance.input_schema["required"] == ["point"]
    assert distance.input_schema["properties"]["point"] == {"$ref": "#/$defs/Point"}
    assert distance.input_schema["$defs"]["Point"]["required"] == ["x", "y"]


async def test_called_from_python_and_from_lua() -> None:
    async with make_runtime() as rt:
        found = await rt.call("search", {"query": "llm", "tags": ["a"]})
        assert found.data == {"query": "llm", "limit": 10, "tags": ["a"], "order": "asc"}
        assert found.text == ""  # a dict is structured data
        far = await rt.call("distance", {"point": {"x": 3, "y": 4}})
        assert (far.text, far.data) == ("5.0", 5.0)  # a number is both
        run = await rt.run_script(
            'local r = Tool.execute("search", {query = "lua", limit = 2})\n'
            "print(r.data.query, r.data.limit, r.data.order)\n"
            'return Tool.execute("distance", {point = {x = 6, y = 8}}).data\n'
        )
        assert (run.output, run.value) == ("lua\t2\tasc\n", 10.0)


async def test_bad_arguments_are_refused_before_the_function_runs() -> None:
    async with make_runtime() as rt:
        for args, where in [
            ({}, "query"),
            ({"query": "q", "limit": "ten"}, "limit"),
            ({"query": "q", "order": "sideways"}, "order"),
            ({"query": "q", "extra": 1}, "extra"),
        ]:
            with pytest.raises(llmspell.LLMSpellError) as raised:
                await rt.call("search", args)
            assert raised.value.code == llmspell.ErrorCode.INVALID_ARGUMENTS
            assert where in raised.value.message


async def test_sync_functions_run_off_the_loop_and_async_ones_on_it() -> None:
    seen: dict[str, int] = {}
    rt = await llmspell.Runtime.create(tools=None).start()  # defined after start: joins at once
    try:

        def blocking() -> str:
            seen["sync"] = threading.get_ident()
            return "ok"

        async def awaiting(inv: llmspell.Invocation) -> str:
            seen["async"] = threading.get_ident()
            return f"called as {inv.caller.subject}"

        assert rt.define_tool(blocking) is blocking  # the function itself comes back
        rt.define_tool(awaiting)
        assert rt.core.catalog.get("awaiting").input_schema["properties"] == {}
        assert (await rt.call("blocking")).text == "ok"
        assert (await rt.call("awaiting")).text == "called as local"
    finally:
        await rt.aclose()
    assert seen["async"] == threading.get_ident()
    assert seen["sync"] != threading.get_ident()


async def test_return_values_and_failures() -> None:
    rt = llmspell.Runtime.create(tools=["calculator"])

    @rt.define_tool
    def box() -> Box:
        return Box(2, 3)

    @rt.define_tool
    def nothing() -> None:
        return None

    @rt.define_tool
    def soft_error() -> llmspell.Result:
        return llmspell.Result.error("not today")

    @rt.define_tool
    def broken() -> str:
        raise KeyError("missing")

    @rt.define_tool
    async def nested(expression: str) -> str:
        return (await rt.call("calculator", {"expression": expression})).text

    async with rt:
        assert (await rt.call("box")).data == {"width": 2, "height": 3}
        assert (await rt.call("nothing")).parts == []
        soft = await rt.call("soft_error")
        assert soft.is_error and soft.text == "not today"
        with pytest.raises(llmspell.LLMSpellError, match="tool 'broken' failed: 'missing'"):
            await rt.call("broken")
        assert (await rt.call("nested", {"expression": "2 ** 5"})).text == "32"


async def test_definitions_that_cannot_be_tools() -> None:
    rt = llmspell.Runtime.create(tools=["calculator"])
    with pytest.raises(TypeError, match=r"\*args has no JSON Schema"):
        rt.define_tool(lambda *args: None, name="star")
    with pytest.raises(ValueError, match="a lambda needs a name"):
        rt.define_tool(lambda: None)

    @rt.define_tool(name="calculator")
    def clash() -> str:
        return ""

    with pytest.raises(ValueError, match="'calculator' is already registered"):
        await rt.start()
