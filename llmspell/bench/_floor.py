"""The floor under any Python MCP proxy on this machine: a raw ASGI app under uvicorn (uvloop,
httptools) that forwards each request's bytes to the upstream over httpcore's keep-alive pool
and streams the reply back, understanding nothing of MCP.
`python -m llmspell.bench._floor PORT UPSTREAM_URL`

What it adds over calling the upstream directly is the cost of one more HTTP server and client
hop in Python here; a proxy that parses, validates and routes adds that and its own work.
"""

from __future__ import annotations

import sys
from typing import Any

import httpcore2
import uvicorn

FORWARDED = (
    b"accept",
    b"content-type",
    b"mcp-session-id",
    b"mcp-protocol-version",
    b"last-event-id",
)
RETURNED = (b"content-type", b"mcp-session-id", b"cache-control")


def app_for(upstream: str) -> Any:
    pool = httpcore2.AsyncConnectionPool(max_connections=64)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await pool.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k in FORWARDED]
        async with pool.stream(scope["method"], upstream, headers=headers, content=body) as reply:
            kept = [(k.lower(), v) for k, v in reply.headers if k.lower() in RETURNED]
            await send({"type": "http.response.start", "status": reply.status, "headers": kept})
            async for chunk in reply.aiter_stream():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


def main() -> None:
    port, upstream = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(
        app_for(upstream),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
