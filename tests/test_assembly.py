"""The one assembly every entry point builds its runtime with (gateway/assembly.py): what each
mode starts, and that closing it ends what was started, also after a failed start. Real
scripts, real upstream MCP servers over stdio."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from llmspell.adapters.scripts.engine import ScriptError
from llmspell.gateway.assembly import Assembly, Mode, assemble
from llmspell.gateway.config import GatewayConfig, load

ROOT = Path(__file__).resolve().parent.parent
PEER = {"command": sys.executable, "args": ["-m", "llmspell.conformance.peers.mcp_server"]}
TOOL_LUA = 'Tool.define{name = "greet", handler = function(args) return "hi" end}\n'


def write_config(tmp: Path, text: str) -> GatewayConfig:
    path = tmp / "llmspell.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def servers(**names: dict[str, object]) -> str:
    return "".join(
        f"[mcpServers.{name}]\ncommand = {json.dumps(spec['command'])}\n"
        f"args = {json.dumps(spec['args'])}\n"
        for name, spec in names.items()
    )


async def test_local_mode_reads_no_config_and_plugs_in_the_clients() -> None:
    async with assemble(None, Mode.local()) as parts:
        assert "calculator" in parts.runtime.catalog
        assert parts.runtime.remote is parts.federation is not None
        assert parts.runtime.a2a is parts.remote_agents is not None
        assert parts.roots == [Path.cwd()] and parts.upstreams() == []
        assert (await parts.runtime.call("calculator", {"expression": "6*7"})).text == "42"
    async with assemble(None, Mode.local(builtins=False, roots=("somewhere",))) as bare:
        assert "calculator" not in bare.runtime.catalog
        assert bare.roots == [Path("somewhere")]


async def test_serve_mode_starts_all_the_config_names(tmp_path: Path) -> None:
    (tmp_path / "tools.lua").write_text(TOOL_LUA, encoding="utf-8")
    config = write_config(
        tmp_path,
        'scripts = ["tools.lua"]\n'
        '[[agents]]\nname = "helper"\nmodel = "offline/demo"\ntools = ["calculator"]\n'
        '[limits]\nrate = "100/second"\n'
        '[policy]\nrules = [{effect = "deny", components = ["uuid-*"]}]\n',
    )
    async with assemble(config, Mode.serve()) as parts:
        summary = parts.summary()
        assert "greet" in summary["tools"] and "helper" in summary["agents"]
        assert summary["scripts"] == [str(tmp_path / "tools.lua")]
        pipeline = parts.runtime.pipeline
        assert pipeline.policy is not None and pipeline.limiter is not None
        answer = await parts.runtime.call("helper", {"text": "what is 6*7?"})
        assert answer.text == "The answer is 42."
    async with assemble(config, Mode.catalog()) as listed:  # the same config, for `tool list`
        assert "helper" in listed.runtime.catalog, "`tool run helper` must find config agents"
        assert "greet" not in listed.runtime.catalog and listed.scripts == {}
        assert listed.runtime.pipeline.policy is None


async def test_catalog_mode_connects_only_the_server_a_tool_name_needs(tmp_path: Path) -> None:
    config = write_config(tmp_path, servers(a=PEER, b=PEER))
    async with assemble(config, Mode.catalog(only="b.echo")) as parts:
        assert [u["name"] for u in parts.upstreams()] == ["b"]
        assert (await parts.runtime.call("b.echo", {"message": "hi"})).text == "Echo: hi"
    async with assemble(config, Mode.catalog()) as parts:
        assert sorted(u["state"] for u in parts.upstreams()) == ["ready", "ready"]
        assert {"a.echo", "b.echo"} <= {c.name for c in parts.runtime.catalog.list()}


async def test_a_failed_start_is_closed_like_a_good_one(tmp_path: Path) -> None:
    (tmp_path / "broken.lua").write_text("x = (\n", encoding="utf-8")
    config = write_config(tmp_path, 'scripts = ["broken.lua"]\n' + servers(py=PEER))
    parts = Assembly(config, Mode.serve())
    with pytest.raises(ScriptError, match=r"broken\.lua:\d+:"):
        await parts.start()
    assert [u["state"] for u in parts.upstreams()] == ["ready"]  # started before the scripts
    await parts.aclose()
    assert parts.upstreams() == [] and "py.echo" not in parts.runtime.catalog
    with pytest.raises(ScriptError):
        async with assemble(config, Mode.serve()):
            pytest.fail("the block must not run when the start fails")


def test_llmspell_run_does_not_load_the_config_schema() -> None:
    """`llmspell run` reads no config, so it never pays for pydantic or the protocol stacks."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "llmspell", "run", "examples/hello.lua"],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "llmspell.gateway.assembly" in imported
    assert not {"pydantic", "llmspell.gateway.config", "mcp", "a2a"} & imported
