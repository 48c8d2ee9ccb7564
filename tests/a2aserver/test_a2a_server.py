"""Catalog agents served over A2A by a running gateway, reached with the `a2a-sdk` client over
JSON-RPC and HTTP+JSON; tasks in the SQLite store outlive a SIGKILL of the gateway."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import grpc.aio
import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import (
    new_data_part,
    new_message,
    new_text_message,
    new_text_part,
)
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    TaskState,
)
from a2a.utils.errors import TaskNotFoundError
from google.protobuf.json_format import MessageToJson
from mcpserver.conftest import gateway

BINDINGS = ["JSONRPC", "HTTP+JSON", "GRPC"]
SLOW_TOOL = """
Tool.define{
  name = "slow_tool",
  description = "Works for `seconds`, stopping early when cancelled",
  input_schema = {type = "object", properties = {seconds = {type = "number"}}, required = {"seconds"}},
  handler = function(args, ctx)
    local waited = 0
    while waited < args.seconds and not ctx:cancelled() do
      sleep(0.1)
      waited = waited + 0.1
    end
    return "waited"
  end,
}
"""


def write_config(tmp: Path, *, slow_tool: bool = False) -> Path:
    """The test gateway: built-ins and an echo agent, plus `slow_tool` (a Lua script) when
    asked."""
    scripts = ""
    if slow_tool:
        (tmp / "slow.lua").write_text(SLOW_TOOL, encoding="utf-8")
        scripts = 'scripts = ["slow.lua"]\n'
    config = tmp / "llmspell.toml"
    config.write_text(
        scripts
        + """
