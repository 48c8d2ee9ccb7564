"""Start-up stays small: `llmspell run hello.lua` imports its engine and the core, and none of
the protocol stacks, providers, tool modules or heavy libraries a script has not asked for.
Each run is a real `python -X importtime -m llmspell run` whose imports are read from its
report. Timing is measured by `python -m llmspell.bench startup`, not here."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from llmspell.adapters.tools import builtin_tools, registry
from llmspell.adapters.tools.env import ToolEnv
from llmspell.gateway.cli import COMMANDS, build_parser
from llmspell.runtime import Component, Invocation, Result
from llmspell.runtime.sandbox import (
    EnvironmentPolicy,
    FilePolicy,
    NetworkPolicy,
    ProcessPolicy,
    Sandbox,
)
from mcpserver.conftest import env

HEAVY = (
    "mcp",
    "a2a",
    "httpx",
    "httpcore",
    "openai",
    "anthropic",
    "starlette",
    "uvicorn",
    "pydantic",
    "jsonschema",
    "numpy",
    "usearch",
    "wordllama",
    "PIL",
    "sqlalchemy",
    "sqlite3",
    "lxml",
    "yaml",
    "jinja2",
    "rich",
    "authlib",
    "grpc",
    "google",
    "importlib.metadata",
    "importlib.resources",
    "uuid",
    "llmspell.gateway.config",
    "llmspell.gateway.app",
    "llmspell.runtime.workflow",
    *(f"llmspell.adapters.tools.{category}" for category in registry.CATEGORIES),
)
"""Top-level packages (and their submodules) a plain `run hello.*` does not import."""

PROTOCOLS_LOADED = {
    "llmspell.protocols",
    "llmspell.protocols.a2a",
    "llmspell.protocols.mcp",
    "llmspell.protocols.mcp.remote",
}
"""The lazy remote-server and remote-agent fronts a run plugs in; their stacks load on use."""


DUMP = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr))\n"
    "runpy.run_module('llmspell', run_name='__main__', alter_sys=True)\n"
)
"""`python -m llmspell` that lists, at exit, every module it loaded: -X importtime does not
report a module imported through `importlib.import_module`, so both are read."""


def imported(tmp_path: Path, name: str, source: str) -> tuple[set[str], str]:
    """The modules `llmspell run NAME` imported, and what it printed."""
    script = tmp_path / name
    script.write_text(source, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", DUMP, "run", str(script)],
        capture_output=True,
        text=True,
        env=env(),
        cwd=tmp_path,
        timeout=60,
    )
    lines = proc.stderr.splitlines()
    modules = {line.split("|")[2].strip() for line in lines if line.startswith("import time:")}
    modules -= {"imported package"}
    reported = len(modules)
    for line in lines:
        if line.startswith("MODULES "):
            modules.update(line.split()[1:])
    errors = [line for line in lines if not line.startswith(("import time:", "MODULES "))]
    assert proc.returncode == 0, "\n".join(errors)
    assert reported > 50, "no -X importtime report read"
    assert "llmspell.gateway.cli.run" in modules, "no list of modules read"
    return modules, proc.stdout


RAG_RESOURCE = {
    "llmspell.adapters.tools.knowledge",
    "llmspell.adapters.tools.knowledge._shared",
    "llmspell.adapters.tools.knowledge.resource",
}
"""The `rag://` resource template every run registers (its search loads on first read)."""


def heavy(modules: set[str], extra: tuple[str, ...] = ()) -> list[str]:
    found = {m for m in modules for h in (*HEAVY, *extra) if m == h or m.startswith(h + ".")}
    return sorted(found - RAG_RESOURCE)


@pytest.mark.parametrize(
    ("name", "source", "engine", "other"),
    [
        ("hello.lua", 'print("Hello, llmspell!")\n', "lupa", ("quickjs", "_quickjs")),
        ("hello.js", 'print("Hello, llmspell!");\n', "_quickjs", ("lupa", "py_mini_racer")),
    ],
)
def test_hello_imports_only_its_engine_and_the_core(
    tmp_path: Path, name: str, source: str, engine: str, other: tuple[str, ...]
) -> None:
    modules, out = imported(tmp_path, name, source)
    assert out == "Hello, llmspell!\n"
    assert engine in modules
    assert heavy(modules, other) == []
    protocols = {m for m in modules if m.startswith("llmspell.protocols")}
    assert protocols <= PROTOCOLS_LOADED, sorted(protocols - PROTOCOLS_LOADED)
    commands = {m for m in modules if m.startswith("llmspell.gateway.cli.")}
    assert commands == {"llmspell.gateway.cli.run", "llmspell.gateway.cli.common"}


def test_a_tool_call_imports_its_own_category_only(tmp_path: Path) -> None:
    source = (
        'local r = Tool.execute("calculator", {expression = "2 ** 10"})\n'
        'print(r.text, #Tool.list() >= 54 and "listed" or "missing")\n'
    )
    modules, out = imported(tmp_path, "calc.lua", source)
    assert out == "1024\tlisted\n"
    assert "llmspell.adapters.tools.utilities.calculator" in modules
    tools = sorted(m for m in modules if m.startswith("llmspell.adapters.tools."))
    categories = {m.split(".")[3] for m in tools} - {"registry", "env", "_common", "sandbox"}
    assert categories == {"utilities", "knowledge"}, tools  # knowledge: only the rag:// resource
    assert (
        not {m for m in tools if m.startswith("llmspell.adapters.tools.knowledge")} - RAG_RESOURCE
    )


def test_the_catalog_file_is_what_the_tool_modules_say() -> None:
    """`catalog.json` lists the tools without importing them; after changing a tool's name,
    description, schema or annotations, rewrite it with `python -m llmspell.adapters.tools`."""
    stored = json.loads(registry.CATALOG_FILE.read_text(encoding="utf-8"))
    assert stored == registry.generate(), "stale: run `python -m llmspell.adapters.tools`"


async def no_handler(inv: Invocation) -> Result:
    raise AssertionError


def listing(components: list[Component]) -> list[Component]:
    """The components with the handler left out."""
    return [replace(c, handler=no_handler) for c in components]


@pytest.mark.parametrize(
    "sandbox",
    [
        Sandbox(),
        Sandbox(files=FilePolicy((Path("/srv"),), max_read=5)),
        Sandbox(process=ProcessPolicy(allow=("echo", "ls"))),
        Sandbox(network=NetworkPolicy(allow=("example.com",), allow_private=True)),
        Sandbox(environment=EnvironmentPolicy(allow=("HOME",))),
    ],
    ids=["default", "files", "process", "network", "environment"],
)
def test_the_lazy_listing_is_the_built_one(sandbox: Sandbox) -> None:
    """Every field but the handler, in the same order, whatever the sandbox."""
    assert listing(builtin_tools(sandbox)) == listing(registry.eager(ToolEnv(sandbox)))


def test_tools_with_settings_are_built_at_once() -> None:
    """A `[tools.NAME]` table builds that tool's category at registration, as before, so a
    setting the tool refuses stops the start rather than the first call."""
    settings = {"database-connector": {"url": "sqlite:///x.db"}}
    tools = {c.name: c for c in builtin_tools(settings=settings)}
    built = {c.name: c for c in registry.eager(ToolEnv(Sandbox(), settings))}
    assert listing([tools["database-connector"]]) == listing([built["database-connector"]])
    assert tools["database-connector"].handler.__qualname__ != "_Loader.lazy.<locals>.call"
    assert tools["calculator"].handler.__qualname__ == "_Loader.lazy.<locals>.call"


async def test_a_lazy_tool_answers_as_the_built_one(tmp_path: Path) -> None:
    lazy = {c.name: c for c in builtin_tools(roots=[tmp_path])}
    built = {c.name: c for c in registry.eager(ToolEnv(Sandbox(files=FilePolicy((tmp_path,)))))}
    for name, args in [
        ("calculator", {"expression": "sqrt(16) + 2 ** 10"}),
        ("text-manipulator", {"operation": "uppercase", "text": "abc"}),
    ]:
        got = await lazy[name].handler(Invocation(name, args))
        want = await built[name].handler(Invocation(name, args))
        assert got.to_plain() == want.to_plain()


def subcommand_help(parser: argparse.ArgumentParser, name: str) -> str:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[name].format_help()


def test_each_command_parses_the_same_alone() -> None:
    """`llmspell CMD ...` builds only CMD's parsers; they are those of the whole command line."""
    full = build_parser()
    commands = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert list(commands.choices) == list(COMMANDS)
    for name in COMMANDS:
        assert subcommand_help(build_parser(name), name) == subcommand_help(full, name)


def test_the_core_exports_load_on_use() -> None:
    code = (
        "import sys, llmspell.runtime as rt\n"
        "before = sorted(m for m in sys.modules if m.startswith('llmspell.runtime.'))\n"
        "from llmspell.runtime import Result\n"
        "after = sorted(m for m in sys.modules if m.startswith('llmspell.runtime.'))\n"
        "missing = [n for n in rt.__all__ if getattr(rt, n, None) is None]\n"
        "print(before, 'llmspell.runtime.content' in after, missing)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env(), timeout=60
    )
    assert proc.stdout.strip() == "[] True []", proc.stderr
