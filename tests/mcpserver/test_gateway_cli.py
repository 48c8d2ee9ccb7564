"""`llmspell gateway` as a user meets it: no config, bad configs, broken scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mcp import Client

from .conftest import ROOT, env, gateway


async def test_no_config_serves_builtins_and_the_offline_agent(tmp_path: Path) -> None:
    with gateway(config=None, cwd=tmp_path) as running:
        async with Client(running.url) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"calculator", "file-operations", "assistant"} <= tools
            calc = await client.call_tool("calculator", {"expression": "2 ** 10"})
            assert "1024" in calc.content[0].text  # type: ignore[union-attr]
            reply = await client.call_tool("assistant", {"text": "hello"})
            assert not reply.is_error and reply.content[0].text  # type: ignore[union-attr]
        # Read once it has answered: the summary table is written after the URL line the
        # helper waits for, so reading at once raced the table.
        assert "tools" in running.output() and "assistant" in running.output()


def run_gateway(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmspell", "gateway", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env(),
        cwd=cwd,
    )


def test_default_config_is_llmspell_toml_in_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "llmspell.toml").write_text('[http]\nport = "eighty"\n')
    run = run_gateway(cwd=tmp_path)
    assert run.returncode == 1
    assert "llmspell.toml: http.port: Input should be a valid integer" in run.stderr


def test_unknown_keys_and_missing_files_are_reported(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('scripts = ["tools.lua"]\n[htp]\nport = 1\n')
    run = run_gateway("--config", str(config))
    assert run.returncode == 1 and "htp: Extra inputs are not permitted" in run.stderr
    missing = run_gateway("--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_a_broken_script_stops_the_start_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.lua").write_text(
        'Tool.define { name = "ok", handler = function() end }\nx = (\n'
    )
    config = tmp_path / "gw.toml"
    config.write_text('scripts = ["bad.lua"]\n')
    run = run_gateway("--config", str(config))
    assert run.returncode == 1
    assert "bad.lua:3:" in run.stderr or "bad.lua:2:" in run.stderr, run.stderr
