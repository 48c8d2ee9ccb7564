"""The one place a runtime is put together. Every entry point (`llmspell gateway`, `run`,
`tool`, `agent`, `mcp`, `a2a`, the benchmarks) says what it wants as a `Mode`, gets an
`Assembly` (the runtime and its parts) and closes it with `aclose`, so a part is wired, and
closed, the same way everywhere.

Nothing heavy is imported here: each part imports its stack when it is started, so
`llmspell run hello.lua` loads neither the protocol stacks nor the config schema (pydantic).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.runtime import LLMSpellError, Runtime

from .knowledge import LazyKnowledge, rag_knowledge
from .mode import EVERYTHING, Mode, Part

__all__ = ["EVERYTHING", "Assembly", "Mode", "Part", "assemble"]

if TYPE_CHECKING:
    from llmspell.adapters.hooks import Builtins
    from llmspell.adapters.llm.agent import Agent
    from llmspell.adapters.scripts.engine import Limits
    from llmspell.adapters.scripts.loader import LoadedScript
    from llmspell.adapters.state import SqliteStateStore
    from llmspell.adapters.state.postgres import PostgresStateStore
    from llmspell.protocols.a2a import LazyRemoteAgents
    from llmspell.protocols.mcp.remote import LazyFederation
    from llmspell.protocols.mcp.spec import ServerSpec
    from llmspell.protocols.mcp.token_store import TokenVault
    from llmspell.runtime.knowledge import Knowledge
    from llmspell.runtime.sandbox import Sandbox

    from .cluster import Cluster
    from .config import GatewayConfig

Writer = Callable[[str], None]
RELOAD_POLL = 0.5
"""Seconds between looks at the scripts' modification times (`--reload`)."""


