"""Remote MCP servers federated through a running gateway: the npm reference servers
(server-everything over stdio and Streamable HTTP, server-filesystem over stdio) and a Python
server on the `mcp` SDK, all real processes on loopback, reached with the SDK's own client."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from llmspell.conformance.peers.mcp_server import png as make_png
from mcp import Client, StdioServerParameters

from .conftest import (
    EVERYTHING,
    FILESYSTEM,
    NODE,
    HttpPeer,
    RunningGateway,
    everything_http,
    free_port,
    gateway,
    llmspell,
    peers,
    py_peer,
)

SECRET = "s3cr3t-token-value"


@dataclass
class Federated:
    gateway: RunningGateway
    config: Path
    files: Path
    py: HttpPeer
    everything: HttpPeer


def write_config(tmp: Path, py: HttpPeer, everything: HttpPeer, sse: HttpPeer, files: Path) -> Path:
    """The inline `mcpServers` table plus an IDE-style mcp.json for the filesystem server."""
    (tmp / "mcp.json").write_text(
        json.dumps(
            {
                "mcpServers": {
                    "fs": {
                        "command": str(NODE),
                        "args": [str(FILESYSTEM), str(files)],
                        "include": ["read_*", "list_directory"],
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    config = tmp / "llmspell.toml"
    config.write_text(
        f"""
name = "federation-test"
builtins = false
mcp_servers_file = "mcp.json"

[federation]
startup_wait = 30

[mcpServers.everything]
command = "{NODE}"
args = ["{EVERYTHING}", "stdio"]
exclude = ["get-env", "*url*"]

[mcpServers.everything_http]
url = "{everything.url}"
timeout = 8

[mcpServers.legacy]
type = "sse"
url = "http://127.0.0.1:{sse.port}/sse"
include = ["echo"]

[mcpServers.py]
url = "{py.url}"
headers = {{ Authorization = "Bearer ${{LLMSPELL_TEST_SECRET}}" }}

[mcpServers.dead]
url = "http://127.0.0.1:{free_port()}/mcp"
connect_timeout = 2
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federated]:
    tmp = tmp_path_factory.mktemp("federation")
    files = tmp / "files"
    (files / "sub").mkdir(parents=True)
    (files / "notes.txt").write_text("federated hello\n", encoding="utf-8")
    with peers(
        py_peer(free_port()), everything_http(free_port()), everything_http(free_port(), "sse")
    ) as (py, everything, sse):
        config = write_config(tmp, py, everything, sse, files)
        import os

        os.environ["LLMSPELL_TEST_SECRET"] = SECRET
        try:
            with gateway(config=config, timeout=60) as running:
                yield Federated(running, config, files, py, everything)
        finally:
            os.environ.pop("LLMSPELL_TEST_SECRET", None)


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def test_tools_of_every_server_are_listed_under_their_namespace(fed: Federated) -> None:
    async with Client(fed.gateway.url) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    for server in ("everything", "everything_http"):
        assert {f"{server}.echo", f"{server}.get-sum", f"{server}.get-tiny-image"} <= set(tools)
    assert {"fs.read_text_file", "fs.list_directory", "py.echo", "py.add"} <= set(tools)
    # include/exclude globs, per server
    assert "everything.get-env" not in tools and "everything_http.get-env" in tools
    assert not any(n.startswith("everything.") and "url" in n for n in tools)
    assert "fs.write_file" not in tools and "fs.read_multiple_files" in tools
    # schema, output schema and annotations survive the trip
    echo = tools["everything.echo"]
    assert echo.input_schema["required"] == ["message"]
    assert echo.annotations is not None and echo.annotations.read_only_hint is True
    assert tools["py.add"].output_schema is not None
    # the dead server is left out; nothing else is
    assert not any(n.startswith("dead.") for n in tools)


async def test_calls_reach_each_server(fed: Federated) -> None:
    async with Client(fed.gateway.url) as client:
        echoed = await client.call_tool("everything.echo", {"message": "via stdio"})
        assert text(echoed) == "Echo: via stdio"
        echoed = await client.call_tool("everything_http.echo", {"message": "via http"})
        assert text(echoed) == "Echo: via http"
        echoed = await client.call_tool("legacy.echo", {"message": "via sse"})
        assert text(echoed) == "Echo: via sse"
        summed = await client.call_tool("everything.get-sum", {"a": 2, "b": 40})
        assert "42" in text(summed)
        added = await client.call_tool("py.add", {"a": 20, "b": 22})
        assert added.structured_content == {"sum": 42} and not added.is_error
        read = await client.call_tool("fs.read_text_file", {"path": str(fed.files / "notes.txt")})
        assert text(read) == "federated hello\n"
        listed = await client.call_tool("fs.list_directory", {"path": str(fed.files)})
        assert "[FILE] notes.txt" in text(listed) and "[DIR] sub" in text(listed)


