"""The A2A TCK profile (`conformance/a2a/`), driven as the kit drives it but with the `a2a-sdk`
client: every scenario of the kit's feature files on JSON-RPC, HTTP+JSON and gRPC, for the Lua
script and its JavaScript twin. The kit itself is run by hand (conformance/a2a/README.md)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_message, new_raw_part, new_text_part
from a2a.types import (
    CancelTaskRequest,
    GetTaskRequest,
    Role,
    SendMessageRequest,
    SubscribeToTaskRequest,
    TaskState,
    a2a_pb2,
    a2a_pb2_grpc,
)
from a2a.utils.errors import (
    ContentTypeNotSupportedError,
    TaskNotCancelableError,
    TaskNotFoundError,
)
from google.protobuf.json_format import MessageToDict
from mcpserver.conftest import ROOT, RunningGateway, gateway

PROFILES = {
    "lua": ROOT / "conformance" / "a2a" / "llmspell.toml",
    "js": ROOT / "conformance" / "a2a" / "llmspell-js.toml",
}
TCK_LUA = ROOT / "conformance" / "a2a" / "tck.lua"
BINDINGS = ["JSONRPC", "HTTP+JSON", "GRPC"]
STREAMING_TIMEOUT = 0.5
"""TCK_STREAMING_TIMEOUT for these runs: the resubscribe task works for twice that."""


@pytest.fixture(scope="module", params=list(PROFILES))
def sut(request: pytest.FixtureRequest) -> Iterator[RunningGateway]:
    with gateway(
        config=PROFILES[request.param],
        extra_env={"TCK_STREAMING_TIMEOUT": str(STREAMING_TIMEOUT)},
    ) as running:
        yield running


def base(running: RunningGateway) -> str:
    return running.url[: -len("/mcp")]


async def client(running: RunningGateway, binding: str, *, streaming: bool = False) -> Any:
    return await create_client(
        base(running),
        ClientConfig(
            streaming=streaming,
            supported_protocol_bindings=[binding],
            grpc_channel_factory=grpc.aio.insecure_channel,
        ),
    )


def message(prefix: str, *parts: Any, task_id: str | None = None) -> Any:
    msg = new_message(list(parts) or [new_text_part("hello")], role=Role.ROLE_USER)
    msg.message_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
    if task_id is not None:
        msg.task_id = task_id
    return msg


async def events(running: RunningGateway, binding: str, msg: Any, **kw: Any) -> list[Any]:
    c = await client(running, binding, **kw)
    try:
        return [e async for e in c.send_message(SendMessageRequest(message=msg))]
    finally:
        await c.close()


async def task_of(running: RunningGateway, binding: str, prefix: str) -> Any:
    found = await events(running, binding, message(prefix))
    assert len(found) == 1 and found[0].WhichOneof("payload") == "task"
    return found[0].task


def status_text(task: Any) -> str:
    return " ".join(p.text for p in task.status.message.parts)


def test_card_lists_every_binding(sut: RunningGateway) -> None:
    response = httpx.get(f"{base(sut)}/.well-known/agent-card.json")
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["last-modified"].endswith(" GMT") and response.headers["etag"]
    card = response.json()
    bindings = {i["protocolBinding"]: i["url"] for i in card["supportedInterfaces"]}
    assert set(bindings) == {"JSONRPC", "HTTP+JSON", "GRPC"}
    assert bindings["GRPC"].startswith("127.0.0.1:")
    assert [s["id"] for s in card["skills"]] == ["tck"]
    assert card["defaultInputModes"] == ["text/plain", "application/json"]


@pytest.mark.parametrize("binding", BINDINGS)
async def test_complete_task(sut: RunningGateway, binding: str) -> None:
    task = await task_of(sut, binding, "tck-complete-task")
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert status_text(task) == "Hello from TCK"
    assert not task.artifacts
    assert task.history[0].parts[0].text == "hello"  # the user's message is kept


@pytest.mark.parametrize("binding", BINDINGS)
async def test_artifacts(sut: RunningGateway, binding: str) -> None:
    text = await task_of(sut, binding, "tck-artifact-text")
    assert [p.text for p in text.artifacts[0].parts] == ["Generated text content"]
    file = (await task_of(sut, binding, "tck-artifact-file")).artifacts[0].parts[0]
    assert (file.raw, file.filename, file.media_type) == (b"tck", "output.txt", "text/plain")
    link = (await task_of(sut, binding, "tck-artifact-file-url")).artifacts[0].parts[0]
    assert (link.url, link.filename) == ("https://example.com/output.txt", "output.txt")
    data = (await task_of(sut, binding, "tck-artifact-data")).artifacts[0].parts[0]
    assert MessageToDict(data.data) == {"key": "value", "count": 42}
    assert text.status.state == TaskState.TASK_STATE_COMPLETED


@pytest.mark.parametrize("binding", BINDINGS)
async def test_message_instead_of_task(sut: RunningGateway, binding: str) -> None:
    for streaming in (False, True):
        found = await events(sut, binding, message("tck-message-response"), streaming=streaming)
        assert [e.WhichOneof("payload") for e in found] == ["message"]
        assert found[0].message.parts[0].text == "Direct message response"
        assert found[0].message.role == Role.ROLE_AGENT
        assert found[0].message.context_id and not found[0].message.task_id


@pytest.mark.parametrize("binding", BINDINGS)
async def test_input_required_then_continued(sut: RunningGateway, binding: str) -> None:
    task = await task_of(sut, binding, "tck-input-required")
    assert task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    assert status_text(task) == "Please provide more input"
    again = (await events(sut, binding, message("tck-input-required", task_id=task.id)))[-1]
    assert again.task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED
    follow = await events(sut, binding, message("answer", task_id=task.id))
    done = follow[-1].task
    assert done.id == task.id and done.status.state == TaskState.TASK_STATE_COMPLETED
    assert status_text(done).startswith("Unhandled messageId prefix: answer-")
    assert done.context_id == task.context_id == done.status.message.context_id
    users = [m.message_id for m in done.history if m.role == Role.ROLE_USER]
    assert len(users) == 3 and users[2].startswith("answer-")


@pytest.mark.parametrize("binding", BINDINGS)
async def test_reject(sut: RunningGateway, binding: str) -> None:
    task = await task_of(sut, binding, "tck-reject-task")
    assert task.status.state == TaskState.TASK_STATE_REJECTED
    assert status_text(task) == "rejected"


def kinds(found: list[Any]) -> list[str]:
    """`task`, `artifact`, and status updates by state name (`working`, `completed`)."""
    out = []
    for e in found:
        kind = e.WhichOneof("payload")
        if kind == "status_update":
            state = TaskState.Name(e.status_update.status.state)
            out.append(state.removeprefix("TASK_STATE_").lower())
        else:
            out.append(kind.removesuffix("_update"))
    return out


@pytest.mark.parametrize("binding", BINDINGS)
async def test_streaming_order(sut: RunningGateway, binding: str) -> None:
    for prefix, text in [
        ("tck-stream-001", "Stream hello from TCK"),
        ("tck-stream-ordering-001", "Ordered output"),
        ("tck-stream-artifact-text", "Streamed text content"),
    ]:
        found = await events(sut, binding, message(prefix), streaming=True)
        assert kinds(found) == ["task", "working", "artifact", "completed"], prefix
        assert found[0].task.status.state == TaskState.TASK_STATE_SUBMITTED
        assert found[2].artifact_update.artifact.parts[0].text == text
        assert {
            e.WhichOneof("payload") and getattr(e, e.WhichOneof("payload")).task_id
            for e in found[1:]
        } == {found[0].task.id}
    only = await events(sut, binding, message("tck-stream-002"), streaming=True)
    assert kinds(only) == ["task", "completed"]
    file = await events(sut, binding, message("tck-stream-artifact-file"), streaming=True)
    assert file[2].artifact_update.artifact.parts[0].raw == b"tck"


@pytest.mark.parametrize("binding", BINDINGS)
async def test_chunked_artifact(sut: RunningGateway, binding: str) -> None:
    found = await events(sut, binding, message("tck-stream-artifact-chunked"), streaming=True)
    assert kinds(found) == ["task", "working", "artifact", "artifact", "completed"]
    first, second = found[2].artifact_update, found[3].artifact_update
    assert first.artifact.artifact_id == second.artifact.artifact_id
    assert (first.append, first.last_chunk) == (False, False)
    assert (second.append, second.last_chunk) == (True, True)
    c = await client(sut, binding)
    stored = await c.get_task(GetTaskRequest(id=found[0].task.id))
    await c.close()
    assert len(stored.artifacts) == 1
    assert [p.text for p in stored.artifacts[0].parts] == ["chunk-1 ", "chunk-2"]


@pytest.mark.parametrize("binding", BINDINGS)
async def test_resubscribe_to_a_running_task(sut: RunningGateway, binding: str) -> None:
    streamer = await client(sut, binding, streaming=True)
    stream = streamer.send_message(
        SendMessageRequest(message=message("test-resubscribe-message-id"))
    )
    first = await anext(stream)
    task_id = first.task.id
    await stream.aclose()  # the client goes away; the task keeps working

    again = await client(sut, binding, streaming=True)
    started = asyncio.get_running_loop().time()
    resumed = [e async for e in again.subscribe(SubscribeToTaskRequest(id=task_id))]
    waited = asyncio.get_running_loop().time() - started
    await again.close()
    await streamer.close()
    assert kinds(resumed)[0] == "task" and kinds(resumed)[-1] == "completed"
    assert resumed[0].task.status.state == TaskState.TASK_STATE_WORKING
    assert 0.1 < waited < 2 * STREAMING_TIMEOUT + 3  # it waited for the task, then ended


@pytest.mark.parametrize("binding", BINDINGS)
async def test_errors(sut: RunningGateway, binding: str) -> None:
    c = await client(sut, binding)
    try:
        with pytest.raises(TaskNotFoundError):
            await c.get_task(GetTaskRequest(id=f"no-such-task-{uuid.uuid4().hex}"))
        done = await task_of(sut, binding, "tck-complete-task")
        with pytest.raises(TaskNotCancelableError):
            await c.cancel_task(CancelTaskRequest(id=done.id))
        odd = new_raw_part(b"tck", media_type="application/x-unsupported-tck-type")
        with pytest.raises(ContentTypeNotSupportedError):
            async for _ in c.send_message(SendMessageRequest(message=message("tck-x", odd))):
                pass
        unchanged = await c.get_task(GetTaskRequest(id=done.id))
        assert unchanged.status.state == TaskState.TASK_STATE_COMPLETED
    finally:
        await c.close()


async def test_cancel_a_running_task(sut: RunningGateway) -> None:
    """`task:cancelled()` lets the resubscribe scenario stop early; the task ends canceled."""
    streamer = await client(sut, "JSONRPC", streaming=True)
    stream = streamer.send_message(
        SendMessageRequest(message=message("test-resubscribe-message-id"))
    )
    task_id = (await anext(stream)).task.id
    c = await client(sut, "GRPC")
    canceled = await c.cancel_task(CancelTaskRequest(id=task_id))
    rest = [e async for e in stream]
    await c.close()
    await streamer.close()
    assert canceled.status.state == TaskState.TASK_STATE_CANCELED
    assert "completed" not in kinds(rest)


def test_without_the_grpc_extra(tmp_path: Path) -> None:
    """No grpcio (as after `pip install .` without `[grpc]`): JSON-RPC and HTTP+JSON are
    served, and the card does not advertise gRPC."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['grpc'] = None\n")
    config = tmp_path / "llmspell.toml"
    config.write_text(
        PROFILES["lua"]
        .read_text()
        .replace('path = "tck.lua"', f'path = "{TCK_LUA}"')
        .replace("grpc = true", 'grpc = "auto"')
    )
    path = f"{tmp_path}{os.pathsep}{ROOT}"
    with gateway(config=config, extra_env={"PYTHONPATH": path}) as running:
        card = httpx.get(f"{base(running)}/.well-known/agent-card.json").json()
        sent = httpx.post(
            f"{base(running)}/a2a/",
            headers={"A2A-Version": "1.0"},
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "SendMessage",
                "params": {
                    "message": {
                        "role": "ROLE_USER",
                        "messageId": "tck-complete-task-nogrpc",
                        "parts": [{"text": "hi"}],
                    }
                },
            },
        ).json()
        log = running.output()
    assert [i["protocolBinding"] for i in card["supportedInterfaces"]] == ["JSONRPC", "HTTP+JSON"]
    assert sent["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"
    assert "gRPC" not in log


async def test_error_codes_follow_the_spec_table(sut: RunningGateway) -> None:
    """Section 5.4 where the SDK differs: HTTP 415 and 409, gRPC UNIMPLEMENTED for a version
    it does not speak; and a body that is not JSON is refused before it is parsed."""
    url, version = f"{base(sut)}/a2a", {"A2A-Version": "1.0"}
    odd = {"raw": "dGNr", "mediaType": "application/x-unsupported"}
    body = {"message": {"role": "ROLE_USER", "messageId": "m-odd", "parts": [odd]}}
    done = await task_of(sut, "JSONRPC", "tck-complete-task")
    async with httpx.AsyncClient(headers=version) as http:
        media = await http.post(f"{url}/message:send", json=body)
        cancel = await http.post(f"{url}/tasks/{done.id}:cancel", json={})
        rest_text = await http.post(
            f"{url}/message:send", content=b"{}", headers={"Content-Type": "text/plain"}
        )
        rpc_text = await http.post(
            f"{url}/", content=b"{'not': 'json'}", headers={"Content-Type": "text/plain"}
        )
        card = (await http.get(f"{base(sut)}/.well-known/agent-card.json")).json()
    assert media.status_code == 415 and media.headers["content-type"] == "application/json"
    assert media.json()["error"]["details"][0]["reason"] == "CONTENT_TYPE_NOT_SUPPORTED"
    assert cancel.status_code == 409
    assert cancel.json()["error"]["details"][0]["reason"] == "TASK_NOT_CANCELABLE"
    assert rest_text.status_code == 415
    assert rpc_text.json()["error"]["code"] == -32005

    target = next(i["url"] for i in card["supportedInterfaces"] if i["protocolBinding"] == "GRPC")
    async with grpc.aio.insecure_channel(target) as channel:
        stub = a2a_pb2_grpc.A2AServiceStub(channel)
        request = a2a_pb2.GetTaskRequest(id=done.id)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetTask(request, metadata=[("a2a-version", "99.0")])
        got = await stub.GetTask(request, metadata=[("a2a-version", "1.0")])
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await stub.GetTask(a2a_pb2.GetTaskRequest(id=done.id, tenant="nobody"))
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert got.id == done.id
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