class Assembly:
    """A runtime and its parts. `config` is None when no config is read (`llmspell run`): the
    built-ins under the mode's roots (default the working directory), nothing else."""

    def __init__(
        self, config: GatewayConfig | None, mode: Mode, *, write: Writer | None = None
    ) -> None:
        self._config = config
        self.mode = mode
        self._store = self._state_store()
        self.runtime = Runtime(state=self._store)
        self.write: Writer = write or _note
        """Where the assembly's own notes go (an agent not added, a reload)."""
        self.federation: LazyFederation | None = None
        """The remote MCP servers (`mcpServers`, `MCP.connect`)."""
        self.remote_agents: LazyRemoteAgents | None = None
        """The remote A2A agents (`[a2a_agents]`, `A2A.discover`)."""
        self.scripts: dict[Path, LoadedScript] = {}
        self.agents: list[Agent] = []
        self._script_args: dict[Path, list[str]] = {}
        self._watch: asyncio.Task[None] | None = None
        self._tracing: Any = None
        self.builtin_hooks: Builtins | None = None
        """The `[builtin_hooks]` put in place (`usage` is a Prometheus collector)."""
        self._hook_scripts: list[LoadedScript] = []
        self._cwd = Path.cwd()
        self.knowledge = self.runtime.knowledge = LazyKnowledge(self._knowledge)
        """The RAG collections (`[knowledge]`), built on first use."""
        self.cluster: Cluster | None = None
        """The replicas' shared Redis (`[cluster] redis`), when the gateway is one of several."""

    def _state_store(self) -> SqliteStateStore | PostgresStateStore | None:
        """SQLite at the mode's file (`run --state FILE`), else the config's `[state]`: its
        SQLite file or PostgreSQL URL (None: `backend = "memory"`, a memory store)."""
        if self.mode.state is not None:
            target: Path | str | None = Path(self.mode.state)
        elif self._config is not None:
            target = self._config.state_target()
        else:
            target = None
        if target is None:
            return None
        from llmspell.adapters.state import store_at

        return store_at(target)

    @property
    def config(self) -> GatewayConfig:
        """The config it was built from; the defaults when none was read."""
        if self._config is not None:
            return self._config
        from .config import GatewayConfig

        return GatewayConfig()

    @property
    def roots(self) -> list[Path]:
        if self.mode.roots:
            return [Path(r) for r in self.mode.roots]
        return self._config.root_paths() if self._config is not None else [Path.cwd()]

    @property
    def sandbox(self) -> Sandbox:
        """`[tools]` over the roots: what the built-in tools may touch (without a config, the
        closed defaults; the config schema is not even imported)."""
        if self._config is None:
            from llmspell.runtime.sandbox import FilePolicy, Sandbox

            return Sandbox(files=FilePolicy(tuple(self.roots)))
        return self._config.tools.sandbox(self.roots)

    @property
    def limits(self) -> Limits:
        """Each script's limits: `[limits] timeout` and `memory_mb`."""
        from llmspell.adapters.scripts.engine import Limits

        if self._config is None:
            return Limits()
        limits = self._config.limits
        return Limits(timeout=limits.timeout or None, memory=limits.memory_mb * 1024 * 1024)

    def _knowledge(self) -> Knowledge:
        return rag_knowledge(self.runtime, self._config, self.sandbox.files, self._cwd)

    async def start(self) -> None:
        """Built-in tools, then remote MCP servers (opened in parallel), then remote A2A agents,
        then scripts (which may use all of them), then config agents (which may offer any of
        them), then config workflows (whose steps may call any of them). A script that fails to
        load stops the start with its FILE:LINE; an upstream that fails is reported and
        retried."""
        from llmspell.protocols.a2a import LazyRemoteAgents

        config, mode = self._config, self.mode
        local = mode.stdout  # `run`, `agent run`: the script they load may use State
        if self._store is not None and ("scripts" in mode.start or local):
            await self._store.open()  # a bad file stops the start; `tool list` makes none
        if config is not None and "hardening" in mode.start:
            if config.cluster.redis is not None:
                from .cluster import Cluster

                shared = config.cluster
                self.cluster = Cluster(
                    shared.url() or "", prefix=shared.prefix, replica=shared.replica
                )
                await self.cluster.start()
            self._harden(config)
        if "builtins" in mode.start and (config is None or config.builtins):
            from llmspell.adapters.tools import register_builtins

            register_builtins(
                self.runtime.catalog,
                self.sandbox,
                settings=config.tools.settings_tables() if config is not None else None,
                state=self.runtime.state,
                knowledge=self.knowledge,
                pipeline=self.runtime.pipeline,
                names=mode.tools,
            )
        from llmspell.adapters.tools.knowledge.resource import knowledge_resource

        self.runtime.resources.register(knowledge_resource(self.knowledge.get))
        await self._start_federation()
        self.remote_agents = self.runtime.a2a = LazyRemoteAgents(self.runtime)
        if config is None:
            return
        if "remote_agents" in mode.start:
            await self._add_remote_agents(config)
        if "scripts" in mode.start:
            self._script_args = config.script_entries()
            for path in self._script_args:
                await self.load(path)
            await self._hooks(config)
        if "agents" in mode.start:
            for spec in config.agents:
                self.runtime.catalog.register(self.agent(spec.model_dump()).component())
        if "workflows" in mode.start and config.workflows:
            from .workflows import register

            register(self.runtime, config.workflows)
        if mode.reload and self.scripts:
            self._watch = asyncio.create_task(self._watch_scripts())

    def _harden(self, config: GatewayConfig) -> None:
        """`[policy]`, `[limits]` and `[tracing]` into the pipeline; each costs nothing unset."""
        from .limits import RateLimiter
        from .policy import RulePolicy

        pipeline, limits = self.runtime.pipeline, config.limits
        pipeline.policy = RulePolicy.of(config.policy)
        if limits.rate and self.cluster is not None:
            from .limits import RedisRateLimiter

            pipeline.limiter = RedisRateLimiter(limits.rate, self.cluster)
        else:
            pipeline.limiter = RateLimiter(limits.rate) if limits.rate else None
        pipeline.default_timeout = limits.call_timeout or None
        pipeline.max_result_bytes = limits.max_result_bytes or None
        if config.tracing.enabled:
            from . import tracing

            self._tracing = tracing.setup(config.tracing)
            pipeline.tracer = tracing.tracer()

    async def _hooks(self, config: GatewayConfig) -> None:
        """`[builtin_hooks]` and `[[hooks]]`: the built-ins turned on, then each declared hook
        (a script returning the function, relative to the config, or a Python entry point)."""
        from llmspell.adapters import hooks
        from llmspell.protocols.mcp.spec import expand_env

        builtin = config.builtin_hooks
        redact = builtin.redact.model_dump() if builtin.redact is not None else None
        if redact is not None:
            redact["secrets"] = expand_env(redact["secrets"])
        self.builtin_hooks = hooks.install_builtins(
            self.runtime,
            cache=builtin.cache.model_dump() if builtin.cache is not None else None,
            retry=builtin.retry.model_dump() if builtin.retry is not None else None,
            logging=builtin.logging,
            redact=redact,
            usage=builtin.usage.model_dump() if builtin.usage is not None else None,
        )
        for declared in config.hooks:
            if declared.script is not None:
                from llmspell.adapters.scripts.loader import load_script

                path = str(config.base_dir / declared.script)
                loaded = await load_script(
                    self.runtime, path, limits=self.limits, stderr=self.write, roots=self.roots
                )
                self._hook_scripts.append(loaded)
                fn = hooks.script_hook(loaded.value, path)
            else:
                assert declared.python is not None
                fn = hooks.python_hook(declared.python)
            self.runtime.hooks.register(
                declared.point,
                fn,
                priority=declared.priority,
                match=declared.match,
                name=declared.name or (declared.script or declared.python or ""),
            )

    async def _start_federation(self) -> None:
        from llmspell.protocols.mcp.remote import LazyFederation

        config, mode = self._config, self.mode
        if config is None:
            self.federation = self.runtime.remote = LazyFederation(self.runtime)
            return
        separator = config.federation.separator
        specs: list[ServerSpec] = config.server_specs() if "upstreams" in mode.start else []
        if mode.only is not None:
            specs = [s for s in specs if mode.only.startswith(s.name + separator)]
        wait = config.federation.startup_wait
        if mode.wait == "first_attempt":
            enabled = [s.connect_timeout for s in specs if not s.disabled]
            wait = max(enabled, default=0.0) + 1.0
        self.federation = self.runtime.remote = LazyFederation(
            self.runtime, separator=separator, startup_wait=wait, tokens=self._token_vault
        )
        if specs:
            await self.federation.start(specs)

    async def _token_vault(self) -> TokenVault:
        """Where `auth = "oauth"` upstreams keep their tokens: the state store, sealed with the
        `[oauth]` key (past the hooks: a sealed token is nobody's business)."""
        from .oauth_config import vault_for

        return await vault_for(self.config, self._store or self.runtime.state)

    async def _add_remote_agents(self, config: GatewayConfig) -> None:
        """`[a2a_agents]`, in parallel; one that cannot be reached is reported, not fatal."""
        if not config.a2a_agents:
            return
        from llmspell.protocols.mcp.spec import expand_env

        agents = self.remote_agents
        assert agents is not None

        async def add(name: str, url: str, headers: dict[str, str]) -> None:
            try:
                await agents.add(name, expand_env(url), expand_env(headers))
            except (LLMSpellError, KeyError) as exc:
                self.write(f"llmspell: A2A agent {name!r} not added: {exc}\n")

        await asyncio.gather(*(add(n, a.url, a.headers) for n, a in config.a2a_agents.items()))

    async def load(
        self,
        path: str | Path,
        *,
        engine: str | None = None,
        args: list[str] | None = None,
        limits: Limits | None = None,
    ) -> LoadedScript:
        """Run a script's main chunk into the runtime (its components join the catalog); it is
        closed with the assembly. Raises ScriptError with FILE:LINE when it fails."""
        from llmspell.adapters.scripts.api import to_stderr, to_stdout
        from llmspell.adapters.scripts.loader import load_script

        key = Path(path)
        out, err = (to_stdout, to_stderr) if self.mode.stdout else (self.write, self.write)
        loaded = await load_script(
            self.runtime,
            str(path),
            engine=engine,
            limits=limits or self.limits,
            args=args if args is not None else self._script_args.get(key),
            stdout=out,
            stderr=err,
            roots=self.roots,
        )
        self.scripts[key] = loaded
        return loaded

    async def reload(self, path: Path) -> None:
        """Swap a script for its new version; its components leave and come back, and MCP
        clients hear `list_changed`. A broken edit is reported and leaves the script unloaded."""
        with self.runtime.catalog.batch():
            old = self.scripts.pop(path, None)
            if old is not None:
                old.unload()
                await old.aclose()
            try:
                await self.load(path)
            except (LLMSpellError, OSError) as exc:
                self.write(f"llmspell: reload of {path} failed: {exc}\n")
                return
        self.write(f"llmspell: reloaded {path}\n")

    async def reconfigure(self, config: GatewayConfig) -> None:
        """SIGHUP (`llmspell serve`): a new config's tools, scripts, agents and workflows in
        one catalog batch, so MCP sessions stay and hear one `list_changed` (what changes:
        `lifecycle.swap`). A bad `${ENV}` in the scripts' args fails before anything does."""
        from .lifecycle import swap

        old, self._script_args = self.config, config.script_entries()
        self._config = config
        with self.runtime.catalog.batch():
            await swap(self, old, config)
        if self._watch is not None:  # `--reload` watches the new list of scripts
            self._watch.cancel()
            self._watch = asyncio.create_task(self._watch_scripts())

    async def _watch_scripts(self) -> None:
        paths = list(self.scripts)
        seen = await asyncio.to_thread(_mtimes, paths)
        while True:
            await asyncio.sleep(RELOAD_POLL)
            now = await asyncio.to_thread(_mtimes, paths)
            for path in paths:
                if now[path] != seen[path]:
                    await self.reload(path)
            seen = now

    def agent(self, spec: dict[str, Any]) -> Agent:
        """An LLM agent (the script API's spec keys) calling tools through the pipeline and
        reading images under the roots; closed with the assembly."""
        from llmspell.adapters.llm.agent import Agent, AgentSpec
        from llmspell.adapters.tools.sandbox.files import Roots

        roots = Roots.of(self.roots)

        async def load_image(path: str) -> bytes:
            return await roots.read_bytes("agent", path)

        agent = Agent(
            AgentSpec.from_plain(spec),
            self.runtime.pipeline,
            load_image=load_image,
            state=self.runtime.state,
            knowledge=self.knowledge,
        )
        self.agents.append(agent)
        return agent

    async def announce(self, point: str, url: str | None = None) -> None:
        """The `gateway_start` / `gateway_stop` hook points (and their events). The HTTP
        server announces its stop from the app's lifespan: uvicorn re-raises the SIGTERM it
        caught once it has shut down, so nothing after it runs."""
        from llmspell.runtime.hooks import fire

        hooks = self.runtime.hooks
        if not hooks.wants(point):
            return
        said: dict[str, Any] = {"name": self.config.name}
        if point == "gateway_start":
            said.update(url=url, components=sorted(c.name for c in self.runtime.catalog))
        await fire(hooks, point, said, self.config.name)

    def summary(self) -> dict[str, list[str]]:
        """What is served, by kind: the start-up summary and `/healthz`."""
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
        """Each remote MCP server's name, transport, target, state and tool count."""
        return self.federation.servers() if self.federation is not None else []

    async def aclose(self) -> None:
        """Close whatever was started, in reverse order; safe after a partial start."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        for script in [*self.scripts.values(), *self._hook_scripts]:
            await script.aclose()
        for agent in self.agents:
            await agent.aclose()
        if self.federation is not None:
            await self.federation.aclose()
        if self.remote_agents is not None:
            await self.remote_agents.aclose()
        await self.knowledge.aclose()  # its embedding cache writes to the state store
        await self.runtime.state.aclose()  # after the scripts and agents that may write
        if self.cluster is not None:
            await self.cluster.aclose()
        if self._tracing is not None:
            self._tracing.shutdown()  # flushes the spans still batched


@contextlib.asynccontextmanager
async def assemble(
    config: GatewayConfig | None, mode: Mode, *, write: Writer | None = None
) -> AsyncIterator[Assembly]:
    """The started assembly for the block; closed when it ends, also when start fails."""
    assembly = Assembly(config, mode, write=write)
    try:
        await assembly.start()
        yield assembly
    finally:
        await assembly.aclose()


def _note(text: str) -> None:
    print(text, end="", file=sys.stderr, flush=True)


def _mtimes(paths: list[Path]) -> dict[Path, float]:
    stamps = {}
    for path in paths:
        try:
            stamps[path] = path.stat().st_mtime
        except OSError:
            stamps[path] = 0.0
    return stamps
