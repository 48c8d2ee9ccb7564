"""Load a script file into a runtime: pick the engine, bind the API, run the main chunk.

`llmspell run` and the gateway's config loader both come through here, so a script behaves the
same whether it is run once or served.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmspell.runtime import Runtime
from llmspell.runtime.hooks import fire

from .api import ScriptHost, Writer, to_stderr, to_stdout
from .engine import Limits, ScriptEngine, engine_factory, engine_for_file


@dataclass(slots=True)
class LoadedScript:
    path: str
    engine: ScriptEngine
    host: ScriptHost
    value: Any = None
    """What the main chunk returned."""

    async def aclose(self) -> None:
        """Release what the script opened (provider connections) without unregistering it."""
        await self.host.aclose()

    def unload(self) -> None:
        """Take back the components the script defined and release its engine."""
        runtime = self.host.runtime
        for name in self.host.defined:
            runtime.catalog.unregister(name)
        for name in self.host.prompts:
            runtime.prompts.unregister(name)
        for uri in self.host.resources:
            runtime.resources.unregister(uri)
        self.host.defined.clear()
        self.host.prompts.clear()
        self.host.resources.clear()
        self.engine.close()


def create_engine(
    runtime: Runtime,
    path: str,
    *,
    engine: str | None = None,
    limits: Limits | None = None,
    args: list[str] | None = None,
    stdout: Writer = to_stdout,
    stderr: Writer = to_stderr,
    roots: Sequence[Path] | None = None,
) -> tuple[ScriptEngine, ScriptHost]:
    host = ScriptHost(
        runtime,
        source=f"script:{path}",
        args=list(args or []),
        stdout=stdout,
        stderr=stderr,
        roots=roots,
    )
    factory = engine_factory(engine_for_file(path, engine))
    return factory(host.spec(), limits or Limits()), host


async def load_script(
    runtime: Runtime,
    path: str,
    *,
    engine: str | None = None,
    limits: Limits | None = None,
    args: list[str] | None = None,
    stdout: Writer = to_stdout,
    stderr: Writer = to_stderr,
    roots: Sequence[Path] | None = None,
) -> LoadedScript:
    """Run `path`'s main chunk; raises ScriptError (with FILE:LINE) if it fails. `roots` are
    where agents the script creates may read files (the config's `roots`)."""
    eng, host = create_engine(
        runtime,
        path,
        engine=engine,
        limits=limits,
        args=args,
        stdout=stdout,
        stderr=stderr,
        roots=roots,
    )
    try:
        source = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        value = await eng.run(source, path)
    except BaseException:
        await host.aclose()
        raise
    if runtime.hooks.wants("script_load"):
        context = {"path": path, "engine": eng.name, "components": list(host.defined)}
        await fire(runtime.hooks, "script_load", context, path)
    return LoadedScript(path, eng, host, value)
