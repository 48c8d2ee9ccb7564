"""The gateway as an ASGI app inside another Starlette or FastAPI application (`asgi_app`).

It is `build_app`'s app (MCP, A2A, health, metrics, events) behind a small wrapper that solves
what mounting changes:

- Starlette and FastAPI do not run a mounted app's lifespan. The wrapper starts on its own
  lifespan when served directly, on `lifespan` when the parent passes it on, and otherwise
  on the first request.
- A2A cards carry absolute URLs, and a mounted app does not know where it is reached. It takes
  `base_url` when given, else the first request's own address and mount prefix (the ASGI
  scope's `server`, `scheme` and `root_path`: the socket it arrived on, not a header a client
  could choose).

One task owns the started gateway from start to stop: the MCP session manager runs an anyio
task group, which has to be entered and left by the same task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from .assembly import Mode
from .library import ConfigSource, Runtime

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import Receive, Scope, Send

STOPPED = "the llmspell gateway app is stopped"


def asgi_app(config: ConfigSource | Runtime = None, *, base_url: str | None = None) -> GatewayApp:
    """The gateway for `config` (an `llmspell.toml` path, a dict, or None for the built-in
    tools alone) as an ASGI app: MCP at the config's `[http] path` (`/mcp`) and A2A at
    `/a2a/<name>`, both under the prefix it is mounted at. Everything the config names is
    started, as `llmspell gateway` does. Given a `Runtime` instead, it serves that runtime
    (its Python tools included), starting and stopping it only if it is not already started.
    `base_url` is where clients reach the mount (`https://example.com/llm`), for A2A cards
    behind a proxy."""
    runtime = config if isinstance(config, Runtime) else Runtime(config, Mode.serve())
    return GatewayApp(runtime, base_url=base_url)


class GatewayApp:
    """An ASGI app; `lifespan` is the hook for a parent that runs its own (FastAPI's
    `lifespan=`), `start` and `aclose` for anything else."""

    def __init__(self, runtime: Runtime, *, base_url: str | None = None) -> None:
        self.runtime = runtime
        self.base_url = base_url.rstrip("/") if base_url else None
        self._task: asyncio.Task[None] | None = None
        self._started: asyncio.Future[None] | None = None
        self._base: asyncio.Future[str] | None = None
        self._app: asyncio.Future[Starlette] | None = None
        self._stop = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        await self.start()
        assert self._base is not None and self._app is not None
        if not self._base.done():
            self._base.set_result(request_base(scope))
        app = await asyncio.shield(self._app)
        await app(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        """`FastAPI(lifespan=gateway.lifespan)`, or `async with gateway.lifespan():` inside a
        parent's own lifespan: the gateway starts with the parent and stops with it."""
        await self.start()
        try:
            yield
        finally:
            await self.aclose()

    async def start(self) -> None:
        """Start the runtime (its failure is raised here); with `base_url` known, also the
        HTTP side, else that waits for the first request."""
        if self._task is None:
            loop = asyncio.get_running_loop()
            self._started, self._base, self._app = (
                _future(loop),
                _future(loop),
                _future(loop),
            )
            if self.base_url is not None:
                self._base.set_result(self.base_url)
            self._stop = asyncio.Event()
            self._task = asyncio.create_task(self._run(), name="llmspell-gateway")
        assert self._started is not None and self._base is not None and self._app is not None
        await asyncio.shield(self._started)
        if self._base.done():
            await asyncio.shield(self._app)

    async def aclose(self) -> None:
        """Stop serving and close what the app started; the app may be started again."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stop.set()
        if self._base is not None and not self._base.done():
            self._base.set_exception(RuntimeError(STOPPED))
        await task

    async def _run(self) -> None:
        assert self._started is not None and self._base is not None and self._app is not None
        owned = not self.runtime.started
        try:
            if owned:
                await self.runtime.start()
        except Exception as exc:
            self._started.set_exception(exc)
            self._app.set_exception(RuntimeError(STOPPED))
            return
        except asyncio.CancelledError:  # the loop is ending: no waiter is left hanging
            self._started.cancel()
            self._app.cancel()
            raise
        self._started.set_result(None)
        try:
            base_url = await self._base
            app = self._build(base_url)
            async with app.router.lifespan_context(app):  # announces `gateway_stop` on exit
                path = self.runtime.assembly.config.http.path
                await self.runtime.assembly.announce("gateway_start", f"{base_url}{path}")
                self._app.set_result(app)
                await self._stop.wait()
        except Exception as exc:
            if not self._app.done():
                self._app.set_exception(exc)
        finally:
            if not self._app.done():
                self._app.set_exception(RuntimeError(STOPPED))
            if owned:
                await self.runtime.aclose()

    def _build(self, base_url: str) -> Starlette:
        """`build_app` for the started runtime, as `llmspell gateway` builds it."""
        from llmspell.protocols.mcp import McpServer
        from llmspell.protocols.mcp.http import HttpOptions

        import llmspell

        from .app import build_app

        gateway = self.runtime.assembly
        config = gateway.config
        http = config.http
        authenticator = None
        if config.auth.enabled:
            from . import auth

            authenticator = auth.from_config(config.auth, f"{base_url}{http.path}", config.base_dir)
        mcp = McpServer(
            gateway.runtime,
            name=config.name,
            version=llmspell.__version__,
            instructions=config.instructions,
        )
        options = HttpOptions(
            host=http.host,
            stateless=http.stateless,
            max_body=http.max_body,
            allowed_hosts=tuple(http.allowed_hosts),
        )
        return build_app(gateway, mcp, options, base_url, authenticator)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """The ASGI lifespan protocol, for a server running this app itself."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def request_base(scope: Scope) -> str:
    """Where this request reached the app: scheme, the socket's address, the mount prefix."""
    scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme"))
    server = scope.get("server") or ("127.0.0.1", None)
    host, port = server[0], server[1]
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme or "http")
    where = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme or 'http'}://{where}{scope.get('root_path', '')}".rstrip("/")


def _future(loop: asyncio.AbstractEventLoop) -> asyncio.Future[Any]:
    """A future whose exception counts as seen: a failure nobody waited for is no warning."""
    future = loop.create_future()
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    return future
