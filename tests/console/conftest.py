"""A live gateway for the console tests: API-key auth, a policy that hides one tool from one
key, a federated upstream (the Python peer, which a test kills and starts again on its port)
and a Lua workflow. Everything started here is stopped even when a test fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcpserver.conftest import HttpPeer, RunningGateway, free_port, gateway, peers, py_peer

ADMIN = "console-admin-key-0123456789"
VIEWER = "console-viewer-key-0123456789"
HIDDEN = "hash-calculator"
"""Denied to the viewer key: hidden from its catalog, refused by its "try it"."""

FLOW = """
Workflow.sequential{
  name = "shout",
  description = "Upper-cases a text and counts its letters",
  input_schema = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  steps = {
    {name = "upper", tool = "text-manipulator",
     args = function(ctx) return {operation = "uppercase", text = ctx.input.text} end},
  },
  output = function(ctx) return ctx.steps.upper.text end,
}
"""


@dataclass
class Console:
    running: RunningGateway
    peer: HttpPeer

    @property
    def base(self) -> str:
        return self.running.url.removesuffix("/mcp")

    @property
    def ui(self) -> str:
        return f"{self.base}/ui"


def config(folder: Path, peer: HttpPeer) -> Path:
    (folder / "flow.lua").write_text(FLOW)
    path = folder / "llmspell.toml"
    path.write_text(
        f"""
name = "console-test"
scripts = ["flow.lua"]

[a2a]
enabled = false

[auth.api_keys.admin]
key = "{ADMIN}"

[auth.api_keys.viewer]
key = "{VIEWER}"

[policy]
default = "allow"

[[policy.rules]]
effect = "deny"
components = ["{HIDDEN}"]
subjects = ["key:viewer"]

[mcpServers.peer]
url = "{peer.url}"
ping_interval = 0.3
timeout = 5
connect_timeout = 3
"""
    )
    return path


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    folder = tmp_path_factory.mktemp("console")
    with (
        peers(py_peer(free_port())) as (peer,),
        gateway(config=config(folder, peer), cwd=folder, timeout=40) as running,
    ):
        yield Console(running, peer)
