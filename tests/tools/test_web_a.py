"""web-search, url-analyzer, api-tester and webhook-caller through the real pipeline, against
real HTTP servers on 127.0.0.1 (starlette on uvicorn, in the test's loop) that answer with each
provider's documented shape and record what arrived. Nothing reaches the internet."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from llmspell.adapters.tools import register_builtins
from llmspell.adapters.tools.web import webhook_caller
from llmspell.runtime import ErrorCode, LLMSpellError, Runtime
from llmspell.runtime.sandbox import NetworkPolicy, Sandbox
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .conftest import call

Handler = Callable[[Request], Any]


@dataclass
class Arrival:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    time: float = field(default_factory=time.monotonic)


@dataclass
class Server:
    port: int
    arrivals: list[Arrival] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def serve(routes: Mapping[str, Handler]) -> AsyncIterator[Server]:
    """An HTTP server on 127.0.0.1 (a free port) whose `routes` (path -> async handler, any
    method) answer; every request is recorded in `Server.arrivals` before it is answered."""
    from starlette.applications import Starlette

    server = Server(0)

    def recorded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            server.arrivals.append(
                Arrival(
                    request.method,
                    request.url.path,
                    dict(request.query_params),
                    dict(request.headers),
                    await request.body(),
                )
            )
            response: Response = await handler(request)
            return response

        return endpoint

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(routes=[Route(p, recorded(h), methods=methods) for p, h in routes.items()])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    while not uv.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    server.port = uv.servers[0].sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        uv.should_exit = True
        await task


def runtime(port: int, settings: Mapping[str, Mapping[str, Any]] | None = None) -> Runtime:
    """The built-ins under a policy that allows exactly 127.0.0.1:`port`."""
    rt = Runtime()
    sandbox = Sandbox(network=NetworkPolicy(allow=(f"127.0.0.1:{port}",)))
    register_builtins(rt.catalog, sandbox, settings=settings)
    return rt


def answering(body: Any, status: int = 200) -> Handler:
    async def handler(request: Request) -> Response:
        return JSONResponse(body, status)

    return handler


# -- web-search ----------------------------------------------------------------------------------

SEARXNG = {
    "query": "llmspell",
    "number_of_results": 2,
    "results": [
        {
            "url": "https://a.example/",
            "title": "A",
            "content": "first &amp; best",
            "engine": "bing",
            "score": 1.0,
        },
        {"url": "https://b.example/", "title": "B", "content": "second", "engine": "ddg"},
        {"url": "https://c.example/", "title": "C", "content": "third", "engine": "ddg"},
    ],
    "answers": [],
    "suggestions": [],
}


async def test_searxng() -> None:
    async with serve({"/search": answering(SEARXNG)}) as server:
        settings = {"web-search": {"provider": "searxng", "url": server.base}}
        result = await call(
            runtime(server.port, settings), "web-search", query="llmspell", max_results=2
        )
    [arrival] = server.arrivals
    assert (arrival.method, arrival.path) == ("GET", "/search")
    assert arrival.query == {"q": "llmspell", "format": "json"}
    assert result.data == {
        "query": "llmspell",
        "provider": "searxng",
        "results": [
            {"title": "A", "url": "https://a.example/", "snippet": "first & best"},
            {"title": "B", "url": "https://b.example/", "snippet": "second"},
        ],
    }
    assert result.text.startswith("2 result(s) for 'llmspell' (searxng)\n1. A <https://a.example/>")


BRAVE = {
    "type": "search",
    "query": {"original": "rust async"},
    "web": {
        "type": "search",
        "results": [
            {
                "title": "Async in <strong>Rust</strong>",
                "url": "https://rust.example/async",
                "description": "All about <strong>async</strong> Rust.",
                "age": "2 days ago",
            },
        ],
    },
}


async def test_brave_sends_the_key_as_its_header() -> None:
    async with serve({"/res/v1/web/search": answering(BRAVE)}) as server:
        settings = {"web-search": {"provider": "brave", "url": server.base, "api_key": "BSA-k1"}}
        result = await call(runtime(server.port, settings), "web-search", query="rust async")
    [arrival] = server.arrivals
    assert (arrival.method, arrival.path) == ("GET", "/res/v1/web/search")
    assert arrival.query == {"q": "rust async", "count": "10"}
    assert arrival.headers["x-subscription-token"] == "BSA-k1"
    assert arrival.headers["accept"] == "application/json"
    assert result.data["results"] == [
        {
            "title": "Async in Rust",
            "url": "https://rust.example/async",
            "snippet": "All about async Rust.",
        }
    ]
    assert "BSA-k1" not in json.dumps(result.data) + result.text


TAVILY = {
    "query": "who is leo messi",
    "answer": None,
    "images": [],
    "results": [
        {
            "title": "Lionel Messi",
            "url": "https://en.wikipedia.org/wiki/Lionel_Messi",
            "content": "Lionel Andrés Messi is an Argentine footballer.",
            "score": 0.81,
            "raw_content": None,
        }
    ],
    "response_time": "1.67",
}


async def test_tavily_takes_its_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAVILY_API_KEY", "tvly-secret")
    async with serve({"/search": answering(TAVILY)}) as server:
        settings = {"web-search": {"provider": "tavily", "url": server.base}}
        rt = runtime(server.port, settings)
        result = await call(rt, "web-search", query="who is leo messi", max_results=3)
    [arrival] = server.arrivals
    assert (arrival.method, arrival.path) == ("POST", "/search")
    assert arrival.headers["authorization"] == "Bearer tvly-secret"
    assert json.loads(arrival.body) == {"query": "who is leo messi", "max_results": 3}
    assert result.data["results"] == [
        {
            "title": "Lionel Messi",
            "url": "https://en.wikipedia.org/wiki/Lionel_Messi",
            "snippet": "Lionel Andrés Messi is an Argentine footballer.",
        }
    ]


DUCKDUCKGO = """<!DOCTYPE html><html><body><div id="links" class="results">
<div class="result results_links results_links_deep result--ad">
  <h2 class="result__title"><a class="result__a" href="https://ads.example/">Buy now</a></h2>
  <a class="result__snippet" href="https://ads.example/">An advert</a>