async def test_progress_of_a_long_running_tool_reaches_the_caller(fed: Federated) -> None:
    for server in ("everything", "everything_http"):
        seen: list[tuple[float, float | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append((progress, total))  # noqa: B023 - awaited within the iteration

        async with Client(fed.gateway.url) as client:
            done = await client.call_tool(
                f"{server}.trigger-long-running-operation",
                {"duration": 1, "steps": 4},
                progress_callback=on_progress,
            )
        assert not done.is_error, text(done)
        assert [p for p, _ in seen] == [1, 2, 3, 4] and all(t == 4 for _, t in seen)


async def test_images_arrive_intact(fed: Federated) -> None:
    """Byte for byte what the server sends when called directly."""
    direct_params = StdioServerParameters(command=str(NODE), args=[str(EVERYTHING), "stdio"])
    async with Client(direct_params) as direct:
        original = await direct.call_tool("get-tiny-image", {})
    async with Client(fed.gateway.url) as client:
        proxied = await client.call_tool("everything.get-tiny-image", {})
        py_image = await client.call_tool("py.image", {})
    images = [c for c in proxied.content if isinstance(c, types.ImageContent)]
    expected = [c for c in original.content if isinstance(c, types.ImageContent)]
    assert images and [(i.data, i.mime_type) for i in images] == [
        (e.data, e.mime_type) for e in expected
    ]
    assert [c.model_dump() for c in proxied.content] == [c.model_dump() for c in original.content]
    png = py_image.content[0]
    assert isinstance(png, types.ImageContent) and png.mime_type == "image/png"
    assert base64.b64decode(png.data) == make_png()


async def test_many_calls_share_one_upstream_session(fed: Federated) -> None:
    async with Client(fed.gateway.url) as client:
        before = (await client.call_tool("py.sessions", {})).structured_content
        await asyncio.gather(*(client.call_tool("py.echo", {"message": str(i)}) for i in range(25)))
    async with Client(fed.gateway.url) as second_downstream:
        after = (await second_downstream.call_tool("py.sessions", {})).structured_content
    assert before is not None and after is not None
    assert after["calls"] == before["calls"] + 26
    assert before["sessions"] == after["sessions"] == 1


async def test_bad_arguments_are_refused_without_a_round_trip(fed: Federated) -> None:
    async with Client(fed.gateway.url) as client:
        before = (await client.call_tool("py.sessions", {})).structured_content
        bad = await client.call_tool("py.add", {"a": "forty", "b": 2})
        missing = await client.call_tool("fs.read_text_file", {})
        after = (await client.call_tool("py.sessions", {})).structured_content
    assert bad.is_error and "'a'" in text(bad) and "integer" in text(bad)
    assert missing.is_error and "path" in text(missing)
    assert before is not None and after is not None
    assert after["calls"] == before["calls"] + 1  # only the second sessions call arrived


async def test_headers_expand_env_and_secrets_stay_out_of_the_log(fed: Federated) -> None:
    async with Client(fed.gateway.url) as client:
        seen = await client.call_tool("py.whoami", {})
    assert text(seen) == f"Bearer {SECRET}"
    assert SECRET not in fed.gateway.output()


async def test_upstream_sampling_is_answered_by_the_downstream_client(fed: Federated) -> None:
    asked: list[str] = []

    async def sampling(
        context: Any, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        block = params.messages[0].content
        asked.append(block.text if isinstance(block, types.TextContent) else "")
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(text="forty-two"), model="downstream"
        )

    async with Client(fed.gateway.url, sampling_callback=sampling, mode="legacy") as client:
        answer = await client.call_tool("py.ask_model", {"prompt": "meaning of life?"})
    assert text(answer) == "model said: forty-two"
    assert asked == ["meaning of life?"]

    async with Client(fed.gateway.url, mode="legacy") as no_sampling:
        refused = await no_sampling.call_tool("py.ask_model", {"prompt": "anyone?"})
    assert refused.is_error and "sampling" in text(refused)


async def test_downstream_cancel_cancels_the_upstream_call(fed: Federated) -> None:
    async with Client(fed.gateway.url) as client:
        before = (await client.call_tool("py.sessions", {})).structured_content
        assert before is not None
        call = asyncio.create_task(client.call_tool("py.slow", {"steps": 200, "delay": 0.05}))
        await asyncio.sleep(0.8)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        for _ in range(100):
            now = (await client.call_tool("py.sessions", {})).structured_content
            assert now is not None
            if now["cancelled"] > before["cancelled"]:
                break
            await asyncio.sleep(0.05)
        assert now["cancelled"] == before["cancelled"] + 1


async def test_upstream_list_changed_reaches_the_downstream_client(fed: Federated) -> None:
    changed = asyncio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            changed.set()

    async with Client(fed.gateway.url, message_handler=on_message, mode="legacy") as client:
        await client.list_tools()
        await client.call_tool("py.grow", {"name": "sprout"})
        await asyncio.wait_for(changed.wait(), 10)
        tools = {t.name for t in (await client.list_tools()).tools}
        assert "py.sprout" in tools
        grown = await client.call_tool("py.sprout", {})
    assert text(grown) == "I am sprout"


async def test_prompts_and_resources_are_federated(fed: Federated) -> None:
    async with Client(fed.gateway.url) as client:
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        assert "py.greet" in prompts and "everything.simple-prompt" in prompts
        got = await client.get_prompt("py.greet", {"name": "Ada"})
        assert got.messages[0].content.text == "Say hello to Ada."  # type: ignore[union-attr]
        resources = {str(r.uri) for r in (await client.list_resources()).resources}
        assert "peer://info" in resources
        read = await client.read_resource("peer://info")
    assert read.contents[0].text == "py-peer test upstream"  # type: ignore[union-attr]


def test_dead_upstream_is_reported_and_the_rest_serve(fed: Federated) -> None:
    out = llmspell("mcp", "status", "--url", fed.gateway.url[: -len("/mcp")], "--json")
    assert out.returncode == 1, out.stderr  # degraded: one upstream is down
    states = {s["name"]: s for s in json.loads(out.stdout)}
    assert states["dead"]["state"] != "ready" and states["dead"]["error"]
    ready = ("everything", "everything_http", "legacy", "fs", "py")
    assert all(states[n]["state"] == "ready" for n in ready)
    assert states["legacy"]["transport"] == "sse" and states["legacy"]["tools"] == 1
    assert SECRET not in out.stdout


def test_cli_lists_servers_and_runs_a_remote_tool(fed: Federated) -> None:
    listed = llmspell(
        "mcp", "list", "--config", str(fed.config), extra_env={"LLMSPELL_TEST_SECRET": SECRET}
    )
    assert listed.returncode == 1  # `dead` is down
    assert "py.add" in listed.stdout and "fs.read_text_file" in listed.stdout
    lines = {
        line.split()[0]: line
        for line in listed.stdout.splitlines()
        if line and not line.startswith(" ")
    }
    assert (
        "ready" in lines["everything"] and "ready" in lines["py"] and "ready" not in lines["dead"]
    )
    ran = llmspell(
        "tool",
        "run",
        "py.add",
        "--args",
        '{"a": 2, "b": 3}',
        "--config",
        str(fed.config),
        extra_env={"LLMSPELL_TEST_SECRET": SECRET},
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"sum": 5}
    fs_only = llmspell(
        "tool",
        "run",
        "fs.read_text_file",
        "--args",
        json.dumps({"path": str(fed.files / "notes.txt")}),
        "--mcp-config",
        str(fed.config.parent / "mcp.json"),
    )
    assert fs_only.returncode == 0, fs_only.stderr
    assert fs_only.stdout == "federated hello\n\n"


async def test_upstream_elicitation_is_answered_by_the_downstream_client(fed: Federated) -> None:
    asked: list[str] = []

    async def elicitation(context: Any, params: Any) -> types.ElicitResult:
        asked.append(params.message)
        assert "name" in params.requested_schema["properties"]
        return types.ElicitResult(action="accept", content={"name": "Ada Lovelace"})

    async with Client(fed.gateway.url, elicitation_callback=elicitation, mode="legacy") as client:
        answer = await client.call_tool("everything.trigger-elicitation-request", {})
    assert not answer.is_error, text(answer)
    assert "- Name: Ada Lovelace" in text(answer)
    assert asked == ["Please provide inputs for the following fields:"]
