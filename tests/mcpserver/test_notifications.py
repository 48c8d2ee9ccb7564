"""Change notifications: a reloaded script announces tools/list_changed, a changed resource
tells its subscribers. Handshake-era sessions, which have the standalone stream they ride on."""

from __future__ import annotations

import shutil
from pathlib import Path

import anyio
import mcp_types as types
from mcp import Client

from .conftest import PROFILE, Inbox, gateway

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance" / "mcp" / "llmspell.toml"


async def test_reloaded_script_sends_tools_list_changed(tmp_path: Path) -> None:
    for name in ("llmspell.toml", "tools.lua", "tools.js"):
        shutil.copy(PROFILE.parent / name, tmp_path / name)
    script = tmp_path / "tools.lua"
    with gateway("--reload", config=tmp_path / "llmspell.toml") as running:
        inbox = Inbox()
        async with Client(running.url, mode="legacy", message_handler=inbox) as client:
            before = {t.name for t in (await client.list_tools()).tools}
            assert "lua_new" not in before
            await anyio.sleep(0.3)  # let the standalone stream open
            script.write_text(
                script.read_text()
                + '\nTool.define { name = "lua_new", handler = function() return "new" end }\n'
            )
            await inbox.wait_for(types.ToolListChangedNotification)
            after = {t.name for t in (await client.list_tools()).tools}
            assert after == before | {"lua_new"}
            assert (await client.call_tool("lua_new", {})).content[0].text == "new"  # type: ignore[union-attr]


async def test_resource_subscribers_hear_updates() -> None:
    with gateway(config=CONFORMANCE) as running:
        inbox = Inbox()
        async with Client(running.url, mode="legacy", message_handler=inbox) as client:
            await client.subscribe_resource("test://watched-resource")
            await anyio.sleep(0.3)
            await client.call_tool("test_update_watched", {})
            note = await inbox.wait_for(types.ResourceUpdatedNotification)
            assert note.params.uri == "test://watched-resource"
            read = await client.read_resource("test://watched-resource")
            assert read.contents[0].text.endswith("version 1")  # type: ignore[union-attr]


async def test_prompts_resources_and_completions_from_a_script() -> None:
    with gateway(config=CONFORMANCE) as running:
        async with Client(running.url) as client:
            prompt = await client.get_prompt(
                "test_prompt_with_arguments", {"arg1": "a", "arg2": "b"}
            )
            assert prompt.messages[0].content.text == "Prompt with arguments: arg1='a', arg2='b'"  # type: ignore[union-attr]
            done = await client.complete(
                types.PromptReference(name="test_prompt_with_arguments"),
                {"name": "arg1", "value": "par"},
            )
            assert done.completion.values == ["paris", "park", "party"]
            templated = await client.read_resource("test://template/7/data")
            assert '"id":"7"' in templated.contents[0].text  # type: ignore[union-attr]
            ids = await client.complete(
                types.ResourceTemplateReference(uri="test://template/{id}/data"),
                {"name": "id", "value": "1"},
            )
            assert ids.completion.values == ["1", "123"]
