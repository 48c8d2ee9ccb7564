"""Third-party clients against a live gateway: the official MCP conformance suite and the MCP
Inspector CLI, both pinned in package-lock.json and run on the Node they ship with."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import NODE, ROOT, RunningGateway, env, gateway

CONFORMANCE = ROOT / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
INSPECTOR = ROOT / "node_modules" / ".bin" / "mcp-inspector"
PROFILE = ROOT / "conformance" / "mcp" / "llmspell.toml"


def test_official_conformance_suite_passes_every_active_scenario() -> None:
    with gateway(config=PROFILE) as running:
        run = subprocess.run(
            [str(NODE), str(CONFORMANCE), "server", "--url", running.url],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
    out = run.stdout + run.stderr
    total = re.search(r"Total: (\d+) passed, (\d+) failed", out)
    assert total, out[-3000:]
    print(total.group(0))
    failed = [line for line in out.splitlines() if line.startswith("✗")]
    assert int(total.group(2)) == 0 and not failed, "\n".join(failed) or out[-3000:]
    assert int(total.group(1)) >= 40
    assert run.returncode == 0


def inspector(tmp_path: Path, *args: str) -> dict[str, object]:
    env = dict(os.environ, HOME=str(tmp_path), MCP_CATALOG_PATH=str(tmp_path / "mcp.json"))
    run = subprocess.run(
        [str(NODE), str(INSPECTOR), "--cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result: dict[str, object] = json.loads(run.stdout)
    return result


def test_inspector_cli_lists_and_calls_a_tool(http_gateway: RunningGateway, tmp_path: Path) -> None:
    listed = inspector(tmp_path, http_gateway.url, "--method", "tools/list")
    names = {t["name"] for t in listed["tools"]}  # type: ignore[attr-defined]
    assert {"lua_add", "js_upper", "echo_agent"} <= names
    called = inspector(
        tmp_path,
        http_gateway.url,
        "--method",
        "tools/call",
        "--tool-name",
        "lua_add",
        "--tool-arg",
        "a=19",
        "b=23",
    )
    assert called["structuredContent"] == {"sum": 42}
    assert called["isError"] is False


CLIENT_SCENARIOS = ["initialize", "tools_call", "sse-retry", "elicitation-sep1034-client-defaults"]
"""Every client scenario of the suite that does not need OAuth."""


@pytest.mark.parametrize("scenario", CLIENT_SCENARIOS)
def test_official_conformance_client_scenarios(scenario: str) -> None:
    """llmspell's MCP client (a Lua script on `MCP.connect`) under the suite's own test servers
    (they listen on an ephemeral port the suite picks; the client reaches them on localhost)."""
    client_scenario_passes(scenario)


def client_scenario_passes(scenario: str) -> str:
    """Run one client scenario against `conformance/mcp/client.lua`; assert every check passed
    and return the suite's `Passed: n/n` line."""
    client = f"{sys.executable} -m llmspell run {ROOT / 'conformance' / 'mcp' / 'client.lua'} --"
    run = subprocess.run(
        [str(NODE), str(CONFORMANCE), "client", "--command", client, "--scenario", scenario],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env=env(),
    )
    out = run.stdout + run.stderr
    result = re.search(r"Passed: (\d+)/(\d+), (\d+) failed", out)
    assert result, out[-3000:]
    assert result.group(1) == result.group(2) and result.group(3) == "0", out[-3000:]
    assert run.returncode == 0
    return result.group(0)
