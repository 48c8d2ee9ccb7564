"""`examples/research.lua` and `.js` run offline, as the README says: a real local search server
and site (conformance/peers/research_site.py), the example config pointed at it, the real CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcpserver.conftest import ROOT, env, free_port
from PIL import Image

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def site() -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmspell.conformance.peers.research_site", "--port", str(port)],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/search?q=x&format=json", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "site did not start"
                time.sleep(0.1)
        yield port
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("script", ["research.lua", "research.js"])
def test_the_research_example_runs_offline(site: int, tmp_path: Path, script: str) -> None:
    config = (EXAMPLES / "research.toml").read_text().replace("8790", str(site))
    assert str(site) in config
    (tmp_path / "research.toml").write_text(config)
    (tmp_path / script).write_text((EXAMPLES / script).read_text())
    done = subprocess.run(
        [sys.executable, "-m", "llmspell", "run", script, "--config", "research.toml"],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == '3 page(s) found for "sandboxed tools"'
    pages = [line for line in lines if line.startswith("- ")]
    assert [p.split(" (")[0] for p in pages] == [
        "- Protocol gateways",
        "- Tool sandboxes",
        "- Workflows",
    ]
    assert all(f"http://127.0.0.1:{site}/articles/" in p for p in pages)
    assert lines[-2].startswith("summary: echo: Notes on sandboxed tools:")
    assert "Tool sandboxes" in lines[-2] or "Protocol gateways" in lines[-2]
    assert lines[-1] == "chart: wrote bar chart (800x600 PNG) to research.png"
    chart = Image.open(tmp_path / "research.png")
    assert chart.format == "PNG" and chart.size == (800, 600)


def test_the_example_config_refuses_what_it_does_not_allow(site: int, tmp_path: Path) -> None:
    """The config allows the site's port by name; the same site on another port is refused."""
    (tmp_path / "research.toml").write_text((EXAMPLES / "research.toml").read_text())
    (tmp_path / "fetch.lua").write_text(
        f'local ok, err = pcall(Tool.execute, "web-scraper", {{url = "http://127.0.0.1:{site}/articles/workflows"}})\n'
        "print(ok, err)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "llmspell", "run", "fetch.lua", "--config", "research.toml"],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("false\t[denied] web-scraper:")
    assert f"127.0.0.1:{site}" in done.stdout
