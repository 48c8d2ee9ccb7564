"""`GET /events?pattern=GLOB`: the runtime's events as Server-Sent Events, behind the gateway's
auth like `/mcp`.

Each event is one `event: <topic>` and one `data: <compact JSON>` line. The stream opens with a
`: subscribed` comment once the subscription exists, and a `: keep-alive` comment goes out after
`HEARTBEAT` quiet seconds. Each client reads from its own bounded queue (`QUEUE` events): a
client that reads too slowly loses events, announced by an `events.dropped` event, and never
holds up the calls that publish them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from llmspell.runtime.events import EventBus
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

HEARTBEAT = 15.0
QUEUE = 1000


def frame(topic: str, data: Any) -> bytes:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"event: {topic}\ndata: {body}\n\n".encode()


def endpoint(
    bus: EventBus, heartbeat: float = HEARTBEAT, queue: int = QUEUE
) -> Callable[[Request], Awaitable[Response]]:
    async def events(request: Request) -> Response:
        pattern = request.query_params.get("pattern") or "*"
        if "\n" in pattern or "\r" in pattern:
            return Response("pattern: one line, please\n", status_code=400)

        async def stream() -> AsyncIterator[bytes]:
            # Subscribed here, not before: a body never started must leave no subscription.
            sub = bus.watch(pattern, queue)
            try:
                yield f": subscribed to {pattern}\n\n".encode()
                while True:
                    try:
                        async with asyncio.timeout(heartbeat):
                            topic, data = await sub.get()
                    except TimeoutError:
                        yield b": keep-alive\n\n"
                        continue
                    yield frame(topic, data)
            finally:
                bus.unsubscribe(sub.id)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return events
