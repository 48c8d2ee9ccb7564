"""Library mode: llmspell inside a Python program (`import llmspell`).

`Runtime` is a thin handle on the one assembly (`assembly.py`): `Runtime.create` only says what
to start, as a `Mode`, and every call goes down the same pipeline as an MCP or A2A request.
Nothing is imported before it is needed: a runtime with a few built-in tools and no config
loads neither the protocol SDKs nor the config schema.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, overload

from llmspell.runtime import Annotations, Component, Result
from llmspell.runtime import Runtime as Core
from llmspell.runtime.invocation import nested

from .assembly import Assembly, Mode, Part

if TYPE_CHECKING:
    from .config import GatewayConfig

Tools = Sequence[str] | Literal["all"] | None
ConfigSource: TypeAlias = "str | os.PathLike[str] | Mapping[str, Any] | GatewayConfig | None"
F = TypeVar("F", bound=Callable[..., Any])

SCRIPT_EXTENSIONS = (".lua", ".js", ".mjs")
INLINE = "inline"
"""The file name a script given as source text is reported under (`inline.lua:3: ...`)."""


@dataclass(frozen=True, slots=True)
class ScriptRun:
    """What `run_script` gives back."""

    output: str
    """Everything the script printed (`print`, `console.log`); `Log.*` still goes to stderr."""
    value: Any
    """What the main chunk returned, as plain Python (None, bool, number, str, list, dict)."""


class Runtime:
    """An llmspell runtime in this process: the catalog (built-in tools, the config's MCP
    servers, agents, workflows and scripts, your own Python tools) behind the one pipeline.

    Start it with `async with Runtime.create(...) as rt:`, or `rt = await
    Runtime.create(...).start()` and `await rt.aclose()` where there is no block to hold."""

    def __init__(self, config: ConfigSource, mode: Mode) -> None:
        self._source = config
        self.mode = mode
        self._assembly: Assembly | None = None
        self._pending: list[Component] = []

    @classmethod
    def create(
        cls,
        tools: Tools = "all",
        *,
        agents: bool = True,
        workflows: bool = True,
        config: ConfigSource = None,
        roots: Sequence[str | os.PathLike[str]] = (),
        state: str | os.PathLike[str] | None = None,
    ) -> Runtime:
        """Say what to start; nothing happens until `start` (or `async with`).

        - `tools`: built-in tools by name (`["calculator", "json-processor"]`), `"all"`, or
          None for none; a name that is no built-in fails `start`, naming the near ones.
        - `agents`, `workflows`: start the config's `[[agents]]` and `[workflows]`.
        - `config`: an `llmspell.toml` path, a dict with the same keys (validated the same
          way; relative paths are taken from the working directory) or None: no config is
          read, as with `llmspell run` (the working directory is the only root).
        - `roots`: directories the file tools may use, instead of the config's `roots`.
        - `state`: a SQLite file for `State` (default: the config's `[state]`, else memory).
        """
        if isinstance(tools, str) and tools != "all":
            raise ValueError(f'tools is a list of names, "all" or None, not {tools!r}')
        start: set[Part] = {"upstreams", "remote_agents", "scripts", "hardening"}
        if tools is not None:
            start.add("builtins")
        if agents:
            start.add("agents")
        if workflows:
            start.add("workflows")
        mode = Mode(
            frozenset(start),
            roots=tuple(os.fspath(r) for r in roots),
            state=os.fspath(state) if state is not None else None,
            tools=None if tools is None or tools == "all" else tuple(tools),
        )
        return cls(config, mode)

    async def start(self) -> Runtime:
        """Read the config (off the loop), then start the assembly; a failed start closes
        what it opened and raises (`LLMSpellError`, `ConfigError`, a script's `ScriptError`)."""
        if self._assembly is not None:
            raise RuntimeError("this llmspell runtime is already started")
        config = None
        if self._source is not None:
            config = await asyncio.to_thread(read_config, self._source)
        assembly = Assembly(config, self.mode)
        try:
            for component in self._pending:  # before the config's agents, which may offer them
                assembly.runtime.catalog.register(component)
            await assembly.start()
        except BaseException:
            await assembly.aclose()
            raise
        self._assembly = assembly
        return self

    async def aclose(self) -> None:
        """Close what was started (scripts, upstreams, the state store); safe to call twice."""
        assembly, self._assembly = self._assembly, None
        if assembly is not None:
            await assembly.aclose()

    async def __aenter__(self) -> Runtime:
        return await self.start()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def started(self) -> bool:
        return self._assembly is not None

    @property
    def assembly(self) -> Assembly:
        """The parts (for `asgi_app` and advanced use); only while started."""
        if self._assembly is None:
            raise RuntimeError(
                "this llmspell runtime is not started: use `async with Runtime.create(...) "
                "as rt:` or `rt = await Runtime.create(...).start()`"
            )
        return self._assembly

    @property
    def core(self) -> Core:
        """The core runtime: catalog, pipeline, hooks, events, state."""
        return self.assembly.runtime

    def components(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Name, kind, description (and a built-in's category) of each component."""
        return [c.summary() for c in self.core.catalog if kind is None or c.kind == kind]

    async def call(
        self,
        name: str,
        args: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - the call's deadline, not this coroutine's
    ) -> Result:
        """Call any component (tool, agent, workflow) through the pipeline: policy, limits,
        schema, hooks, deadline. Raises `LLMSpellError` when the call is refused or fails (an
        unknown name suggests near ones); a result the component marks as an error comes back
        with `is_error` set. Called from inside a running call (a Python tool), it is that
        call's child: the same caller, a deadline no later."""
        inv = nested(name, dict(args or {}), timeout=timeout)
        return await self.core.pipeline.invoke(inv)

    async def run_script(
        self,
        script: str | os.PathLike[str],
        *,
        engine: str | None = None,
        args: Sequence[str] | None = None,
    ) -> ScriptRun:
        """Run a Lua or JavaScript script once and return what it printed and returned.

        `script` is a file when it is a path object, or a one-line string ending in .lua, .js
        or .mjs; anything else is source text, Lua unless `engine` says otherwise ("javascript",
        "v8"). `args` is the script's `ARGS`. What the script defines (tools, agents, hooks on
        the catalog) lasts for the run only. A failure raises `ScriptError`, whose message
        starts with FILE:LINE (`inline.lua:LINE` for source text)."""
        from llmspell.adapters.scripts.loader import LoadedScript, create_engine
        from llmspell.runtime.hooks import fire

        assembly = self.assembly
        if _is_file(script):
            path = os.fspath(script)
            source = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        else:
            path, source = f"{INLINE}{_extension(engine)}", str(script)
        printed: list[str] = []
        eng, host = create_engine(
            self.core,
            path,
            engine=engine,
            limits=assembly.limits,
            args=list(args or []),
            stdout=printed.append,
            stderr=assembly.write,
            roots=assembly.roots,
        )
        loaded = LoadedScript(path, eng, host)
        try:
            loaded.value = await eng.run(source, path)
            if self.core.hooks.wants("script_load"):
                said = {"path": path, "engine": eng.name, "components": list(host.defined)}
                await fire(self.core.hooks, "script_load", said, path)
            return ScriptRun("".join(printed), loaded.value)
        finally:
            loaded.unload()  # what it defined goes, also when it failed half-way
            await loaded.aclose()

    @overload
    def define_tool(self, fn: F, /) -> F: ...

    @overload
    def define_tool(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        annotations: Annotations | None = None,
    ) -> Callable[[F], F]: ...

    def define_tool(
        self,
        fn: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        description: str | None = None,
        annotations: Annotations | None = None,
    ) -> Any:
        """Make a Python function (sync or async) a catalog tool: `rt.define_tool(fn)`,
        `@rt.define_tool` or `@rt.define_tool(name=..., description=...)`. The input schema
        comes from the type hints (a default makes a parameter optional; `Annotated[int,
        Field(description=...)]` describes it), the description from the docstring's first
        paragraph. The function is returned unchanged. Defined before `start`, it joins the
        catalog at start; after, at once."""
        from llmspell.adapters.functions import function_tool

        def define(function: Callable[..., Any]) -> Callable[..., Any]:
            component = function_tool(
                function, name=name, description=description, annotations=annotations
            )
            if self._assembly is not None:
                self._assembly.runtime.catalog.register(component)
            elif any(c.name == component.name for c in self._pending):
                raise ValueError(f"component {component.name!r} is already defined")
            else:
                self._pending.append(component)
            return function

        return define(fn) if fn is not None else define


def read_config(source: ConfigSource) -> GatewayConfig | None:
    """A config from a file (`llmspell.toml`, or an IDE's `mcp.json`), a dict with the same
    keys, or a `GatewayConfig`; a bad one raises `ConfigError` naming the key path."""
    if source is None:
        return None
    from .config import ConfigError, GatewayConfig, load

    if isinstance(source, GatewayConfig):
        return source
    if isinstance(source, Mapping):
        from pydantic import ValidationError

        try:
            return GatewayConfig.model_validate({"base_dir": Path.cwd(), **source})
        except ValidationError as exc:
            from llmspell.protocols.mcp.spec import validation_problems

            raise ConfigError(f"config: {validation_problems(exc)}") from None
    return load(Path(os.fspath(source)))


def _is_file(script: str | os.PathLike[str]) -> bool:
    if not isinstance(script, str):
        return True
    return "\n" not in script and script.strip().endswith(SCRIPT_EXTENSIONS)


def _extension(engine: str | None) -> str:
    return ".lua" if engine in (None, "lua") else ".js"
