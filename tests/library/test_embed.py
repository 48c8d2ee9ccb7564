"""`llmspell.asgi_app` mounted under a prefix in a FastAPI app served by uvicorn in its own
process: the MCP SDK client and the a2a-sdk client reach the gateway under the prefix."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_text_message
from a2a.types import Role, SendMessageRequest, TaskState
from mcp import Client, types
from mcpserver.conftest import env, free_port
from processes import stop

import llmspell

CONFIG = """{
    "name": "embedded",
    "agents": [{"name": "echoer", "model": "offline/echo", "description": "Repeats"}],
    "a2a": {"task_store": "memory", "grpc": False},
    "state": {"backend": "memory"},
}"""

WITH_LIFESPAN = f"""
import llmspell
from fastapi import FastAPI

gateway = llmspell.asgi_app({CONFIG})
app = FastAPI(lifespan=gateway.lifespan)
app.mount("/llm", gateway)

@app.get("/own")
def own() -> dict:
    return {{"mine": True}}
"""

LAZY_WITH_PYTHON_TOOL = f"""
import llmspell
from fastapi import FastAPI

rt = llmspell.Runtime.create(tools=["calculator"], config={CONFIG})

@rt.define_tool
def shout(text: str) -> str:
    '''Upper-cases text.'''
    return text.upper()

app = FastAPI()  # no lifespan passed on: the gateway starts on its first request
app.mount("/llm", llmspell.asgi_app(rt))
"""


@contextmanager
def serve(tmp: Path, source: str) -> Iterator[str]:
    """uvicorn serving `source`'s `app` on a free loopback port; yields the base URL."""
    (tmp / "embedding.py").write_text(source, encoding="utf-8")
    port = free_port()
    log = (tmp / "uvicorn.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "embedding:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=tmp,
        env=env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/docs", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp / "uvicorn.log").read_text()) from None
                time.sleep(0.1)
        yield base
    finally:
        stop(proc)
        log.close()


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def a2a_send(url: str, binding: str, words: str) -> object:
    client = await create_client(
        url, ClientConfig(streaming=False, supported_protocol_bindings=[binding])
    )
    request = SendMessageRequest(message=new_text_message(words, role=Role.ROLE_USER))
    events = [e async for e in client.send_message(request)]
    return events[-1].task


async def test_mounted_under_a_prefix_with_the_parents_lifespan(tmp_path: Path) -> None:
    with serve(tmp_path, WITH_LIFESPAN) as base:
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{base}/own")).json() == {"mine": True}
            health = (await http.get(f"{base}/llm/healthz")).json()
            assert health["status"] == "ok" and health["agents"] == 1
            card = (await http.get(f"{base}/llm/a2a/echoer/.well-known/agent-card.json")).json()
            assert (await http.get(f"{base}/mcp")).status_code == 404  # only under the prefix
        urls = {i["protocolBinding"]: i["url"] for i in card["supportedInterfaces"]}
        assert urls == {"JSONRPC": f"{base}/llm/a2a/echoer/", "HTTP+JSON": f"{base}/llm/a2a/echoer"}

        async with Client(f"{base}/llm/mcp") as client:
            names = {t.name for t in (await client.list_tools()).tools}
            assert {"calculator", "echoer"} <= names
            assert text(await client.call_tool("calculator", {"expression": "6 * 7"})) == "42"

        for binding in ("JSONRPC", "HTTP+JSON"):
            task = await a2a_send(f"{base}/llm/a2a/echoer", binding, f"hi over {binding}")
            assert task.status.state == TaskState.TASK_STATE_COMPLETED  # type: ignore[attr-defined]
            reply = task.artifacts[0].parts[0].text  # type: ignore[attr-defined]
            assert reply == f"echo: hi over {binding}"


async def test_starts_on_first_request_and_serves_python_tools(tmp_path: Path) -> None:
    with serve(tmp_path, LAZY_WITH_PYTHON_TOOL) as base:
        async with Client(f"{base}/llm/mcp") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"calculator", "shout", "echoer"}  # only the tools asked for
            assert tools["shout"].description == "Upper-cases text."
            assert tools["shout"].input_schema["required"] == ["text"]
            assert text(await client.call_tool("shout", {"text": "quiet"})) == "QUIET"
        async with httpx.AsyncClient() as http:
            root = (await http.get(f"{base}/llm/.well-known/agent-card.json")).json()
        assert root["supportedInterfaces"][0]["url"] == f"{base}/llm/a2a/"
        assert "shout" in [s["id"] for s in root["skills"]]
        task = await a2a_send(f"{base}/llm/a2a/echoer", "JSONRPC", "lazy")
        assert task.artifacts[0].parts[0].text == "echo: lazy"  # type: ignore[attr-defined]


def test_request_base() -> None:
    from llmspell.gateway.embed import request_base

    scope = {"type": "http", "scheme": "http", "server": ("127.0.0.1", 8000), "root_path": "/llm"}
    assert request_base(scope) == "http://127.0.0.1:8000/llm"
    scope = {"type": "http", "scheme": "https", "server": ("::1", 443), "root_path": ""}
    assert request_base(scope) == "https://[::1]"


async def lifespan(app: llmspell.GatewayApp, *messages: str) -> list[dict[str, str]]:
    """Drive the ASGI lifespan protocol as a server does; returns what the app sent."""
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for message in messages:
        inbox.put_nowait({"type": f"lifespan.{message}"})
    sent: list[dict[str, str]] = []

    async def send(message: dict[str, str]) -> None:
        sent.append(message)

    await asyncio.wait_for(app({"type": "lifespan"}, inbox.get, send), 30)  # type: ignore[arg-type]
    return sent


async def test_served_directly_it_runs_its_own_lifespan() -> None:
    app = llmspell.asgi_app({"state": {"backend": "memory"}}, base_url="http://test/llm")
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[dict[str, str]] = []
    answered = asyncio.Event()

    async def send(message: dict[str, str]) -> None:
        sent.append(message)
        answered.set()

    inbox.put_nowait({"type": "lifespan.startup"})
    running = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(answered.wait(), 30)
        assert sent == [{"type": "lifespan.startup.complete"}]
        assert app.runtime.started
        transport = httpx.ASGITransport(app=app, root_path="/llm")  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            health = (await http.get("/llm/healthz")).json()
        assert health["status"] == "ok" and health["tools"] > 40
    finally:
        inbox.put_nowait({"type": "lifespan.shutdown"})
        await asyncio.wait_for(running, 30)
    assert sent[-1] == {"type": "lifespan.shutdown.complete"}
    assert not app.runtime.started  # it started the runtime, so it closed it


async def test_a_failed_start_is_reported_to_the_server() -> None:
    app = llmspell.asgi_app({"agents": [{"model": "offline/echo"}]})
    sent = await lifespan(app, "startup")
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "agents.0.name: Field required" in sent[0]["message"]
