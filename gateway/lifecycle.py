"""`llmspell serve` as a service: the scheduler beside the HTTP server, SIGTERM drains (no new
connections, in-flight calls answered within the grace period, long-lived GET streams ended
at once, exit 0) and SIGHUP rereads the config without dropping MCP sessions."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import uvicorn
from llmspell.runtime import LLMSpellError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import ConfigError, GatewayConfig
from .scheduler import Scheduler, script_loader

if TYPE_CHECKING:
    import socket

    from .assembly import Assembly

Reread = Callable[[], GatewayConfig]
"""Reads the config again as the command line first did (its file, `--mcp-config`...)."""


class Drain:
    """ASGI wrapper that ends open GET event streams (MCP's standalone SSE stream, `/events`)
    once the server is stopping and every other request has been answered: such a stream
    never finishes on its own, so uvicorn would wait for it for the whole grace period. A
    client then hears its call's answer first, and the stream's end after."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.draining = False
        self._ending = False
        self._busy = 0
        self._streams: set[asyncio.Task[Any]] = set()

    def drain(self) -> None:
        self.draining = True
        self._settle()

    def _settle(self) -> None:
        if self.draining and self._busy == 0 and not self._ending:
            self._ending = True
            for task in self._streams:
                task.cancel("the server is stopping")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        self._busy += 1
        busy, started, ended = True, False, False

        async def watch(message: Message) -> None:
            nonlocal busy, started, ended
            if message["type"] == "http.response.start":
                started = True
                kind = dict(message.get("headers", [])).get(b"content-type", b"")
                if scope["method"] == "GET" and kind.startswith(b"text/event-stream"):
                    self._streams.add(task)  # a stream: no longer what the stop waits for
                    busy = False
                    self._busy -= 1
                    if self._ending:
                        task.cancel("the server is stopping")
                    else:
                        self._settle()
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                ended = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except asyncio.CancelledError:
            if not (self._ending and task in self._streams):
                raise
            task.uncancel()
            if started and not ended:  # close the stream properly: the client sees its end
                with contextlib.suppress(Exception):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._streams.discard(task)
            if busy:
                self._busy -= 1
                self._settle()


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (which re-raises SIGTERM once it has shut
    down, so the process ends by the signal): the service handles signals itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Service:
    """The parts `llmspell serve` adds to the gateway's HTTP serving."""

    Server = _Server

    def __init__(self, gateway: Assembly, grace: float, reread: Reread | None) -> None:
        self.gateway = gateway
        self.grace = grace
        self.reread = reread
        config = gateway.config
        self.scheduler = Scheduler(
            gateway.runtime,
            list(config.schedule),
            base_dir=config.base_dir,
            load_script=script_loader(gateway),
            lease=gateway.cluster.lease if gateway.cluster is not None else None,
        )
        self.drain: Drain | None = None
        self._show_jobs = False
        self._stopping: asyncio.Task[None] | None = None
        self._now: asyncio.Task[None] | None = None
        self._reload_lock = asyncio.Lock()
        self._reloads: set[asyncio.Task[bool]] = set()
        self._follow: asyncio.Task[None] | None = None

    def wrap(self, app: ASGIApp) -> ASGIApp:
        self.drain = Drain(app)
        return self.drain

    def summary(self) -> None:
        """List the jobs under the gateway's start-up summary (once they are started)."""
        self._show_jobs = True

    def _print_jobs(self) -> None:
        import sys

        jobs = self.scheduler.jobs()
        lines = [f"  jobs: {len(jobs)}" if jobs else "  no scheduled jobs"]
        for job in jobs:
            paused = "  (paused)" if job.paused else ""
            lines.append(f"    {job.name}: {job.schedule} -> {job.target}{paused}")
        print("\n".join(lines), file=sys.stderr, flush=True)

    async def run(self, server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        """Serve until SIGTERM or SIGINT (a second one stops at once); SIGHUP reloads."""
        loop = asyncio.get_running_loop()
        await self.scheduler.start()
        cluster = self.gateway.cluster
        if cluster is not None:  # a reload on another replica: reread the shared config too
            self._follow = asyncio.create_task(cluster.follow_reloads(self._peer_reloaded))
        if self._show_jobs:
            self._print_jobs()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop, server)
        loop.add_signal_handler(signal.SIGHUP, self._hup)
        try:
            await server.serve(sockets=sockets)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            for task in [*self._reloads, *([self._follow] if self._follow else [])]:
                task.cancel()
            if self._stopping is None:
                self._stopping = asyncio.create_task(self.scheduler.aclose(self.grace))
            await self._stopping

    def _stop(self, server: uvicorn.Server) -> None:
        if server.should_exit:  # the second signal: stop now, runs too
            server.force_exit = True
            self._now = asyncio.create_task(self.scheduler.aclose())
            return
        self.gateway.write("llmspell: stopping (in-flight calls may finish)\n")
        server.should_exit = True
        if self.drain is not None:
            self.drain.drain()
        self._stopping = asyncio.create_task(self.scheduler.aclose(self.grace))

    def _hup(self) -> None:
        task = asyncio.create_task(self.reload())
        self._reloads.add(task)
        task.add_done_callback(self._reloads.discard)

    async def _peer_reloaded(self, replica: str) -> None:
        self.gateway.write(f"llmspell: replica {replica} reloaded its config; rereading ours\n")
        await self.reload(tell_peers=False)

    async def reload(self, *, tell_peers: bool = True) -> bool:
        """Reread the config and apply it; a config that does not load is reported and the
        running one stays. With replicas, the others are told to reread theirs."""
        done = await self._reload()
        cluster = self.gateway.cluster
        if done and tell_peers and cluster is not None:
            await cluster.tell_reloaded()
        return done

    async def _reload(self) -> bool:
        async with self._reload_lock:
            write = self.gateway.write
            if self.reread is None:
                write("llmspell: no config file to reload\n")
                return False
            try:
                config = await asyncio.to_thread(self.reread)
            except (ConfigError, OSError) as exc:
                write(f"llmspell: config not reloaded, the running one stays: {exc}\n")
                return False
            try:
                await self.gateway.reconfigure(config)
                await self.scheduler.reconfigure(list(config.schedule))
            except (ConfigError, LLMSpellError, OSError, ValueError) as exc:
                write(f"llmspell: config reload incomplete: {exc}\n")
                return False
            write(f"llmspell: config reloaded ({len(config.schedule)} jobs)\n")
            return True


async def swap(gateway: Assembly, old: GatewayConfig, new: GatewayConfig) -> None:
    """What `Assembly.reconfigure` changes, inside its catalog batch: the built-in tools when
    `[tools]` or the roots changed (their sandbox and settings), scripts (removed ones
    unloaded, the others reread), config agents and config workflows. Upstream servers,
    `[[hooks]]`, `[policy]`, `[limits]`, `[auth]` and `[http]` keep their start-up values."""
    catalog = gateway.runtime.catalog
    if new.builtins and (new.tools, new.roots) != (old.tools, old.roots):
        from llmspell.adapters.tools import builtin_tools, select

        tools = builtin_tools(
            gateway.sandbox,
            settings=new.tools.settings_tables(),
            state=gateway.runtime.state,
            knowledge=gateway.knowledge,
            pipeline=gateway.runtime.pipeline,
        )
        names = gateway.mode.tools
        for tool in tools if names is None else select(tools, names):
            catalog.register(tool, replace=True)
    wanted = new.script_entries()
    for path in [p for p in gateway.scripts if p not in wanted]:
        script = gateway.scripts.pop(path)
        script.unload()
        await script.aclose()
        gateway.write(f"llmspell: unloaded {path}\n")
    for path in wanted:
        await gateway.reload(path)
    for spec in old.agents:
        catalog.unregister(spec.name)
    for agent in gateway.agents:
        await agent.aclose()
    gateway.agents.clear()
    for spec in new.agents:
        catalog.register(gateway.agent(spec.model_dump()).component())
    for name in old.workflows:
        catalog.unregister(name)
    if new.workflows:
        from .workflows import register

        register(gateway.runtime, new.workflows)
