"""The gateway's composition root: one runtime filled from the config (built-in tools, scripts,
agents), served by one MCP server, with scripts reloaded when their files change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmspell.adapters.scripts.api import Writer, _stderr
from llmspell.adapters.scripts.engine import Limits
from llmspell.adapters.scripts.loader import LoadedScript, load_script
from llmspell.runtime import LLMSpellError, Runtime

from .config import GatewayConfig

logger = logging.getLogger("llmspell.gateway")

RELOAD_POLL = 0.5


@dataclass
class Gateway:
    config: GatewayConfig
    runtime: Runtime = field(default_factory=Runtime)
    scripts: dict[Path, LoadedScript] = field(default_factory=dict)
    agents: list[Any] = field(default_factory=list)
    write: Writer = _stderr
    """Where script output goes: stderr, since stdout may be the MCP stdio channel."""
    federation: Any = None
    """The remote MCP servers (`mcpServers`), once started."""
    remote_agents: Any = None
    """The remote A2A agents (`[a2a_agents]`, `A2A.discover`)."""
    _watch: asyncio.Task[None] | None = None
    _script_args: dict[Path, list[str]] = field(default_factory=dict)
    _tracing: Any = None

    @property
    def limits(self) -> Limits:
        timeout = self.config.limits.timeout
        return Limits(timeout=timeout or None, memory=self.config.limits.memory_mb * 1024 * 1024)

    async def start(self, *, reload: bool = False) -> None:
        """Built-in tools, then remote MCP servers (opened in parallel), then scripts (which may
        use both), then config agents (which may offer any of them). A script that fails to load
        stops the start with its FILE:LINE; an upstream that fails is reported and retried."""
        from llmspell.adapters.llm.agent import Agent, AgentSpec
        from llmspell.adapters.tools import register_builtins
        from llmspell.adapters.tools.files import Roots
        from llmspell.protocols.mcp.remote import LazyFederation

        self._harden()
        roots = self.config.root_paths()
        if self.config.builtins:
            register_builtins(self.runtime.catalog, roots=roots)
        fed = self.config.federation
        self.federation = LazyFederation(
            self.runtime, separator=fed.separator, startup_wait=fed.startup_wait
        )
        self.runtime.remote = self.federation
        specs = self.config.server_specs()
        if specs:
            await self.federation.start(specs)
        await self._add_remote_agents()
        self._script_args = self.config.script_entries()
        for path in self._script_args:
            self.scripts[path] = await self._load(path)
        file_roots = Roots.of(roots)

        async def load_image(path: str) -> bytes:
            return await file_roots.read_bytes("agent", path)

        for spec in self.config.agents:
            agent = Agent(
                AgentSpec.from_plain(spec.model_dump()),
                self.runtime.pipeline,
                load_image=load_image,
            )
            self.runtime.catalog.register(agent.component())
            self.agents.append(agent)
        if reload and self.scripts:
            self._watch = asyncio.create_task(self._watch_scripts())

    def _harden(self) -> None:
        """`[policy]` and `[limits]` into the pipeline; each costs nothing when not set."""
        from .limits import RateLimiter
        from .policy import RulePolicy

        pipeline, limits = self.runtime.pipeline, self.config.limits
        pipeline.policy = RulePolicy.of(self.config.policy)
        pipeline.limiter = RateLimiter(limits.rate) if limits.rate else None
        pipeline.default_timeout = limits.call_timeout or None
        pipeline.max_result_bytes = limits.max_result_bytes or None
        if self.config.tracing.enabled:
            from . import tracing

            self._tracing = tracing.setup(self.config.tracing)
            pipeline.tracer = tracing.tracer()

    async def _add_remote_agents(self) -> None:
        """`[a2a_agents]`, in parallel; one that cannot be reached is reported, not fatal."""
        from llmspell.protocols.a2a import LazyRemoteAgents

        self.remote_agents = LazyRemoteAgents(self.runtime)
        self.runtime.a2a = self.remote_agents
        configured = self.config.a2a_agents
        if not configured:
            return
        from llmspell.protocols.mcp.client import expand_env

        async def add(name: str, url: str, headers: dict[str, str]) -> None:
            try:
                await self.remote_agents.add(name, expand_env(url), expand_env(headers))
            except (LLMSpellError, KeyError) as exc:
                self.write(f"llmspell: A2A agent {name!r} not added: {exc}\n")

        await asyncio.gather(*(add(n, a.url, a.headers) for n, a in configured.items()))

    async def _load(self, path: Path) -> LoadedScript:
        return await load_script(
            self.runtime,
            str(path),
            limits=self.limits,
            args=self._script_args.get(path),
            stdout=self.write,
            stderr=self.write,
        )

    async def reload(self, path: Path) -> None:
        """Swap a script for its new version; its components leave and come back, and MCP
        clients hear `list_changed`. A broken edit is reported and leaves the script unloaded."""
        with self.runtime.catalog.batch():
            old = self.scripts.pop(path, None)
            if old is not None:
                old.unload()
                await old.aclose()
            try:
                self.scripts[path] = await self._load(path)
            except (LLMSpellError, OSError) as exc:
                self.write(f"llmspell: reload of {path} failed: {exc}\n")
                return
        self.write(f"llmspell: reloaded {path}\n")

    async def _watch_scripts(self) -> None:
        seen = {p: _mtime(p) for p in self.scripts}
        while True:
            await asyncio.sleep(RELOAD_POLL)
            for path in list(seen):
                stamp = _mtime(path)
                if stamp != seen[path]:
                    seen[path] = stamp
                    await self.reload(path)

    def summary(self) -> dict[str, list[str]]:
        catalog = self.runtime.catalog
        return {
            "tools": sorted(c.name for c in catalog.list("tool")),
            "agents": sorted(c.name for c in catalog.list("agent")),
            "workflows": sorted(c.name for c in catalog.list("workflow")),
            "prompts": sorted(p.name for p in self.runtime.prompts.list()),
            "resources": sorted(
                r.uri for r in [*self.runtime.resources.list(), *self.runtime.resources.templates()]
            ),
            "scripts": [str(p) for p in self.scripts],
            "upstreams": [
                f"{u['name']} ({u['state']}, {u['tools']} tools)" for u in self.upstreams()
            ],
        }

    def upstreams(self) -> list[dict[str, Any]]:
        return self.federation.servers() if self.federation is not None else []

    async def aclose(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for script in self.scripts.values():
            await script.aclose()
        for agent in self.agents:
            await agent.aclose()
        if self.federation is not None:
            await self.federation.aclose()
        if self.remote_agents is not None:
            await self.remote_agents.aclose()
        if self._tracing is not None:
            self._tracing.shutdown()  # flushes the spans still batched


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
