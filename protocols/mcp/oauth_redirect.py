"""How the authorization code comes back: the three `Redirect` modes of `oauth.py`.

Each is a pair of the SDK's handlers: `redirect(url)` is told the authorization URL, then
`callback()` returns the code and state of the redirect that ends the authorization. The SDK
checks the state and the RFC 9207 issuer; the loopback listener checks the state too, so a
stray request to the port cannot end the login. Nothing here logs a code."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Callable
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2
from mcp.client.auth import AuthorizationCodeResult, OAuthFlowError

from .oauth import NeedsLogin

HOPS = 5
"""Redirects a headless authorization follows inside the authorization server."""


def _result(url: str) -> AuthorizationCodeResult:
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items() if v}
    if "error" in query:
        detail = query.get("error_description", "")
        raise OAuthFlowError(f"authorization refused: {query['error']} {detail}".strip())
    if "code" not in query:
        raise OAuthFlowError("the authorization redirect carries no code")
    return AuthorizationCodeResult(
        code=query["code"], state=query.get("state"), iss=query.get("iss")
    )


class Never:
    """The gateway at run time: an authorization needs a person, so it is not started."""

    redirect_uri = "http://127.0.0.1/callback"

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url

    async def redirect(self, url: str) -> None:
        raise NeedsLogin(f"{self.server_url} needs a login (llmspell mcp login)")

    async def callback(self) -> AuthorizationCodeResult:
        raise NeedsLogin(f"{self.server_url} needs a login (llmspell mcp login)")


class Headless:
    """GET the authorization URL without a browser and take the code from the redirect to our
    redirect URI, which is never fetched (nothing listens there). For authorization servers
    that approve without a person; one that shows a login page gets a clear error."""

    def __init__(self, port: int, timeout: float) -> None:
        self.redirect_uri = f"http://127.0.0.1{f':{port}' if port else ''}/callback"
        self._timeout = timeout
        self._url: str | None = None

    async def redirect(self, url: str) -> None:
        self._url = url

    async def callback(self) -> AuthorizationCodeResult:
        url, self._url = self._url, None
        if url is None:
            raise OAuthFlowError("no authorization URL to follow")
        async with httpx2.AsyncClient(timeout=self._timeout, follow_redirects=False) as http:
            for _ in range(HOPS):
                response = await http.get(url)
                location = response.headers.get("location")
                if not response.is_redirect or not location:
                    raise OAuthFlowError(
                        f"the authorization endpoint answered {response.status_code} without "
                        "redirecting back: it needs a person (llmspell mcp login)"
                    )
                url = urljoin(url, location)
                if url.startswith(self.redirect_uri):
                    return _result(url)
        raise OAuthFlowError(f"the authorization did not redirect back within {HOPS} hops")


Announce = Callable[[str], None]


def to_stderr(url: str) -> None:
    print(f"Open this URL to authorize: {url}", file=sys.stderr, flush=True)


class Loopback:
    """`llmspell mcp login`: print the authorization URL for a person to open, and receive the
    redirect on 127.0.0.1. The port is taken at once (a free one for port 0), so the redirect
    URI is known before client registration."""

    def __init__(self, port: int, timeout: float, announce: Announce = to_stderr) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(8)
        self.redirect_uri = f"http://127.0.0.1:{self._sock.getsockname()[1]}/callback"
        self._timeout = timeout
        self._announce = announce
        self._state: str | None = None
        self._server: asyncio.Server | None = None
        self._done: asyncio.Future[AuthorizationCodeResult] | None = None

    async def redirect(self, url: str) -> None:
        self._state = parse_qs(urlsplit(url).query).get("state", [None])[0]
        self._done = asyncio.get_running_loop().create_future()
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, sock=self._sock)
        self._announce(url)

    async def callback(self) -> AuthorizationCodeResult:
        assert self._done is not None, "redirect() comes first"
        try:
            async with asyncio.timeout(self._timeout):
                return await self._done
        except TimeoutError:
            raise OAuthFlowError(f"no authorization within {self._timeout:.0f} s") from None
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None
        self._sock.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode("latin-1")
            status, text = self._receive(target)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, IndexError):
            status, text = "400 Bad Request", "bad request"
        body = f"<!doctype html><title>llmspell</title><p>{text}</p>".encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    def _receive(self, target: str) -> tuple[str, str]:
        if urlsplit(target).path != urlsplit(self.redirect_uri).path:
            return "404 Not Found", "not found"
        query = parse_qs(urlsplit(target).query)
        if query.get("state", [None])[0] != self._state or self._done is None:
            return "400 Bad Request", "this is not the authorization llmspell is waiting for"
        if not self._done.done():
            try:
                self._done.set_result(_result(target))
            except OAuthFlowError as exc:
                self._done.set_exception(exc)
                return "400 Bad Request", "authorization refused; see the terminal"
        return "200 OK", "Authorized. You can close this window and return to the terminal."
