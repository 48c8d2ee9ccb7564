"""The headless browser behind `render = true`: Chromium run under the process sandbox, its
traffic sent through a local proxy that applies the outbound network policy to every request."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from llmspell.runtime import ErrorCode, LLMSpellError
from llmspell.runtime.sandbox import NetworkPolicy, ProcessPolicy

from ._html import MiB, named, origin

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser(setting: Any) -> str | None:
    if setting:
        path = shutil.which(str(setting))
        return os.path.abspath(path) if path else None
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return os.path.abspath(path)
    return None


HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


class PolicyProxy:
    """A local HTTP proxy for the browser: plain requests are sent through the policy client
    (every hop checked, connections pinned to the checked address), CONNECT tunnels go to an
    address `checked()` allowed. What the policy refuses gets a 403 and is recorded."""

    def __init__(self, policy: NetworkPolicy, limit: int) -> None:
        self.policy = policy
        self.limit = limit
        self.refused: dict[str, str] = {}
        """URL or host:port -> the policy's reason."""
        self.redirects: dict[str, str] = {}
        """Plain-HTTP redirects the proxy passed on: URL -> its Location."""
        self._tasks: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[int]:
        from ..sandbox import network

        async with network.client(self.policy, timeout=30.0) as self._http:
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            try:
                yield server.sockets[0].getsockname()[1]
            finally:
                server.close()
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line, *lines = head.decode("latin-1").split("\r\n")
            method, target, _ = [*line.split(" ", 2), "", ""][:3]
            headers = [(h.partition(":")[0], h.partition(":")[2]) for h in lines if ":" in h]
            if method.upper() == "CONNECT":
                await self._tunnel(target, reader, writer)
            else:
                await self._forward(method, target, headers, reader, writer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _status(writer: asyncio.StreamWriter, code: int, reason: str, text: str) -> None:
        body = text.encode()
        writer.write(
            f"HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    async def _tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        from ..sandbox import network

        host, _, port = target.rpartition(":")
        if not port.isdigit():
            await self._status(writer, 400, "Bad Request", "CONNECT needs host:port")
            return
        try:
            address = (await network.checked(self.policy, host, int(port)))[0]
            upstream_reader, upstream_writer = await asyncio.open_connection(address, int(port))
        except LLMSpellError as exc:
            self.refused[target] = exc.message
            await self._status(writer, 403, "Forbidden", exc.message)
            return
        except OSError as exc:
            await self._status(writer, 502, "Bad Gateway", str(exc))
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await src.read(65536):
                    dst.write(chunk)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.write_eof()

        try:
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        finally:
            upstream_writer.close()

    async def _forward(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        import httpx

        if not target.startswith(("http://", "https://")):
            await self._status(writer, 400, "Bad Request", "only absolute URLs are proxied")
            return
        sent = [(k.strip(), v.strip()) for k, v in headers if k.strip().lower() not in HOP_BY_HOP]
        length = next((v for k, v in sent if k.lower() == "content-length"), "0")
        body = await reader.readexactly(min(int(length), self.limit)) if length.isdigit() else b""
        try:
            request = self._http.build_request(method, target, headers=sent, content=body)
            response = await self._http.send(request, stream=True)
        except LLMSpellError as exc:
            self.refused[target] = exc.message
            await self._status(writer, 403, "Forbidden", exc.message)
            return
        except httpx.HTTPError as exc:
            await self._status(writer, 502, "Bad Gateway", str(exc) or type(exc).__name__)
            return
        try:
            if response.is_redirect and "location" in response.headers:
                self.redirects[target] = urljoin(target, response.headers["location"])
            head = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
            head += [
                f"{k}: {v}"
                for k, v in response.headers.multi_items()
                if k.lower() not in HOP_BY_HOP
            ]
            writer.write(("\r\n".join([*head, "Connection: close"]) + "\r\n\r\n").encode())
            async for chunk in response.aiter_raw():
                writer.write(chunk)
                await writer.drain()
        finally:
            await response.aclose()


def _browser_policy(timeout: float, limit: int) -> ProcessPolicy:
    """Chromium reserves terabytes of address space and starts a dozen processes: the limits
    that fit a command would stop it, so only the clock, CPU and output are bounded here."""
    return ProcessPolicy(
        timeout=timeout,
        cpu_seconds=int(timeout) + 10,
        memory_bytes=2**46,
        file_size_bytes=256 * MiB,
        processes=4096,
        max_output=limit,
    )


async def render(
    policy: NetworkPolicy,
    url: str,
    *,
    tool_name: str,
    browser: str | None,
    timeout: float,  # noqa: ASYNC109 - the browser's wall clock, enforced by killing it
    limit: int,
) -> tuple[str, str, list[str]]:
    """The DOM after the page's scripts ran, dumped by headless Chromium, the URL it ended at
    (plain-HTTP redirects are seen by the proxy) and what the policy refused on the way. The
    URL is checked first; the browser reaches the network only through a `PolicyProxy`
    (loopback included), and is killed on timeout or cancellation."""
    from ..sandbox import network, process

    parts = urlsplit(url)
    try:
        await network.checked(policy, parts.hostname or "", origin(url)[1])
    except LLMSpellError as exc:
        raise named(tool_name, exc) from None
    if browser is None:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED,
            f"{tool_name}: render = true needs Chromium or Chrome, and none was found on PATH "
            f"({', '.join(BROWSERS)}); install one (apt-get install chromium) or set "
            f"[tools.{tool_name}] browser to its path",
            data={"browsers": list(BROWSERS)},
        )
    proxy = PolicyProxy(policy, limit)
    with tempfile.TemporaryDirectory(prefix="llmspell-browser-") as home:
        async with proxy.serving() as port:
            args = [
                "--headless",
                "--disable-gpu",
                "--no-sandbox",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-sync",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-dev-shm-usage",
                "--mute-audio",
                "--hide-scrollbars",
                f"--user-data-dir={home}/profile",
                f"--proxy-server=http://127.0.0.1:{port}",
                "--proxy-bypass-list=<-loopback>",
                "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
                "--dump-dom",
                url,
            ]
            env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": home, "LANG": "C.UTF-8"}
            done = await process.run(
                _browser_policy(timeout, limit),
                browser,
                args,
                cwd=Path(home),
                env=env,
                timeout=timeout,
            )
    refused = [f"{where}: {why}" for where, why in proxy.refused.items()]
    chain = [url]
    while chain[-1] in proxy.redirects and len(chain) < 20:
        chain.append(proxy.redirects[chain[-1]])
    for hop in chain:
        if hop in proxy.refused:
            raise LLMSpellError(
                ErrorCode.DENIED, f"{tool_name}: {proxy.refused[hop]}", data={"url": hop}
            )
    if done.timed_out:
        raise LLMSpellError(
            ErrorCode.TIMEOUT,
            f"{tool_name}: the browser did not finish {url} within {timeout}s",
            data={"url": url},
        )
    if not done.stdout.strip():
        detail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.exit_code}"]
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"{tool_name}: the browser returned no page for {url} ({detail[0][:300]})",
            data={"url": url, "refused": refused},
        )
    return done.stdout, chain[-1], refused
