"""The network: the one way a tool opens an outbound connection under the `NetworkPolicy`.

`checked()` decides a host:port before and after resolving it. `client()` is an httpx client
whose transport checks every request it sends, so each redirect hop is checked like the first,
and whose connections go to the address that was checked (a name that resolves to a public
address for the check and to a private one for the connect, DNS rebinding, gets nowhere).

Per-host rates (`NetworkPolicy.rate`, `[tools.network] rate`) are applied by the same transport
before each request, redirect hops included: one limiter (aiolimiter's leaky bucket) per host and
port, shared by every client, call and tool in the event loop. A request over the rate waits its
turn. It waits no longer than the deadline of the call it is made for: when the queue ahead of
it already reaches past the deadline it fails at once, and when the wait runs into the deadline
it fails then, both with RATE_LIMITED (`data["retry_after"]`, seconds).
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
import time
import weakref
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from aiolimiter import AsyncLimiter
from llmspell.runtime import ErrorCode, LLMSpellError
from llmspell.runtime.invocation import current
from llmspell.runtime.sandbox import NetworkPolicy


async def checked(policy: NetworkPolicy, host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, once the policy allows every one of them. The name
    (lists, literal addresses) is decided before any DNS query is sent for it."""
    host = host.strip("[]")
    policy.check(host, port)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE, f"cannot resolve {host!r}: {exc}", data={"host": host}
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    policy.check(host, port, addresses)
    return addresses


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


class PolicyTransport(httpx.AsyncBaseTransport):
    """Checks each request's host and port before the inner transport sends it. With the
    default inner transport its connections are also pinned to the checked address."""

    def __init__(
        self,
        policy: NetworkPolicy,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.policy = policy
        if inner is None:
            inner = httpx.AsyncHTTPTransport(verify=verify)
            pool = inner._pool
            pool._network_backend = _CheckedBackend(policy, pool._network_backend)
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise LLMSpellError(ErrorCode.DENIED, f"outbound connection refused: {url.scheme}")
        await checked(self.policy, url.host, _port(url))
        await _take_turn(self.policy, url.host, _port(url))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks at connect time, then connects to one of those very addresses."""

    def __init__(self, policy: NetworkPolicy, inner: httpcore.AsyncNetworkBackend) -> None:
        self.policy = policy
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: httpcore.ConnectError | None = None
        for address in await checked(self.policy, host, port):  # in resolver order, no fallback
            try:  # to a fresh resolution: only these addresses were checked
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None  # checked() returns at least one address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise LLMSpellError(ErrorCode.DENIED, "outbound connection refused: unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


# -- per-host rates ----------------------------------------------------------------------------

Rate = tuple[str, float, float]


class _HostRate:
    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.limiter = AsyncLimiter(rate[1], rate[2])
        self.waiting = 0

    def idle(self) -> bool:
        return not self.waiting and self.limiter.has_capacity(self.limiter.max_rate)


MAX_HOSTS = 4096
"""Limiters kept per event loop before drained ones (nothing owed, nobody waiting) are dropped;
dropping a drained one loses nothing."""

_RATES: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[Rate, str, int], _HostRate]
] = weakref.WeakKeyDictionary()


def _host_rate(policy: NetworkPolicy, host: str, port: int) -> _HostRate | None:
    rate = policy.rate_for(host, port)
    if rate is None:
        return None
    table = _RATES.setdefault(asyncio.get_running_loop(), {})
    key = (rate, host.lower().strip("[]").rstrip("."), port)
    found = table.get(key)
    if found is None:
        if len(table) >= MAX_HOSTS:
            for stale in [k for k, v in table.items() if v.idle()]:
                del table[stale]
        found = table[key] = _HostRate(rate)
    return found


async def _take_turn(policy: NetworkPolicy, host: str, port: int) -> None:
    """Wait for a slot in `host:port`'s rate, no longer than the current call's deadline."""
    entry = _host_rate(policy, host, port)
    if entry is None:
        return
    limiter = entry.limiter
    if limiter.has_capacity() and not entry.waiting:
        await limiter.acquire()  # returns at once
        return
    per_second = entry.rate[1] / entry.rate[2]
    inv = current.get()
    deadline = inv.deadline if inv is not None else None
    at_least = entry.waiting / per_second  # the queue ahead goes first, one turn each
    if deadline is not None and time.monotonic() + at_least >= deadline:
        raise _over_rate(host, port, entry.rate, max(at_least, 1 / per_second))
    entry.waiting += 1
    try:
        async with asyncio.timeout_at(None if deadline is None else deadline - 0.01):
            await limiter.acquire()
    except TimeoutError:
        raise _over_rate(host, port, entry.rate, entry.waiting / per_second) from None
    finally:
        entry.waiting -= 1


def _over_rate(host: str, port: int, rate: Rate, retry_after: float) -> LLMSpellError:
    pattern, calls, seconds = rate
    return LLMSpellError(
        ErrorCode.RATE_LIMITED,
        f"outbound requests to {host}:{port} are over their rate ({calls:g} per {seconds:g} s, "
        f"[tools.network] rate {pattern!r}) and no turn comes before the call's deadline",
        data={"retry_after": round(retry_after, 3), "host": host},
    )


# -- what tools share --------------------------------------------------------------------------


def http_url(tool: str, text: str) -> httpx.URL:
    """`text` as an http(s) URL with a host, or the tool's refusal."""
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS, f"{tool}: {text!r} is not a URL: {exc}"
        ) from None
    if url.scheme not in ("http", "https") or not url.host:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS, f"{tool}: {text!r} is not an http:// or https:// URL"
        )
    return url


