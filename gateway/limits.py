"""Rate limits per identity (`[limits] rate = "100/minute"`), with aiolimiter's leaky bucket.

A call over the rate is refused at once with `rate_limited` and when to retry, rather than
queued: a gateway that queues for one noisy client slows every other one down."""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter
from llmspell.runtime import Component, ErrorCode, Invocation, LLMSpellError
from llmspell.runtime.guard import parse_rate

MAX_IDENTITIES = 10_000
"""Limiters kept at once; the least recently seen identity's is dropped first."""


class RateLimiter:
    """One leaky bucket per caller subject; plugs into `Pipeline.limiter`."""

    def __init__(self, rate: str) -> None:
        self.calls, self.period = parse_rate(rate)
        self._buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self.refused = 0

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
            self.refused += 1
            retry = self.period / self.calls
            raise LLMSpellError(
                ErrorCode.RATE_LIMITED,
                f"{inv.caller.subject} is over its rate of {self.calls:g} calls per "
                f"{self.period:g} s; retry in {retry:.2g} s",
                data={"retry_after": retry},
            )
        await bucket.acquire()