name = "a2a-test"
builtins = true
[[agents]]
name = "echoer"
model = "offline/echo"
description = "Repeats what it is told"
""",
        encoding="utf-8",
    )
    return config


def base(url: str) -> str:
    return url[: -len("/mcp")]


async def client_for(url: str, binding: str, *, streaming: bool = False) -> Any:
    return await create_client(
        f"{base(url)}/a2a/echoer",
        ClientConfig(
            streaming=streaming,
            supported_protocol_bindings=[binding],
            grpc_channel_factory=grpc.aio.insecure_channel,
        ),
    )


async def send(client: Any, text: str) -> list[Any]:
    return [
        e
        async for e in client.send_message(
            SendMessageRequest(message=new_text_message(text, role=Role.ROLE_USER))
        )
    ]


def test_agent_cards_are_served(tmp_path: Path) -> None:
    with gateway(config=write_config(tmp_path), cwd=tmp_path) as running:
        root = httpx.get(f"{base(running.url)}/.well-known/agent-card.json").json()
        own = httpx.get(f"{base(running.url)}/a2a/echoer/.well-known/agent-card.json").json()
    assert root["name"] == "a2a-test"
    skills = [s["id"] for s in root["skills"]]
    assert skills[0] == "echoer" and "calculator" in skills  # agents first, tools too
    assert root["supportedInterfaces"][0]["url"] == f"{base(running.url)}/a2a/"
    assert own["name"] == "echoer" and [s["id"] for s in own["skills"]] == ["echoer"]
    assert own["capabilities"] == {"streaming": True, "pushNotifications": True}
    bindings = {i["protocolBinding"]: i["url"] for i in own["supportedInterfaces"]}
    grpc_target = bindings.pop("GRPC")  # the grpc extra is installed here: one server for all
    assert bindings == {
        "JSONRPC": f"{base(running.url)}/a2a/echoer/",
        "HTTP+JSON": f"{base(running.url)}/a2a/echoer",
    }
    assert grpc_target.startswith("127.0.0.1:")
    tenants = {i["protocolBinding"]: i.get("tenant") for i in own["supportedInterfaces"]}
    assert tenants["GRPC"] == "echoer"
    assert "tenant" not in root["supportedInterfaces"][2]  # the gateway itself: no tenant


@pytest.mark.parametrize("binding", BINDINGS)
async def test_send_stream_get_and_list_tasks(tmp_path: Path, binding: str) -> None:
    with gateway(config=write_config(tmp_path), cwd=tmp_path) as running:
        client = await client_for(running.url, binding)
        events = await send(client, "hello over a2a")
        task = events[-1].task
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert task.artifacts[0].parts[0].text == "echo: hello over a2a"

        streamer = await client_for(running.url, binding, streaming=True)
        streamed = await send(streamer, "streamed")
        kinds = [e.WhichOneof("payload") for e in streamed]
        assert kinds[0] == "task" and "artifact_update" in kinds
        assert streamed[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED
        states = [
            e.status_update.status.state
            for e in streamed
            if e.WhichOneof("payload") == "status_update"
        ]
        assert states[0] == TaskState.TASK_STATE_WORKING

        got = await client.get_task(GetTaskRequest(id=task.id))
        assert got.status.state == TaskState.TASK_STATE_COMPLETED
        assert got.artifacts[0].parts[0].text == "echo: hello over a2a"
        listed = await client.list_tasks(ListTasksRequest())
        assert {task.id, streamed[0].task.id} <= {t.id for t in listed.tasks}

        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id="no-such-task"))
        again = await send(client, "still serving")  # the error left the server serving
        assert again[-1].task.status.state == TaskState.TASK_STATE_COMPLETED
        await client.close()
        await streamer.close()


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
async def test_tasks_survive_a_sigkill(
    tmp_path: Path, store: str, request: pytest.FixtureRequest
) -> None:
    """Killed while one task runs and after another finished: both are listed after a restart,
    with the state each last had and the artifacts it produced; in the SQLite file, or in a
    PostgreSQL database (`[a2a] task_store = URL`, the password from the environment)."""
    config = write_config(tmp_path, slow_tool=True)
    extra: dict[str, str] = {}
    if store == "postgres":
        server = request.getfixturevalue("postgres")
        user, secret = server.user, server.password
        url = f"postgresql://{user}:${{A2A_PG}}@{server.host}:{server.port}/{server.database}"
        config.write_text(config.read_text() + f'[a2a]\ntask_store = "{url}"\n')
        extra = {"A2A_PG": secret}
        request.addfinalizer(
            lambda: server.psql("DROP TABLE IF EXISTS tasks, push_notification_configs")
        )
    with gateway(config=config, cwd=tmp_path, extra_env=extra) as running:
        client = await client_for(running.url, "JSONRPC")
        done = (await send(client, "remember me"))[-1].task
        slow = await create_client(
            f"{base(running.url)}/a2a/slow_tool",
            ClientConfig(streaming=False, supported_protocol_bindings=["JSONRPC"]),
        )
        request = SendMessageRequest(
            message=new_text_message('{"seconds": 60}', role=Role.ROLE_USER),
            configuration=SendMessageConfiguration(return_immediately=True),
        )
        running_task = [e async for e in slow.send_message(request)][-1].task
        for _ in range(50):
            now = await slow.get_task(GetTaskRequest(id=running_task.id))
            if now.status.state == TaskState.TASK_STATE_WORKING:
                break
            await asyncio.sleep(0.1)
        assert now.status.state == TaskState.TASK_STATE_WORKING
        await client.close()
        await slow.close()
        running.process.kill()  # SIGKILL mid-task: no shutdown hooks run
        running.process.wait()
    assert (tmp_path / ".llmspell" / "a2a.db").is_file() == (store == "sqlite")
    with gateway(config=config, cwd=tmp_path, extra_env=extra) as restarted:
        client = await client_for(restarted.url, "HTTP+JSON")
        listed = {t.id: t for t in (await client.list_tasks(ListTasksRequest())).tasks}
        got = await client.get_task(GetTaskRequest(id=done.id))
        await client.close()
    assert got.status.state == TaskState.TASK_STATE_COMPLETED
    assert got.artifacts[0].parts[0].text == "echo: remember me"
    assert listed[done.id].status.state == TaskState.TASK_STATE_COMPLETED
    assert listed[running_task.id].status.state == TaskState.TASK_STATE_WORKING


@pytest.mark.parametrize("binding", BINDINGS)
async def test_cancel_a_long_task(tmp_path: Path, binding: str) -> None:
    config = write_config(tmp_path, slow_tool=True)
    with gateway(config=config, cwd=tmp_path) as running:
        slow = await create_client(
            f"{base(running.url)}/a2a/slow_tool",
            ClientConfig(
                streaming=True,
                supported_protocol_bindings=[binding],
                grpc_channel_factory=grpc.aio.insecure_channel,
            ),
        )
        request = SendMessageRequest(
            message=new_text_message('{"seconds": 60}', role=Role.ROLE_USER)
        )
        stream = slow.send_message(request)
        first = await anext(stream)
        task_id = first.task.id
        for _ in range(50):
            if (
                await slow.get_task(GetTaskRequest(id=task_id))
            ).status.state == TaskState.TASK_STATE_WORKING:
                break
            await asyncio.sleep(0.1)
        cancelled = await slow.cancel_task(CancelTaskRequest(id=task_id))
        rest = [e async for e in stream]
        await slow.close()
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert rest[-1].status_update.status.state == TaskState.TASK_STATE_CANCELED


def test_cli_card_and_send(tmp_path: Path) -> None:
    from mcpserver.conftest import llmspell

    with gateway(config=write_config(tmp_path), cwd=tmp_path) as running:
        agent = f"{base(running.url)}/a2a/echoer"
        card = llmspell("a2a", "card", agent)
        sent = llmspell("a2a", "send", agent, "ping", "--stream")
    assert card.returncode == 0 and json.loads(card.stdout)["name"] == "echoer"
    assert sent.returncode == 0, sent.stderr
    assert "echo: ping" in sent.stdout and "[completed]" in sent.stderr
    nobody = llmspell("a2a", "send", "http://127.0.0.1:9/a2a/none", "ping")
    assert nobody.returncode == 1 and "agent card" in nobody.stderr


@pytest.mark.parametrize("binding", BINDINGS)
async def test_tools_are_skills(tmp_path: Path, binding: str) -> None:
    """A tool's own endpoint takes text for its one string argument; the gateway endpoint
    takes the skill in message metadata and the arguments as a data part."""
    with gateway(config=write_config(tmp_path), cwd=tmp_path) as running:
        calc = await create_client(
            f"{base(running.url)}/a2a/calculator",
            ClientConfig(
                streaming=False,
                supported_protocol_bindings=[binding],
                grpc_channel_factory=grpc.aio.insecure_channel,
            ),
        )
        task = (await send(calc, "6 * 7"))[-1].task
        await calc.close()
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        assert "42" in MessageToJson(task.artifacts[0])

        gw = await create_client(
            f"{base(running.url)}/a2a",
            ClientConfig(
                streaming=False,
                supported_protocol_bindings=[binding],
                grpc_channel_factory=grpc.aio.insecure_channel,
            ),
        )
        message = new_message([new_data_part({"expression": "2 ** 10"})], role=Role.ROLE_USER)
        message.metadata.update({"skill": "calculator"})
        by_skill = [e async for e in gw.send_message(SendMessageRequest(message=message))][-1].task
        default = (await send(gw, "who answers?"))[-1].task
        unknown = new_message([new_text_part("x")], role=Role.ROLE_USER)
        unknown.metadata.update({"skill": "no-such-skill"})
        refused = [e async for e in gw.send_message(SendMessageRequest(message=unknown))][-1].task
        await gw.close()
    assert by_skill.status.state == TaskState.TASK_STATE_COMPLETED
    assert "1024" in MessageToJson(by_skill.artifacts[0])
    assert default.artifacts[0].parts[0].text == "echo: who answers?"  # the default agent
    assert refused.status.state == TaskState.TASK_STATE_REJECTED
    assert "no-such-skill" in MessageToJson(refused.status.message)


def test_independent_js_client(tmp_path: Path) -> None:
    """@a2a-js/sdk fetches the card, sends, streams to completion, gets and lists tasks, and
    cancels a long task."""
    from mcpserver.conftest import NODE, ROOT

    config = write_config(tmp_path, slow_tool=True)
    with gateway(config=config, cwd=tmp_path) as running:
        run = subprocess.run(
            [
                str(NODE),
                str(Path(__file__).with_name("js_client.mjs")),
                f"{base(running.url)}/a2a/echoer",
                f"{base(running.url)}/a2a/slow_tool",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
    assert run.returncode == 0, run.stdout + run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["card"] == "echoer"
    assert seen["sent"] == {"state": "TASK_STATE_COMPLETED", "text": "echo: from node"}
    assert seen["stream"]["first"] == "task" and seen["stream"]["last"] == "TASK_STATE_COMPLETED"
    assert {"artifactUpdate", "statusUpdate"} <= set(seen["stream"]["kinds"])
    assert seen["got"] == "TASK_STATE_COMPLETED" and seen["listed"] is True
    assert seen["long_before"] in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
    assert seen["long_after"] == "TASK_STATE_CANCELED"
