"""Bad A2A input, sent raw over JSON-RPC to a live gateway: each case gets the spec's error and
the gateway keeps serving."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcpserver.conftest import RunningGateway, gateway

HEADERS = {"content-type": "application/json", "A2A-Version": "1.0"}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("bad")
    config = tmp / "llmspell.toml"
    config.write_text(
        'builtins = false\n[a2a]\ntask_store = "memory"\n'
        '[[agents]]\nname = "echoer"\nmodel = "offline/echo"\n',
        encoding="utf-8",
    )
    running: RunningGateway
    with gateway(config=config, cwd=tmp) as running:
        yield running.url[: -len("/mcp")] + "/a2a/echoer/"


def rpc(url: str, method: str, params: Any, raw: str | None = None) -> dict[str, Any]:
    body = (
        raw
        if raw is not None
        else json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    )
    reply: dict[str, Any] = httpx.post(url, content=body, headers=HEADERS, timeout=30).json()
    return reply


def message(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"messageId": f"m-{text}", "role": "ROLE_USER", "parts": [{"text": text}], **extra}


def completed_task(url: str) -> str:
    task = rpc(url, "SendMessage", {"message": message("finish me")})["result"]["task"]
    assert task["status"]["state"] == "TASK_STATE_COMPLETED"
    return str(task["id"])


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("GetTask", {"id": "no-such-task"}, -32001),  # TaskNotFoundError
        ("CancelTask", {"id": "no-such-task"}, -32001),
        ("SendMessage", {"message": "not an object"}, -32602),  # invalid params
        ("SendMessage", {"message": {"messageId": "m", "role": "ROLE_USER"}}, -32602),
        (
            "SendMessage",
            {
                "message": {
                    "messageId": "v",
                    "role": "ROLE_USER",
                    "parts": [{"raw": "AAAA", "mediaType": "video/mp4"}],
                }
            },
            -32005,  # ContentTypeNotSupportedError
        ),
        ("NoSuchMethod", {}, -32601),
    ],
)
def test_bad_requests_get_the_spec_error(
    endpoint: str, method: str, params: Any, code: int
) -> None:
    reply = rpc(endpoint, method, params)
    assert reply["error"]["code"] == code, reply
    again = rpc(endpoint, "SendMessage", {"message": message("still here")})
    assert again["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED"


def test_finished_tasks_refuse_messages_and_cancel(endpoint: str) -> None:
    task_id = completed_task(endpoint)
    sent = rpc(endpoint, "SendMessage", {"message": message("more", taskId=task_id)})
    assert sent["error"]["code"] == -32004 and "terminal" in sent["error"]["message"]  # unsupported
    cancelled = rpc(endpoint, "CancelTask", {"id": task_id})
    assert cancelled["error"]["code"] == -32002  # TaskNotCancelableError


def test_malformed_json_is_a_parse_error(endpoint: str) -> None:
    reply = rpc(endpoint, "", None, raw="{not json")
    assert reply["error"]["code"] == -32700 and reply["id"] is None
