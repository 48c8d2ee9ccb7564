"""Rate limits per identity (`[limits] rate = "100/minute"`), with aiolimiter's leaky bucket.

A call over the rate is refused at once with `rate_limited` and when to retry, rather than
queued: a gateway that queues for one noisy client slows every other one down."""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter
from llmspell.protocols.asgi import declared_length, read_body
from llmspell.runtime import Component, ErrorCode, Invocation, LLMSpellError
from llmspell.runtime.guard import parse_rate
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_IDENTITIES = 10_000
"""Limiters kept at once; the least recently seen identity's is dropped first."""


class RateLimiter:
    """One leaky bucket per caller subject; plugs into `Pipeline.limiter`."""

    def __init__(self, rate: str) -> None:
        self.calls, self.period = parse_rate(rate)
        self._buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()

    def _bucket(self, subject: str) -> AsyncLimiter:
        bucket = self._buckets.get(subject)
        if bucket is None:
            bucket = self._buckets[subject] = AsyncLimiter(self.calls, self.period)
            if len(self._buckets) > MAX_IDENTITIES:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(subject)
        return bucket

    async def __call__(self, inv: Invocation, component: Component) -> None:
        bucket = self._bucket(inv.caller.subject)
        if not bucket.has_capacity():
            retry = self.period / self.calls
            raise LLMSpellError(
                ErrorCode.RATE_LIMITED,
                f"{inv.caller.subject} is over its rate of {self.calls:g} calls per "
                f"{self.period:g} s; retry in {retry:.2g} s",
                data={"retry_after": retry},
            )
        await bucket.acquire()


class BodyLimit:
    """Request bodies over `limit` bytes get 413 before the app reads them (by Content-Length,
    or while streaming when the length is not given). MCP has its own cap in its transport."""

    def __init__(self, app: ASGIApp, limit: int, skip: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip:
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(scope, receive, send)
            return
        if declared is not None:
            await self.app(scope, receive, send)  # the server stops reading at the length
            return
        # No length given (chunked): read it here, up to the limit, then hand it on whole.
        body = await read_body(receive, self.limit)
        if body.disconnected:
            return
        if body.over:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, body.replay(receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.responses import JSONResponse

        message = f"the body is over {self.limit} bytes"
        body = {"error": {"code": 413, "status": "RESOURCE_EXHAUSTED", "message": message}}
        await JSONResponse(body, status_code=413)(scope, receive, send)
