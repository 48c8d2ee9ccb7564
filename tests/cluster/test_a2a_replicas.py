"""A2A tasks across two gateway replicas sharing a PostgreSQL task store and Redis: a task
started through replica A is read, listed, cancelled, resubscribed to and pushed through B.

Real processes: two `llmspell gateway`s, a throw-away PostgreSQL and Redis, the a2a-sdk client,
and a webhook served by this test (plain asyncio) that counts the push notifications it gets.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_text_message
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    SubscribeToTaskRequest,
    TaskPushNotificationConfig,
    TaskState,
)
from mcpserver.conftest import RunningGateway, gateway
from redis_server import running_redis

SLOW_TOOL = """
Tool.define{
  name = "slow_tool",
  description = "Works for `seconds`, saying how far it got every half second when `report`",
  input_schema = {
    type = "object",
    properties = {seconds = {type = "number"}, report = {type = "boolean"}},
    required = {"seconds"},
  },
  handler = function(args, ctx)
    local ticks = 0
    while ticks < args.seconds * 10 and not ctx:cancelled() do
      sleep(0.1)
      ticks = ticks + 1
      if args.report and ticks % 5 == 0 then
        ctx:progress(ticks, args.seconds * 10, "tick " .. ticks)
      end
    end
    return "waited " .. ticks
  end,
}
"""
CONFIG = """scripts = ["slow.lua"]
name = "a2a-replicas"
[[agents]]
name = "echoer"
model = "offline/echo"
description = "Repeats what it is told"
[a2a]
task_store = "{store}"
[cluster]
redis = "{redis}"
"""


@dataclass
class Replicas:
    a: str
    b: str
    """Each replica's base URL (no `/mcp`)."""
    running: list[RunningGateway] = field(default_factory=list)


def _folder(tmp: Path, name: str, store: str, redis: str) -> Path:
    folder = tmp / name
    folder.mkdir()
    (folder / "slow.lua").write_text(SLOW_TOOL, encoding="utf-8")
    (folder / "llmspell.toml").write_text(CONFIG.format(store=store, redis=redis))
    return folder


@pytest.fixture(scope="module")
def replicas(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    """Two replicas, each in its own folder (their own state files), sharing the task store
    (PostgreSQL, its tables dropped after) and Redis."""
    store = (
        f"postgresql://{postgres.user}:{postgres.password}@{postgres.host}:{postgres.port}"
        f"/{postgres.database}"
    )
    tmp = tmp_path_factory.mktemp("a2a-replicas")
    try:
        with running_redis() as redis:
            a_dir, b_dir = (_folder(tmp, n, store, redis.url) for n in ("a", "b"))
            with (
                gateway(config=a_dir / "llmspell.toml", cwd=a_dir) as a,
                gateway(config=b_dir / "llmspell.toml", cwd=b_dir) as b,
            ):
                yield Replicas(a.url[: -len("/mcp")], b.url[: -len("/mcp")], [a, b])
    finally:
        postgres.psql("DROP TABLE IF EXISTS tasks, push_notification_configs")


async def client(base: str, agent: str, *, streaming: bool = False) -> Any:
    return await create_client(
        f"{base}/a2a/{agent}",
        ClientConfig(streaming=streaming, supported_protocol_bindings=["JSONRPC"]),
    )


def slow(seconds: float, *, report: bool = False, background: bool = False) -> SendMessageRequest:
    text = json.dumps({"seconds": seconds, "report": report})
    return SendMessageRequest(
        message=new_text_message(text, role=Role.ROLE_USER),
        configuration=SendMessageConfiguration(return_immediately=background),
    )


async def working(reader: Any, task_id: str) -> None:
    for _ in range(100):
        got = await reader.get_task(GetTaskRequest(id=task_id))
        if got.status.state == TaskState.TASK_STATE_WORKING:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} never worked: {got.status.state}")


async def test_a_task_done_on_a_is_read_and_listed_on_b(replicas: Replicas) -> None:
    on_a, on_b = await client(replicas.a, "echoer"), await client(replicas.b, "echoer")
    try:
        events = [
            e
            async for e in on_a.send_message(
                SendMessageRequest(message=new_text_message("hello", role=Role.ROLE_USER))
            )
        ]
        task = events[-1].task
        assert task.status.state == TaskState.TASK_STATE_COMPLETED
        got = await on_b.get_task(GetTaskRequest(id=task.id))
        listed = await on_b.list_tasks(ListTasksRequest(include_artifacts=True))
    finally:
        await on_a.close()
        await on_b.close()
    assert got.status.state == TaskState.TASK_STATE_COMPLETED
    assert got.artifacts[0].parts[0].text == "echo: hello"
    mine = {t.id: t for t in listed.tasks}[task.id]
    assert mine.artifacts[0].parts[0].text == "echo: hello"


async def test_a_cancel_through_b_stops_the_call_on_a(replicas: Replicas) -> None:
    on_a = await client(replicas.a, "slow_tool", streaming=True)
    on_b = await client(replicas.b, "slow_tool")
    try:
        stream = on_a.send_message(slow(60))
        task_id = (await anext(stream)).task.id
        await working(on_b, task_id)
        asked = time.monotonic()
        cancelled = await on_b.cancel_task(CancelTaskRequest(id=task_id))
        answered = time.monotonic() - asked
        async with asyncio.timeout(10):  # A's own stream: A's executor ended the task
            rest = [e async for e in stream]
        stopped = time.monotonic() - asked
        read_a = await on_a.get_task(GetTaskRequest(id=task_id))
        read_b = await on_b.get_task(GetTaskRequest(id=task_id))
        await asyncio.sleep(0.5)  # nothing overwrites it later
        again = await on_b.get_task(GetTaskRequest(id=task_id))
    finally:
        await on_a.close()
        await on_b.close()
    print(f"cancel through B answered in {answered:.3f} s; A's stream ended after {stopped:.3f} s")
    assert cancelled.status.state == TaskState.TASK_STATE_CANCELED
    assert answered < 3.0  # the running replica ended it, not the fallback write
    assert rest[-1].status_update.status.state == TaskState.TASK_STATE_CANCELED
    assert stopped < 5.0  # the 60 s call stopped
    assert read_a.status.state == TaskState.TASK_STATE_CANCELED
    assert read_b.status.state == TaskState.TASK_STATE_CANCELED
    assert again.status.state == TaskState.TASK_STATE_CANCELED


