"""Run one parity scenario on one engine and return what it printed.

Scenarios live in `scenarios/NAME.lua` and `scenarios/NAME.js`; `NAME.out` is what both must
print. The same runner serves pytest and `python -m llmspell.conformance.parity`.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from llmspell.adapters.scripts.engine import Limits
from llmspell.adapters.scripts.loader import load_script
from llmspell.adapters.tools import register_builtins
from llmspell.conformance.peers.llm_server import calculator_model, fake_llm
from llmspell.runtime import LLMSpellError, Runtime

SCENARIOS = Path(__file__).parent / "scenarios"
ENGINES = ("lua", "javascript", "v8")
TIME_LIMIT = 20
"""Seconds a scenario may run on one engine, unless `TIME_LIMITS` gives it more."""
TIME_LIMITS = {"workflow_stream": 180}
"""10,000 stream items take 40-60 s on V8 (2-4 ms per host round trip)."""
REPO = Path(__file__).resolve().parents[2]
FILESYSTEM_SERVER = (
    REPO / "node_modules" / "@modelcontextprotocol" / "server-filesystem" / "dist" / "index.js"
)


def node() -> str:
    """The Node the lockfile ships (node_modules/.bin/node), else the one on PATH."""
    local = REPO / "node_modules" / ".bin" / "node"
    return str(local) if local.exists() else shutil.which("node") or "node"


def mcp_files(base: Path) -> Path:
    """The directory the `mcp` scenario lists and reads through server-filesystem."""
    files = base / "mcp-files"
    (files / "docs").mkdir(parents=True, exist_ok=True)
    (files / "hello.txt").write_text("hello from the filesystem server\n", encoding="utf-8")
    (files / "notes.md").write_text("# notes\n", encoding="utf-8")
    return files


def scenario_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS.glob("*.lua"))


def script_for(name: str, engine: str) -> Path:
    return SCENARIOS / f"{name}.{'lua' if engine == 'lua' else 'js'}"


@contextlib.asynccontextmanager
async def a2a_peer(wanted: bool) -> AsyncIterator[str]:
    """A plain a2a-sdk agent on loopback (conformance/peers/a2a_agent.py), for scenarios that
    use `A2A`; its base URL, or "" when the scenario does not need one."""
    if not wanted:
        yield ""
        return
    import socket

    import uvicorn
    from llmspell.conformance.peers.a2a_agent import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app(port), host="127.0.0.1", port=port, log_level="error")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def run_scenario(name: str, engine: str, *, root: Path | None = None) -> str:
    """Scenarios get ARGS = the URL of a local OpenAI-format model (calculator_model), the Node
    binary, server-filesystem's entry point, a directory of files for it to serve, and the URL
    of a local A2A agent (for scenarios that use `A2A`)."""
    from llmspell.protocols.a2a import LazyRemoteAgents
    from llmspell.protocols.mcp.remote import LazyFederation

    runtime = Runtime()
    register_builtins(runtime.catalog, roots=[root] if root else None)
    runtime.remote = federation = LazyFederation(runtime)
    runtime.a2a = agents = LazyRemoteAgents(runtime)
    script = script_for(name, engine)
    out: list[str] = []
    with fake_llm(calculator_model) as llm, tempfile.TemporaryDirectory() as scratch:
        files = mcp_files(root or Path(scratch))
        async with a2a_peer("A2A." in script.read_text(encoding="utf-8")) as peer:
            loaded = None
            try:
                loaded = await load_script(
                    runtime,
                    str(script),
                    engine=engine,
                    limits=Limits(timeout=TIME_LIMITS.get(name, TIME_LIMIT)),
                    args=[llm.url + "/v1", node(), str(FILESYSTEM_SERVER), str(files), peer],
                    stdout=out.append,
                    stderr=out.append,
                )
            except LLMSpellError as exc:  # an uncaught script error is part of the output
                out.append(f"UNCAUGHT {exc.code}\n")
            finally:
                if loaded is not None:
                    await loaded.aclose()
                await federation.aclose()
                await agents.aclose()
    return "".join(out)


def main() -> int:
    failures = 0
    for name in scenario_names():
        expected = (SCENARIOS / f"{name}.out").read_text(encoding="utf-8")
        for engine in ENGINES:
            got = asyncio.run(run_scenario(name, engine))
            ok = got == expected
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name:<12} {engine}")
    print(f"{failures} failed")
    return 1 if failures else 0
