"""Push notifications: a config given with the message, and one created by CRUD on a running
task, each deliver the task's updates to a real webhook server on loopback."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_text_message
from a2a.types import (
    GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    TaskPushNotificationConfig,
)
from mcpserver.conftest import gateway

Received = list[tuple[dict[str, str], dict[str, Any]]]


@pytest.fixture
def webhook() -> Iterator[tuple[str, Received]]:
    received: Received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received.append((dict(self.headers), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


async def wait_for(received: Received, state: str) -> None:
    for _ in range(100):
        if any(state in json.dumps(body) for _, body in received):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {state} delivered: {received}")


async def test_push_config_with_the_message_delivers_updates(
    tmp_path: Path, webhook: tuple[str, Received]
) -> None:
    url, received = webhook
    config = tmp_path / "llmspell.toml"
    config.write_text(
        'builtins = false\n[[agents]]\nname = "echoer"\nmodel = "offline/echo"\n', encoding="utf-8"
    )
    with gateway(config=config, cwd=tmp_path) as running:
        client = await create_client(
            running.url[: -len("/mcp")] + "/a2a/echoer", ClientConfig(streaming=False)
        )
        request = SendMessageRequest(
            message=new_text_message("notify me", role=Role.ROLE_USER),
            configuration=SendMessageConfiguration(
                task_push_notification_config=TaskPushNotificationConfig(url=url, token="tok-1")
            ),
        )
        task = [e async for e in client.send_message(request)][-1].task
        await wait_for(received, "TASK_STATE_COMPLETED")
        configs = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task.id)
        )
        assert [c.url for c in configs.configs] == [url]
        got = await client.get_task_push_notification_config(
            GetTaskPushNotificationConfigRequest(task_id=task.id, id=configs.configs[0].id)
        )
        assert got.token == "tok-1"
        await client.close()
    assert all(h.get("X-A2A-Notification-Token") == "tok-1" for h, _ in received)
    assert task.id in json.dumps([body for _, body in received])