async def test_a_stream_on_a_is_resubscribed_through_b(replicas: Replicas) -> None:
    on_a = await client(replicas.a, "slow_tool")
    on_b = await client(replicas.b, "slow_tool", streaming=True)
    try:
        task_id = [e async for e in on_a.send_message(slow(2.5, report=True, background=True))][
            -1
        ].task.id
        await working(on_b, task_id)
        async with asyncio.timeout(10):
            seen = [e async for e in on_b.subscribe(SubscribeToTaskRequest(id=task_id))]
    finally:
        await on_a.close()
        await on_b.close()
    kinds = [e.WhichOneof("payload") for e in seen]
    assert kinds[0] == "task"  # the stored state first
    texts = [
        e.status_update.status.message.parts[0].text
        for e in seen
        if kinds
        and e.WhichOneof("payload") == "status_update"
        and e.status_update.status.message.parts
    ]
    assert any(t.startswith("tick ") for t in texts), texts  # later updates, from Redis
    assert "artifact_update" in kinds
    assert seen[-1].status_update.status.state == TaskState.TASK_STATE_COMPLETED


@dataclass
class Webhook:
    url: str
    bodies: list[dict[str, Any]]


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    """An HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it and answers 200."""
    bodies: list[dict[str, Any]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                bodies.append(json.loads(await reader.readexactly(length)))
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield Webhook(f"http://127.0.0.1:{port}/hook", bodies)
    finally:
        server.close()
        await server.wait_closed()


async def test_a_push_config_set_on_b_is_delivered_once(
    replicas: Replicas, webhook: Webhook
) -> None:
    on_a = await client(replicas.a, "slow_tool")
    on_b = await client(replicas.b, "slow_tool")
    try:
        task_id = [e async for e in on_a.send_message(slow(1.5, report=True, background=True))][
            -1
        ].task.id
        await on_b.create_task_push_notification_config(
            TaskPushNotificationConfig(task_id=task_id, url=webhook.url)
        )
        for _ in range(100):
            got = await on_b.get_task(GetTaskRequest(id=task_id))
            if got.status.state == TaskState.TASK_STATE_COMPLETED:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # any late copy would arrive by now
    finally:
        await on_a.close()
        await on_b.close()
    assert got.status.state == TaskState.TASK_STATE_COMPLETED
    shown = [json.dumps(b, sort_keys=True) for b in webhook.bodies]
    assert shown and len(shown) == len(set(shown)), shown  # no notification twice
    ends = [b for b in webhook.bodies if b.get("statusUpdate", {}).get("status", {}).get("state")
            == "TASK_STATE_COMPLETED"]  # fmt: skip
    assert len(ends) == 1, webhook.bodies
    assert any("artifactUpdate" in b for b in webhook.bodies)


async def test_a_late_subscriber_still_sees_the_end() -> None:
    """The stream in-process, on a real Redis: a subscriber gets what is published while it
    listens, as the SDK's JSON, and one that subscribes after the task ended gets the end at
    once (pub/sub keeps nothing; the SDK reads its snapshot before it subscribes)."""
    import redis.asyncio
    from a2a.server.cluster import TaskVersion, VersionedEvent
    from a2a.types import TaskStatus, TaskStatusUpdateEvent
    from llmspell.protocols.a2a.replicas import TaskEvents

    def status(state: TaskState) -> VersionedEvent:
        update = TaskStatusUpdateEvent(
            task_id="t1", context_id="c1", status=TaskStatus(state=state)
        )
        return VersionedEvent(update, TaskVersion.MISSING)

    with running_redis() as server:
        client = redis.asyncio.from_url(server.url)
        events = TaskEvents(client, "test:a2a")
        try:
            raw = client.pubsub()
            await raw.subscribe(events.channel("t1"))
            listening = events.subscribe("t1", after=TaskVersion.MISSING)
            first = asyncio.ensure_future(anext(listening))
            await asyncio.sleep(0.2)  # its subscription stands
            await events.publish("t1", status(TaskState.TASK_STATE_WORKING))
            async with asyncio.timeout(5):
                live = (await first).event
                await events.publish("t1", status(TaskState.TASK_STATE_COMPLETED))
                ended = (await anext(listening)).event
                await listening.aclose()
                late = [e.event async for e in events.subscribe("t1", after=TaskVersion.MISSING)]
                wire = None
                while wire is None or wire["type"] != "message":
                    wire = await raw.get_message(timeout=1)
            await raw.aclose()
        finally:
            await events.aclose()
            await client.aclose()
    assert live.status.state == TaskState.TASK_STATE_WORKING
    assert ended.status.state == TaskState.TASK_STATE_COMPLETED
    assert [e.status.state for e in late] == [TaskState.TASK_STATE_COMPLETED]
    assert json.loads(wire["data"])["statusUpdate"]["status"]["state"] == "TASK_STATE_WORKING"
