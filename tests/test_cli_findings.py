"""What a new user hit with the `llmspell` command (issue 15), each against real processes: a
real gateway, real upstream MCP servers, the real A2A client."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_text_message
from a2a.types import Role, SendMessageRequest, TaskState
from google.protobuf.json_format import MessageToJson
from mcpserver.conftest import RunningGateway, gateway, llmspell

PEER = ["-m", "llmspell.conformance.peers.mcp_server"]
LONG_SERVER = "a-server-named-at-length"  # 24 characters
LONG_TOOL = "a_tool_whose_name_runs_past_thirty_two_characters"
LONG_NAMES_SERVER = f"""
from mcp.server.mcpserver import MCPServer

app = MCPServer("long-names")


@app.tool(name={LONG_TOOL!r}, description="Says hi.")
def hi() -> str:
    return "hi"


app.run("stdio")
"""


def base(running: RunningGateway) -> str:
    return running.url[: -len("/mcp")]


@pytest.fixture(scope="module")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-config").resolve()


@pytest.fixture(scope="module")
def default_gateway(empty_dir: Path) -> Iterator[RunningGateway]:
    """`llmspell gateway` as `make run` starts it: no config, in an empty directory."""
    with gateway(config=None, cwd=empty_dir) as running:
        yield running


# -- tool list while the upstreams are connected ----------------------------------------------


def test_tool_list_shows_the_configured_servers_tools(tmp_path: Path) -> None:
    servers = {"mcpServers": {"py": {"command": sys.executable, "args": PEER}}}
    mcp_json = tmp_path / "mcp.json"
    mcp_json.write_text(json.dumps(servers))
    toml = tmp_path / "llmspell.toml"
    toml.write_text(f"[mcpServers.py]\ncommand = {json.dumps(sys.executable)}\nargs = {PEER!r}\n")

    listed = llmspell("tool", "list", "--mcp-config", str(mcp_json))
    assert listed.returncode == 0, listed.stderr
    names = {line.split()[0] for line in listed.stdout.splitlines() if line.strip()}
    assert {"calculator", "py.echo", "py.add"} <= names
    for config in (mcp_json, toml):
        as_json = llmspell("tool", "list", "--config", str(config), "--json")
        assert as_json.returncode == 0, as_json.stderr
        assert {"calculator", "py.echo", "py.add"} <= {
            t["name"] for t in json.loads(as_json.stdout)
        }


# -- the access log ----------------------------------------------------------------------------


def _requests(running: RunningGateway, request_id: str) -> list[str]:
    """GET /healthz twice with `request_id`; the log lines that name it."""
    for _ in range(2):
        assert httpx.get(
            f"{base(running)}/healthz", headers={"X-Request-Id": request_id}
        ).is_success
    time.sleep(0.3)
    return [line for line in running.output().splitlines() if request_id in line]


def test_access_log_is_off_by_default(default_gateway: RunningGateway) -> None:
    assert _requests(default_gateway, "off-by-default-1") == []
    assert "/healthz" not in default_gateway.output()


@pytest.mark.parametrize("access", [False, True])
def test_access_log_follows_the_config(tmp_path: Path, access: bool) -> None:
    config = tmp_path / "llmspell.toml"
    config.write_text(f'[logging]\naccess = {str(access).lower()}\n[a2a]\ntask_store = "memory"\n')
    with gateway(config=config, cwd=tmp_path) as running:
        lines = _requests(running, "trace-me-7")
        output = running.output()
    if not access:
        assert lines == [] and "/healthz" not in output
        return
    assert len(lines) == 2, lines  # one line per request
    for line in lines:
        assert line.startswith("llmspell: GET /healthz 200 ")
        assert line.count("GET") == line.count("/healthz") == 1  # each field once
        assert re.search(r" ms=[\d.]+ ", line) and line.endswith(" request_id=trace-me-7")


# -- mcp list with long names ------------------------------------------------------------------


def test_mcp_list_sizes_columns_to_long_names(tmp_path: Path) -> None:
    server = tmp_path / "long_names.py"
    server.write_text(LONG_NAMES_SERVER)
    mcp_json = tmp_path / "mcp.json"
    mcp_json.write_text(
        json.dumps(
            {"mcpServers": {LONG_SERVER: {"command": sys.executable, "args": [str(server)]}}}
        )
    )
    listed = llmspell("mcp", "list", "--mcp-config", str(mcp_json))
    assert listed.returncode == 0, listed.stdout + listed.stderr
    row, tool = listed.stdout.splitlines()
    assert row.split()[:4] == [LONG_SERVER, "ready", "stdio", "1"]
    assert tool.split() == [f"{LONG_SERVER}.{LONG_TOOL}", "Says", "hi."]


# -- the default gateway's demo agent ----------------------------------------------------------


async def test_default_assistant_answers_arithmetic_with_the_calculator(
    default_gateway: RunningGateway,
) -> None:
    client = await create_client(
        f"{base(default_gateway)}/a2a/assistant", ClientConfig(streaming=False)
    )
    try:
        request = SendMessageRequest(message=new_text_message("What is 6*7?", role=Role.ROLE_USER))
        events = [e async for e in client.send_message(request)]
    finally:
        await client.close()
    task = events[-1].task
    assert task.status.state == TaskState.TASK_STATE_COMPLETED
    assert "The answer is 42." in MessageToJson(task.artifacts[0])


def test_cli_knows_the_agents_the_gateway_serves() -> None:
    """With no config the gateway serves the demo `assistant`; `tool list` and `tool run` see
    the same catalog (run from the checkout, which has no llmspell.toml)."""
    listed = llmspell("tool", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {"name": "assistant", "kind": "agent"}.items() <= next(
        c for c in json.loads(listed.stdout) if c["name"] == "assistant"
    ).items()
    ran = llmspell("tool", "run", "assistant", "--args", '{"text": "What is 6*7?"}')
    assert ran.returncode == 0 and ran.stdout.strip() == "The answer is 42.", ran.stderr


# -- a2a send on a task that fails -------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True])
def test_a2a_send_reports_why_a_task_failed(default_gateway: RunningGateway, stream: bool) -> None:
    url = f"{base(default_gateway)}/a2a/calculator"
    sent = llmspell("a2a", "send", url, "1/0", *(["--stream"] if stream else []))
    assert sent.returncode == 1
    assert "[failed] calculator: division by zero in '1/0'" in sent.stderr.splitlines()
    done = llmspell("a2a", "send", url, "6*7")
    assert done.returncode == 0 and done.stdout.splitlines()[0] == "42"
    assert done.stderr.strip() == "[completed]"


def test_a2a_send_stream_shows_only_text_updates(default_gateway: RunningGateway) -> None:
    """The demo agent streams its answer; no bare step counter (`… 1`) reads as output."""
    url = f"{base(default_gateway)}/a2a/assistant"
    sent = llmspell("a2a", "send", url, "What is 6*7?", "--stream")
    assert sent.returncode == 0, sent.stderr
    updates = [line for line in sent.stdout.splitlines() if line.startswith("… ")]
    assert "".join(u.removeprefix("… ") for u in updates) == "The answer is 42.", updates


def test_a2a_send_to_no_agent_says_so_in_one_line(default_gateway: RunningGateway) -> None:
    sent = llmspell("a2a", "send", f"{base(default_gateway)}/a2a/nosuch", "hi")
    assert sent.returncode == 1
    lines = sent.stderr.strip().splitlines()
    assert len(lines) == 1 and "no agent card" in lines[0] and "404" in lines[0], sent.stderr


def test_mcp_status_of_a_gateway_without_upstreams(default_gateway: RunningGateway) -> None:
    status = llmspell("mcp", "status", "--url", base(default_gateway))
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines() == [f"gateway at {base(default_gateway)}: ready"]
    assert "Traceback" not in status.stderr


# -- help --------------------------------------------------------------------------------------


def _positionals(help_text: str) -> dict[str, str]:
    """Each positional argument of a `--help` and the help said for it."""
    section = help_text.split("positional arguments:\n", 1)[1].split("\n\n", 1)[0]
    found: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("    ") and found:  # a wrapped help line
            continue
        name, _, said = line.strip().partition(" ")
        found[name] = said.strip()
    return found


def test_help_names_script_arguments_and_every_positional() -> None:
    run = llmspell("run", "--help")
    assert run.returncode == 0
    assert "[-- ARGS ...]" in run.stdout and "passed to the script as ARGS" in run.stdout
    for command, expected in ((("a2a", "send"), {"url", "message"}), (("tool", "run"), {"name"})):
        shown = llmspell(*command, "--help")
        positionals = _positionals(shown.stdout)
        assert set(positionals) == expected
        assert all(positionals.values()), f"{' '.join(command)}: {positionals}"


# -- where the task database goes -------------------------------------------------------------


def test_start_up_summary_says_where_a2a_tasks_are_kept(
    default_gateway: RunningGateway, empty_dir: Path
) -> None:
    said = re.search(r"A2A tasks are kept in (\S+)", default_gateway.output())
    assert said is not None, default_gateway.output()
    assert Path(said.group(1)) == empty_dir / ".llmspell" / "a2a.db"