</div>
<div class="result results_links results_links_deep web-result">
  <div class="links_main links_deep result__body">
    <h2 class="result__title">
      <a rel="nofollow" class="result__a"
         href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.python.org%2F&amp;rut=abc">Welcome to
         <b>Python</b>.org</a>
    </h2>
    <a class="result__snippet" href="//duckduckgo.com/l/?uddg=x">The official home of the
       <b>Python</b> Programming Language</a>
  </div>
</div>
<div class="result results_links results_links_deep web-result">
  <h2 class="result__title"><a class="result__a" href="https://docs.python.org/3/">Docs</a></h2>
  <a class="result__snippet">Python 3 documentation</a>
</div>
</div></body></html>"""


async def test_duckduckgo_html() -> None:
    async def page(request: Request) -> Response:
        return HTMLResponse(DUCKDUCKGO)

    async with serve({"/html/": page}) as server:
        settings = {"web-search": {"url": server.base}}  # duckduckgo is the default
        result = await call(runtime(server.port, settings), "web-search", query="python")
    [arrival] = server.arrivals
    assert (arrival.method, arrival.path) == ("POST", "/html/")
    assert arrival.headers["content-type"] == "application/x-www-form-urlencoded"
    assert arrival.body == b"q=python"
    assert result.data["provider"] == "duckduckgo"
    assert result.data["results"] == [
        {
            "title": "Welcome to Python.org",
            "url": "https://www.python.org/",
            "snippet": "The official home of the Python Programming Language",
        },
        {"title": "Docs", "url": "https://docs.python.org/3/", "snippet": "Python 3 documentation"},
    ]


async def test_the_api_key_stays_out_of_results_errors_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = "BSA-very-secret-key"

    async def unauthorized(request: Request) -> Response:
        token = request.headers.get("x-subscription-token")  # echoed, as some APIs do
        return JSONResponse({"error": f"invalid subscription token {token}"}, 401)

    async def echoing(request: Request) -> Response:
        token = request.headers.get("x-subscription-token")
        hit = {"title": f"key {token}", "url": f"https://x.example/?k={token}", "description": "d"}
        return JSONResponse({"web": {"results": [hit]}})

    caplog.set_level(logging.DEBUG)
    async with serve({"/bad/res/v1/web/search": unauthorized, "/res/v1/web/search": echoing}) as s:
        settings = {"web-search": {"provider": "brave", "url": s.base + "/bad", "api_key": key}}
        with pytest.raises(LLMSpellError) as info:
            await runtime(s.port, settings).call("web-search", {"query": "q"})
        ok = {"web-search": {"provider": "brave", "url": s.base, "api_key": key}}
        result = await call(runtime(s.port, ok), "web-search", query="q")
    assert [a.headers["x-subscription-token"] for a in s.arrivals] == [key, key]  # it was sent
    assert info.value.code == ErrorCode.PROVIDER_ERROR
    assert info.value.message.startswith("web-search: brave answered 401: the API key was refused")
    assert key not in str(info.value) and key not in json.dumps(info.value.to_dict())
    assert key not in result.text and key not in json.dumps(result.data)
    assert result.data["results"][0]["title"] == "key [redacted]"
    assert caplog.records and all(key not in r.getMessage() for r in caplog.records)
    assert key not in caplog.text


async def test_web_search_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRAVE_API_KEY", raising=False)
    for settings, says in [
        ({"provider": "brave"}, "brave needs an API key: set [tools.web-search] api_key or "),
        ({"provider": "bing"}, "unknown provider 'bing'"),
        ({"provider": "searxng"}, "set [tools.web-search] url"),
    ]:
        with pytest.raises(LLMSpellError) as info:
            await runtime(1, {"web-search": settings}).call("web-search", {"query": "q"})
        assert info.value.code == ErrorCode.NOT_CONFIGURED
        assert says in info.value.message


# -- url-analyzer --------------------------------------------------------------------------------


async def test_url_analyzer_follows_a_redirect_chain() -> None:
    async def first(request: Request) -> Response:
        return Response(status_code=302, headers={"Location": "/moved"})

    async def moved(request: Request) -> Response:
        return Response(status_code=301, headers={"Location": "/page?x=1"})

    async def page(request: Request) -> Response:
        html = "<html><head><title> The  Page </title></head><body>hi</body></html>"
        return HTMLResponse(html, headers={"X-Served-By": "test"})

    async with serve({"/start": first, "/moved": moved, "/page": page}) as server:
        rt = runtime(server.port)
        result = await call(rt, "url-analyzer", url=f"{server.base}/start")
    base = server.base
    found = result.data
    assert [(h["status"], h["url"], h["location"]) for h in found["redirects"]] == [
        (302, f"{base}/start", "/moved"),
        (301, f"{base}/moved", "/page?x=1"),
    ]
    assert found["status"] == 200 and found["final_url"] == f"{base}/page?x=1"
    assert found["title"] == "The Page"
    assert found["content_type"] == "text/html; charset=utf-8"
    assert found["size"] == found["content_length"] == 67 and found["size_complete"] is True
    assert found["headers"]["x-served-by"] == "test"
    assert found["tls"] is None and found["redirect_limit_reached"] is False
    assert found["timing"]["total_ms"] >= found["timing"]["final_headers_ms"] >= 0
    assert [a.path for a in server.arrivals] == ["/start", "/moved", "/page"]
    assert "title: The Page" in result.text and "302 " in result.text

    async with serve({"/start": first, "/moved": moved, "/page": page}) as server:
        limited = await call(
            runtime(server.port), "url-analyzer", url=f"{server.base}/start", max_redirects=1
        )
    assert limited.data["status"] == 301 and limited.data["redirect_limit_reached"] is True


# -- api-tester ----------------------------------------------------------------------------------


async def test_api_tester_posts_json_and_reads_the_echo() -> None:
    async def echo(request: Request) -> Response:
        return JSONResponse(
            {
                "method": request.method,
                "query": dict(request.query_params),
                "json": await request.json(),
                "header": request.headers.get("x-test"),
            },
            201,
        )

    async def text(request: Request) -> Response:
        return PlainTextResponse("x" * 100)

    async with serve({"/echo": echo, "/text": text}) as server:
        rt = runtime(server.port)
        result = await call(
            rt,
            "api-tester",
            url=f"{server.base}/echo",
            method="POST",
            headers={"X-Test": "yes"},
            query={"a": 1, "b": ["x", "y"], "c": True},
            json={"hello": ["world", 1]},
            expect_status=201,
        )
        long = await call(rt, "api-tester", url=f"{server.base}/text", max_body_chars=10)
    found = result.data
    assert found["status"] == 201 and found["ok"] is True and found["json"] is True
    assert found["body"] == {
        "method": "POST",
        "query": {"a": "1", "b": "y", "c": "true"},
        "json": {"hello": ["world", 1]},
        "header": "yes",
    }
    assert server.arrivals[0].query == {"a": "1", "b": "y", "c": "true"}
    assert server.arrivals[0].headers["content-type"] == "application/json"
    assert found["passed"] is True and found["truncated"] is False
    assert found["headers"]["content-type"] == "application/json"
    assert found["timing"]["total_ms"] >= found["timing"]["headers_ms"] >= 0
    assert result.text.startswith(f"POST {server.base}/echo?a=1&b=x&b=y&c=true -> 201 Created in ")
    assert result.text.endswith("; expectation met")
    assert long.data["body"] == "x" * 10 and long.data["truncated"] is True
    assert long.data["json"] is False and long.data["size"] == 100


async def test_api_tester_refuses_a_body_on_get() -> None:
    rt = runtime(1)
    with pytest.raises(LLMSpellError) as info:
        await rt.call("api-tester", {"url": "http://127.0.0.1:1/", "json": {}})
    assert info.value.code == ErrorCode.INVALID_ARGUMENTS
    assert info.value.message == "api-tester: GET requests carry no body"
    with pytest.raises(LLMSpellError) as info:
        await rt.call("api-tester", {"url": "ftp://127.0.0.1/x"})
    assert "is not an http:// or https:// URL" in info.value.message


# -- webhook-caller ------------------------------------------------------------------------------


async def test_webhook_caller_signs_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_caller, "BASE_BACKOFF", 0.01)
    secret = "whsec-abc"
    failures = 2
    verified: list[bool] = []

    async def hook(request: Request) -> Response:
        nonlocal failures
        raw = await request.body()
        expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        good = hmac.compare_digest(request.headers.get("x-signature-256", ""), expected)
        verified.append(good)
        if not good:
            return PlainTextResponse("bad signature", 401)
        if failures:
            failures -= 1
            return PlainTextResponse("busy", 503)
        return JSONResponse({"received": json.loads(raw)})

    async with serve({"/hook": hook}) as server:
        rt = runtime(server.port, {"webhook-caller": {"secret": secret}})
        payload = {"event": "deploy", "ok": True, "n": 3, "text": "héllo"}
        result = await call(rt, "webhook-caller", url=f"{server.base}/hook", payload=payload)
        wrong = runtime(server.port, {"webhook-caller": {"secret": "not-it"}})
        rejected = await call(wrong, "webhook-caller", url=f"{server.base}/hook", payload={})
    found = result.data
    assert verified == [True, True, True, False]
    assert found["delivered"] is True and found["status"] == 200 and found["attempts"] == 3
    assert [a["status"] for a in found["history"]] == [503, 503, 200]
    assert json.loads(found["response"]) == {"received": payload}
    assert found["signed"] is True and found["signature_header"] == "X-Signature-256"
    assert server.arrivals[0].headers["content-type"] == "application/json"
    assert secret not in json.dumps(found) + result.text
    assert result.text == f"delivered: POST {server.base}/hook -> 200 after 3 attempt(s), signed"
    # a 4xx is the receiver's answer: not retried
    assert rejected.data["delivered"] is False and rejected.data["attempts"] == 1
    assert rejected.data["status"] == 401


async def test_webhook_caller_gives_up_after_its_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_caller, "BASE_BACKOFF", 0.01)
    monkeypatch.setenv("LLMSPELL_WEBHOOK_SECRET", "from-env")

    async def down(request: Request) -> Response:
        return PlainTextResponse("down", 500)

    async with serve({"/hook": down}) as server:
        rt = runtime(server.port)
        result = await call(
            rt, "webhook-caller", url=f"{server.base}/hook", payload=[1], max_retries=1
        )
        with pytest.raises(LLMSpellError) as info:
            await rt.call(
                "webhook-caller",
                {"url": f"{server.base}/hook", "payload": 1, "headers": {"x-signature-256": "x"}},
            )
    assert result.data["delivered"] is False and result.data["attempts"] == 2
    assert [a["status"] for a in result.data["history"]] == [500, 500]
    expected = webhook_caller.signature("from-env", b"[1]")
    assert [a.headers["x-signature-256"] for a in server.arrivals] == [expected, expected]
    assert info.value.code == ErrorCode.INVALID_ARGUMENTS
    assert "the X-Signature-256 header is the signature's" in info.value.message

    # nobody listening: connection errors are retried, then the call fails
    port = server.port  # closed now
    with pytest.raises(LLMSpellError) as info:
        await runtime(port).call(
            "webhook-caller",
            {"url": f"http://127.0.0.1:{port}/hook", "payload": 1, "max_retries": 2},
        )
    assert info.value.code == ErrorCode.UNAVAILABLE
    assert "could not be reached in 3 attempt(s)" in info.value.message
    assert "from-env" not in str(info.value)


async def test_webhook_caller_signing_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLMSPELL_WEBHOOK_SECRET", raising=False)
    with pytest.raises(LLMSpellError) as info:
        await runtime(1).call(
            "webhook-caller", {"url": "http://127.0.0.1:1/", "payload": {}, "sign": True}
        )
    assert info.value.code == ErrorCode.NOT_CONFIGURED
    assert info.value.message == (
        "webhook-caller: signing needs a secret: set [tools.webhook-caller] secret or "
        "LLMSPELL_WEBHOOK_SECRET"
    )
