"""Rate limits per identity (`[limits] rate = "100/minute"`), with aiolimiter's leaky bucket,
or the same bucket in Redis when replicas share the limit (`[cluster] redis`).

A call over the rate is refused at once with `rate_limited` and when to retry, rather than
queued: a gateway that queues for one noisy client slows every other one down."""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from aiolimiter import AsyncLimiter
from llmspell.protocols.asgi import declared_length, read_body
from llmspell.runtime import Component, ErrorCode, Invocation, LLMSpellError
from llmspell.runtime.guard import parse_rate
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from .cluster import Cluster

logger = logging.getLogger("llmspell.limits")

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


LEAKY_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local capacity, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local rate = capacity / period
local held = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = math.max(0, (tonumber(held[1]) or 0) - (now - (tonumber(held[2]) or now)) * rate)
if level + 1 > capacity then
  return tostring((level + 1 - capacity) / rate)
end
redis.call('HSET', KEYS[1], 'level', tostring(level + 1), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(period * 1000))
return '0'
"""
"""aiolimiter's leaky bucket, run inside Redis so that check and take are one step for every
replica, on Redis's clock. Returns the seconds until a call fits ('0': taken)."""


class RedisRateLimiter:
    """The same limit as `RateLimiter`, shared by every replica through Redis
    (`[cluster] redis`): N replicas do not allow N times the rate. When Redis cannot be reached
    the call goes through (logged once per outage): the limit protects capacity, not access,
    and the gateway keeps serving."""

    def __init__(self, rate: str, cluster: Cluster) -> None:
        self.calls, self.period = parse_rate(rate)
        self._cluster = cluster
        self._take = cluster.redis.register_script(LEAKY_BUCKET)
        self._down = False

    async def __call__(self, inv: Invocation, component: Component) -> None:
        subject = inv.caller.subject
        try:
            wait = float(
                await self._take(
                    keys=[self._cluster.key("rate", subject)], args=[self.calls, self.period]
                )
            )
        except Exception as exc:  # redis-py's connection and timeout errors
            if not self._down:
                logger.warning("rate limits: redis unreachable, not limiting: %s", exc)
            self._down = True
            return
        if self._down:
            logger.warning("rate limits: redis reachable again")
            self._down = False
        if wait > 0:
            raise LLMSpellError(
                ErrorCode.RATE_LIMITED,
                f"{subject} is over its rate of {self.calls:g} calls per {self.period:g} s "
                f"(all replicas); retry in {wait:.2g} s",
                data={"retry_after": round(wait, 3)},
            )


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