def seconds_left(wanted: float) -> float:
    """`wanted` seconds, or fewer when the current call's deadline comes sooner."""
    inv = current.get()
    left = inv.remaining() if inv is not None else None
    return wanted if left is None else max(0.001, min(wanted, left))


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret in it replaced: for messages that may quote a URL, a header or
    a server's answer."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def failure(
    tool: str, exc: Exception, secrets: Iterable[str | None] = (), *, what: str = ""
) -> LLMSpellError:
    """The error a tool raises for a failed request: the policy's own (DENIED, RATE_LIMITED)
    keeps its code, a timeout is TIMEOUT, anything else on the wire is UNAVAILABLE. Secrets are
    scrubbed from the message."""
    secrets = list(secrets)
    where = f" {what}" if what else ""
    if isinstance(exc, LLMSpellError):
        message = scrub(f"{tool}:{where} {exc.message}", secrets)
        return LLMSpellError(exc.code, message, data=exc.data)
    if isinstance(exc, httpx.TimeoutException):
        return LLMSpellError(ErrorCode.TIMEOUT, f"{tool}:{where} timed out")
    detail = str(exc) or type(exc).__name__
    return LLMSpellError(
        ErrorCode.UNAVAILABLE,
        scrub(f"{tool}:{where} {detail}", secrets),
        data={"cause": type(exc).__name__},
    )


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes of a streamed response's body, and whether there was more (the rest
    is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """The verifying TLS context, made once: building one loads the CA bundle (~40 ms here),
    which every call to a web tool paid before."""
    return httpx.create_ssl_context()


def client(
    policy: NetworkPolicy, *, verify: ssl.SSLContext | bool = True, **kwargs: Any
) -> httpx.AsyncClient:
    """An httpx client under `policy`. Nothing from the environment is used: proxies would
    bypass the checks and .netrc would hand credentials to whatever host is asked for; nor may
    `transport` or `mounts` be passed."""
    if "transport" in kwargs or "mounts" in kwargs:
        raise TypeError("client(): the transport is the policy's")
    transport = PolicyTransport(policy, verify=_default_tls() if verify is True else verify)
    return httpx.AsyncClient(transport=transport, trust_env=False, **kwargs)


__all__ = [
    "PolicyTransport",
    "checked",
    "client",
    "failure",
    "http_url",
    "read_capped",
    "scrub",
    "seconds_left",
]
