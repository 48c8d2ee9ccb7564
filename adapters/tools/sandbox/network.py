"""The network: the one way a tool opens an outbound connection under the `NetworkPolicy`.

`checked()` decides a host:port before and after resolving it. `client()` is an httpx client
whose transport checks every request it sends, so each redirect hop is checked like the first,
and whose connections go to the address that was checked (a name that resolves to a public
address for the check and to a private one for the connect, DNS rebinding, gets nowhere).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from llmspell.runtime import ErrorCode, LLMSpellError
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


def client(
    policy: NetworkPolicy, *, verify: ssl.SSLContext | bool = True, **kwargs: Any
) -> httpx.AsyncClient:
    """An httpx client under `policy`. Nothing from the environment is used: proxies would
    bypass the checks and .netrc would hand credentials to whatever host is asked for; nor may
    `transport` or `mounts` be passed."""
    if "transport" in kwargs or "mounts" in kwargs:
        raise TypeError("client(): the transport is the policy's")
    transport = PolicyTransport(policy, verify=verify)
    return httpx.AsyncClient(transport=transport, trust_env=False, **kwargs)


__all__ = ["PolicyTransport", "checked", "client"]
