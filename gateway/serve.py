"""`llmspell gateway`: start the gateway, then serve it over Streamable HTTP (uvicorn) or stdio."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from .assembly import Assembly, Mode, assemble
from .config import GatewayConfig


@dataclass(frozen=True, slots=True)
class ServeOptions:
    stdio: bool = False
    reload: bool = False
    quiet: bool = False
    insecure: bool = False
    """Allow a non-loopback bind without authentication."""
    service: bool = False
    """`llmspell serve`: the scheduler, SIGTERM drain, SIGHUP reload (gateway/lifecycle.py)."""
    grace: float = 3.0
    """Seconds in-flight requests may take to finish once the server is told to stop."""
    reread: Callable[[], GatewayConfig] | None = None
    """Reads the config again (SIGHUP under `service`)."""


async def serve(config: GatewayConfig, options: ServeOptions) -> None:
    from llmspell.protocols.mcp import McpServer
    from llmspell.protocols.mcp.http import LOOPBACK

    import llmspell

    from . import logs

    logs.configure(config.logging)
    http = config.http
    if (
        not options.stdio
        and http.host not in LOOPBACK
        and not config.auth.enabled
        and not options.insecure
    ):
        raise OSError(
            f"refusing to listen on {http.host} without authentication: configure [auth] "
            "(JWT or API keys), or pass --insecure if something else guards this port"
        )
    started = time.perf_counter()
    async with assemble(config, Mode.serve(reload=options.reload)) as gateway:
        await asyncio.to_thread(_import_tools)
        mcp = McpServer(
            gateway.runtime,
            name=config.name,
            version=llmspell.__version__,
            instructions=config.instructions,
        )
        if options.stdio:
            from llmspell.protocols.mcp import stdio

            if not options.quiet:
                _summary(gateway, "stdio", started)
            await gateway.announce("gateway_start", "stdio")
            _settle()
            try:
                await stdio.serve(mcp)
            finally:
                await gateway.announce("gateway_stop")
        else:
            await _serve_http(gateway, mcp, options, started)


async def _serve_http(
    gateway: Assembly, mcp: object, options: ServeOptions, started: float
) -> None:
    import socket

    import uvicorn
    from llmspell.protocols.mcp import McpServer
    from llmspell.protocols.mcp.http import HttpOptions

    from .app import build_app

    assert isinstance(mcp, McpServer)
    http = gateway.config.http
    # Bind first: a taken port fails before anything is announced, and port 0 is resolved
    # (A2A cards need the real address).
    family = socket.AF_INET6 if ":" in http.host else socket.AF_INET
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on accepted connections: without it,
    # Nagle's algorithm holds small replies on a kept-alive connection back.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((http.host, http.port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {http.host}:{http.port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.setblocking(False)
    port = sock.getsockname()[1]
    host = f"[{http.host}]" if ":" in http.host else http.host
    base_url = f"http://{host}:{port}"
    authenticator = None
    if gateway.config.auth.enabled:
        from . import auth  # authlib is imported only when auth is on

        try:
            authenticator = auth.from_config(
                gateway.config.auth, f"{base_url}{http.path}", gateway.config.base_dir
            )
        except Exception:
            sock.close()
            raise
    service = None
    if options.service:
        from .lifecycle import Service

        service = Service(gateway, options.grace, options.reread)
    app = build_app(
        gateway,
        mcp,
        HttpOptions(
            host=http.host,
            stateless=http.stateless,
            max_body=http.max_body,
            allowed_hosts=tuple(http.allowed_hosts),
        ),
        base_url,
        authenticator,
        scheduler=service.scheduler if service is not None else None,
    )
    server = (uvicorn.Server if service is None else service.Server)(
        uvicorn.Config(
            app if service is None else service.wrap(app),
            log_level="warning",
            log_config=None,  # logs.configure set the handlers; uvicorn's would reset them
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=math.ceil(options.grace),
        )
    )
    if not options.quiet:
        _summary(gateway, f"{base_url}{http.path}", started)
        if service is not None:
            service.summary()
    if gateway.cluster is not None:
        await gateway.cluster.announce(f"{base_url}{http.path}")
    await gateway.announce("gateway_start", f"{base_url}{http.path}")
    _settle()
    try:
        if service is None:
            await server.serve(sockets=[sock])
        else:
            await service.run(server, [sock])
    finally:
        sock.close()


def _summary(gateway: Assembly, where: str, started: float) -> None:
    """What is served and where, on stderr (stdout may be the MCP channel)."""
    from rich.console import Console
    from rich.table import Table

    info = gateway.summary()
    console = Console(stderr=True, highlight=False)
    elapsed = (time.perf_counter() - started) * 1000
    mode = " (stateless)" if gateway.config.http.stateless and where != "stdio" else ""
    console.print(
        f"[bold]llmspell gateway[/bold] serving MCP at [cyan]{where}[/cyan]{mode}"
        f"  [dim]ready in {elapsed:.0f} ms[/dim]"
    )
    if where != "stdio" and gateway.config.a2a.enabled:
        base = where[: -len(gateway.config.http.path)]
        console.print(
            f"  and A2A at [cyan]{base}/a2a/<name>[/cyan]"
            f"  [dim]card: {base}/.well-known/agent-card.json[/dim]",
            soft_wrap=True,
        )
        database = gateway.config.a2a_database()
        if database is not None:
            from llmspell.adapters.state.postgres import shown as without_password

            where_kept = without_password(database) if isinstance(database, str) else database
            console.print(f"  A2A tasks are kept in [cyan]{where_kept}[/cyan]", soft_wrap=True)
    table = Table(show_header=False, box=None, padding=(0, 1))
    for key in ("tools", "agents", "workflows", "prompts", "resources", "scripts", "upstreams"):
        names = info[key]
        if names:
            shown = ", ".join(names[:8]) + (f", … (+{len(names) - 8})" if len(names) > 8 else "")
            table.add_row(f"[bold]{key}[/bold]", str(len(names)), shown)
    console.print(table)
    sys.stderr.flush()


def _import_tools() -> None:
    """The built-in tools' modules, before the server says where it listens: `llmspell run`
    imports a category on its first call, a server must not make a caller wait for that."""
    from importlib import import_module

    from llmspell.adapters.tools.registry import CATEGORIES

    for module in CATEGORIES.values():
        import_module(module)


def _settle() -> None:
    """Move everything start-up made (modules, the SDKs, the catalog) out of the collector's
    sight: a request's garbage then never makes it walk that heap again. Measured with `bench
    hooks`: a built-in tool call over Streamable HTTP went from about 3.55 ms to 3.0-3.1 ms."""
    import gc

    gc.collect()
    gc.freeze()
