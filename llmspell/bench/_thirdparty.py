"""Third-party MCP proxies to compare with: FastMCP and sparfenyuk's mcp-proxy.

Each lives in its own virtualenv under `.bench/` (their `mcp` pins need not match ours), made
on first use and reused while the pinned requirement is unchanged. A failed install is reported
as the reason that path is unavailable; it never stops the benchmark.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REQUIREMENTS = {"fastmcp": "fastmcp>=4.2,<5", "mcp-proxy": "mcp-proxy>=0.13,<0.14"}

# FastMCP's recommended proxy: `create_proxy` on a URL or a (kept-alive) stdio transport, which
# builds a fresh backend client per request, its isolation default.
FASTMCP_PROXY = """\
import sys
from fastmcp.client.transports import StdioTransport
from fastmcp.server import create_proxy

port, *upstream = sys.argv[1:]
if upstream[0].startswith("http"):
    target = upstream[0]
else:
    target = StdioTransport(command=upstream[0], args=upstream[1:])
proxy = create_proxy(target, name="bench-proxy")
proxy.run(transport="http", host="127.0.0.1", port=int(port), path="/mcp",
          show_banner=False, log_level="WARNING")
"""
NOTES = {
    "fastmcp": "create_proxy(upstream), a fresh backend client per request (its default)",
    "mcp-proxy": "server mode, Streamable HTTP in front of the peer's stdio command",
}


def bench_dir() -> Path:
    """`.bench/` at the repository root in a checkout, else in the working directory."""
    root = Path(__file__).resolve().parents[2]
    return (root if (root / "pyproject.toml").is_file() else Path.cwd()) / ".bench"


@dataclass(frozen=True, slots=True)
class Venv:
    name: str
    path: Path | None
    error: str | None = None

    def bin(self, program: str) -> str:
        assert self.path is not None
        return str(self.path / "bin" / program)


def ensure(name: str, log: bool = True) -> Venv:
    """The virtualenv for `name` with its pinned requirement, installing it if needed."""
    requirement = REQUIREMENTS[name]
    path = bench_dir() / name
    stamp = path / ".bench-requirement"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == requirement:
        return Venv(name, path)
    if log:
        print(f"installing {requirement} into {path} (first run only) ...", file=sys.stderr)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(path)],
        [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", requirement],
    ]
    for cmd in steps:
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Venv(name, None, f"{cmd[2]} failed: {exc}")
        if done.returncode != 0:
            lines = [ln for ln in done.stderr.splitlines() if ln.startswith("ERROR")]
            why = (lines or done.stderr.strip().splitlines() or ["no output"])[-1]
            return Venv(name, None, f"pip install {requirement!r} failed: {why}"[:300])
    stamp.write_text(requirement, encoding="utf-8")
    return Venv(name, path)


def fastmcp_command(venv: Venv, port: int, upstream: list[str]) -> list[str]:
    """FastMCP proxy on Streamable HTTP at /mcp; `upstream` is [URL] or a stdio command."""
    return [venv.bin("python"), "-c", FASTMCP_PROXY, str(port), *upstream]


def mcp_proxy_command(venv: Venv, port: int, upstream: list[str]) -> list[str]:
    """mcp-proxy's server mode: Streamable HTTP at /mcp in front of a stdio command."""
    return [
        venv.bin("mcp-proxy"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "WARNING",
        "--",
        *upstream,
    ]


@functools.cache
def version(venv: Venv, dist: str) -> str:
    if venv.path is None:
        return "?"
    code = f"from importlib.metadata import version; print(version({dist!r}))"
    done = subprocess.run([venv.bin("python"), "-c", code], capture_output=True, text=True)
    return done.stdout.strip() or "?"
