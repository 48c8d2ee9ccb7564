"""The health ping of a federated upstream is quiet: nothing of it reaches the gateway's stderr.
In a real gateway process, since pytest's own warning filters would hide a warning in-process."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from .conftest import free_port, gateway, peers, py_peer


def test_health_pings_write_nothing_to_stderr(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "llmspell.toml"
    config.write_text(
        f'[mcpServers.peer]\nurl = "http://127.0.0.1:{port}/mcp"\nping_interval = 0.2\n',
        encoding="utf-8",
    )
    with peers(py_peer(port)), gateway(config=config, cwd=tmp_path) as running:
        time.sleep(1.5)  # several ping intervals
        ready = httpx.get(running.url.replace("/mcp", "/readyz"), timeout=10)
        output = running.output()
    assert ready.status_code == 200, ready.text  # the pings kept the upstream up
    assert "Warning" not in output and "ping is removed" not in output, output
