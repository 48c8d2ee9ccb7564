"""What stands between callers and one upstream: a rate (aiolimiter; calls wait their turn, up
to their deadline), a concurrency cap, and a circuit breaker that stops sending calls to an
upstream that keeps failing, then lets one probe through to see whether it is back."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from aiolimiter import AsyncLimiter

from .errors import ErrorCode, LLMSpellError
from .invocation import Invocation

PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)?\s*(second|minute|hour|day)s?\s*$")


def parse_rate(text: str) -> tuple[float, float]:
    """`"100/minute"`, `"10/second"`, `"5/10 seconds"` -> (calls, period in seconds)."""
    found = _RATE.match(text)
    if found is None:
        raise ValueError(f"rate {text!r}: write it as CALLS/PERIOD, e.g. 100/minute or 5/second")
    calls, count, unit = found.groups()
    return float(calls), float(count or 1) * PERIODS[unit]


def checked_rate(value: str | None) -> str | None:
    """For config models: a rate that `parse_rate` reads, or None."""
    if value is not None:
        parse_rate(value)
    return value


BreakerState = Literal["closed", "open", "half_open"]
FAILURES = frozenset({ErrorCode.UNAVAILABLE, ErrorCode.TIMEOUT})
"""What counts against an upstream: it could not be reached or did not answer in time. A tool
that answers with an error is a working upstream."""


@dataclass(frozen=True, slots=True)
class GuardSettings:
    rate: tuple[float, float] | None = None
    """(calls, seconds), or None for no rate."""
    max_concurrency: int = 0
    """Calls in flight at once; 0: no cap."""
    breaker_failures: int = 5
    """Consecutive failures that open the breaker; 0: no breaker."""
    breaker_reset: float = 30.0
    """Seconds the breaker stays open before one probe call is let through."""


class CircuitBreaker:
    def __init__(self, failures: int, reset: float) -> None:
        self.threshold = failures
        self.reset_after = reset
        self.state: BreakerState = "closed"
        self.failures = 0
        self.opened_at = 0.0
        self._probing = False

    def admit(self, what: str) -> None:
        """Raises UNAVAILABLE while open; lets exactly one probe through once it may be back."""
        if self.threshold <= 0 or self.state == "closed":
            return
        if self.state == "open":
            wait = self.opened_at + self.reset_after - time.monotonic()
            if wait > 0:
                raise LLMSpellError(
                    ErrorCode.UNAVAILABLE,
                    f"{what}: circuit open after {self.failures} failures in a row; "
                    f"next try in {wait:.1f} s",
                    data={"breaker": "open", "retry_after": round(wait, 3)},
                )
            self.state = "half_open"
        if self._probing:
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"{what}: circuit half-open, a probe call is deciding whether it is back",
                data={"breaker": "half_open"},
            )
        self._probing = True

    def succeeded(self) -> None:
        self.state, self.failures, self._probing = "closed", 0, False

    def failed(self) -> None:
        self._probing = False
        self.failures += 1
        if self.threshold > 0 and (self.state == "half_open" or self.failures >= self.threshold):
            self.state = "open"
            self.opened_at = time.monotonic()

    def release(self) -> None:
        """The probe ended without telling (cancelled): let another one try."""
        self._probing = False


class Guard:
    def __init__(self, name: str, settings: GuardSettings) -> None:
        self.name = name
        self.limiter = AsyncLimiter(*settings.rate) if settings.rate else None
        self.slots = (
            asyncio.Semaphore(settings.max_concurrency) if settings.max_concurrency else None
        )
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset)

    @asynccontextmanager
    async def admit(self, inv: Invocation) -> AsyncIterator[None]:
        """Around one call: breaker, rate and slot (waiting no longer than the call's deadline),
        then the call's outcome goes back to the breaker."""
        self.breaker.admit(f"upstream {self.name!r}")
        try:
            async with asyncio.timeout_at(inv.deadline):
                if self.limiter is not None:
                    await self.limiter.acquire()
                if self.slots is not None:
                    await self.slots.acquire()
        except TimeoutError:
            self.breaker.release()
            raise LLMSpellError(
                ErrorCode.TIMEOUT, f"upstream {self.name!r}: no free slot before the deadline"
            ) from None
        outcome: bool | None = None
        try:
            yield
            outcome = True
        except LLMSpellError as exc:
            outcome = exc.code not in FAILURES
            raise
        finally:
            if self.slots is not None:
                self.slots.release()
            if outcome is True:
                self.breaker.succeeded()
            elif outcome is False:
                self.breaker.failed()
            else:
                self.breaker.release()
