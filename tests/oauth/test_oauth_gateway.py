"""`auth = "oauth"` end to end, with real processes on loopback: an authlib authorization server
(auth_server.py, 2 s access tokens, rotating refresh tokens) and an MCP server that checks
every token by introspection (protected_server.py).

`llmspell mcp login` runs once with a scripted browser (the test reads the printed URL and GETs
it, which redirects to the CLI's loopback port); `llmspell gateway` then federates the server:
a call succeeds, the token expires and is refreshed without the caller noticing, and a revoked
refresh token turns the upstream to `needs login` (in /readyz, `mcp status`, and a call's
error) until the next login. No token is readable in the database file or in any output."""

from __future__ import annotations

import asyncio
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.client.client import Client
from mcp.shared.exceptions import MCPError
from mcpserver.conftest import HttpPeer, RunningGateway, env, free_port, gateway, peers

HERE = Path(__file__).parent
TTL = 2.0
_URL = re.compile(r"(http://127\.0\.0\.1:\d+/authorize\S*)")


@dataclass
class Servers:
    issuer: str
    mcp: str

    def seen(self) -> dict[str, Any]:
        return httpx.get(f"{self.issuer}/test/seen", timeout=5).json()  # type: ignore[no-any-return]

    def revoke_and_expire(self) -> None:
        httpx.post(f"{self.issuer}/test/revoke", timeout=5).raise_for_status()
        httpx.post(f"{self.issuer}/test/expire", timeout=5).raise_for_status()


@pytest.fixture
def servers() -> Iterator[Servers]:
    as_port, mcp_port = free_port(), free_port()
    issuer = f"http://127.0.0.1:{as_port}"
    made = (
        HttpPeer(
            [sys.executable, str(HERE / "auth_server.py"), str(as_port), "--access-ttl", str(TTL)],
            as_port,
            {},
        ),
        HttpPeer(
            [sys.executable, str(HERE / "protected_server.py"), str(mcp_port), issuer], mcp_port, {}
        ),
    )
    with peers(*made):
        yield Servers(issuer, f"http://127.0.0.1:{mcp_port}/mcp")


def _config(folder: Path, servers: Servers) -> Path:
    config = folder / "llmspell.toml"
    config.write_text(
        "builtins = false\n"
        "[mcpServers.prot]\n"
        f'url = "{servers.mcp}"\n'
        'auth = "oauth"\n'
        "ping_interval = 0\n",
        encoding="utf-8",
    )
    return config


def _llmspell(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmspell", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        timeout=60,
    )


def _status(config: Path, running: RunningGateway, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`llmspell mcp status` asking the running gateway for its upstreams' states."""
    url = running.url.removesuffix("/mcp")
    return _llmspell("mcp", "status", "--config", str(config), "--url", url, cwd=cwd)


def _env() -> dict[str, str]:
    out = env()
    out.pop("LLMSPELL_TOKEN_KEY", None)  # the key file path is what is tested here
    return out


def login(config: Path) -> tuple[int, str]:
    """`llmspell mcp login prot` with a scripted browser: the printed URL is fetched and its
    redirects followed, the last one to the CLI's loopback listener. Returns (code, output)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmspell",
            "mcp",
            "login",
            "prot",
            "--config",
            str(config),
            "--timeout",
            "20",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
        env=_env(),
    )
    said: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            said.append(line)
            found = _URL.search(line)
            if found:
                page = httpx.get(found.group(1), follow_redirects=True, timeout=10)
                assert page.status_code == 200, page.text
                break
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, "".join(said) + err + out


async def _call(url: str, text: str) -> str:
    """The tool's text, or the error the caller sees (a JSON-RPC error or an error result)."""
    async with Client(url) as client:
        try:
            result = await client.call_tool("prot.echo", {"text": text})
        except MCPError as exc:
            return f"error: {exc.error.message}"
    body = " ".join(getattr(part, "text", "") for part in result.content)
    return f"error: {body}" if result.is_error else body


def call(url: str, text: str) -> str:
    return asyncio.run(_call(url, text))


def _ready(url: str) -> dict[str, Any]:
    return httpx.get(url.replace("/mcp", "/readyz"), timeout=5).json()  # type: ignore[no-any-return]


def _until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_login_call_refresh_revoke_and_login_again(tmp_path: Path, servers: Servers) -> None:
    config = _config(tmp_path, servers)

    # Before any login the gateway starts anyway, with the upstream waiting for one.
    with gateway(config=config, cwd=tmp_path, extra_env={"LLMSPELL_TOKEN_KEY": ""}) as early:
        state = _until(lambda: _ready(early.url)["upstreams"][0]["state"] == "needs login")
        assert state, _ready(early.url)
        first_output = early.output()

    code, said = login(config)
    assert code == 0, said
    assert "prot: authorized" in said, said
    key = tmp_path / ".llmspell" / "oauth.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    with gateway(config=config, cwd=tmp_path, extra_env={"LLMSPELL_TOKEN_KEY": ""}) as running:
        assert _until(lambda: _ready(running.url)["status"] == "ready"), _ready(running.url)
        assert call(running.url, "one") == "echo: one"
        status = _status(config, running, tmp_path)
        # 2 s tokens: "authorized, expires in 1 s", or already "expired, will refresh"
        assert re.search(r"auth: oauth: (authorized|expired, will refresh)", status.stdout), status

        # Past the access token's lifetime: refreshed on the way, the caller sees nothing.
        time.sleep(TTL + 0.5)
        assert call(running.url, "two") == "echo: two"
        assert servers.seen()["grants"].get("refresh_token", 0) >= 1, servers.seen()

        # The refresh token revoked and the access token expired: needs login, and says so.
        servers.revoke_and_expire()
        refused = call(running.url, "three")
        assert "llmspell mcp login prot" in refused, refused
        assert "prot" in refused
        assert _until(lambda: _ready(running.url)["upstreams"][0]["state"] == "needs login")
        again = call(running.url, "four")
        assert "llmspell mcp login prot" in again, again
        status = _status(config, running, tmp_path)
        assert "needs login" in status.stdout, status

        # A new login is picked up by the running gateway: no restart.
        code, said_again = login(config)
        assert code == 0, said_again
        assert _until(lambda: _ready(running.url)["status"] == "ready"), _ready(running.url)
        assert call(running.url, "five") == "echo: five"
        output = first_output + running.output()
        stored = b"".join(p.read_bytes() for p in (tmp_path / ".llmspell").glob("state.db*"))

    logout = _llmspell("mcp", "logout", "prot", "--config", str(config), cwd=tmp_path)
    assert logout.returncode == 0 and "forgotten" in logout.stdout, logout
    logout = _llmspell("mcp", "logout", "prot", "--config", str(config), cwd=tmp_path)
    assert "no tokens were stored" in logout.stdout, logout

    seen = servers.seen()
    assert seen["resources"] == [servers.mcp]  # RFC 8707: tokens asked for this server
    tokens = seen["tokens"]
    assert len(tokens) >= 6, seen  # two logins and at least one refresh, access + refresh
    assert b"oauth" in stored  # the records are there, sealed
    for token in tokens:
        assert token.encode() not in stored, "a token is readable in the state database"
        for text in (said, said_again, output, status.stdout, status.stderr):
            assert token not in text, "a token appears in the output"


def test_login_refuses_a_server_without_oauth(tmp_path: Path) -> None:
    config = tmp_path / "llmspell.toml"
    config.write_text('builtins = false\n[mcpServers.plain]\nurl = "http://127.0.0.1:9/mcp"\n')
    done = _llmspell("mcp", "login", "plain", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert 'auth = "service", not "oauth"' in done.stderr, done.stderr
    done = _llmspell("mcp", "login", "nope", "--config", str(config), cwd=tmp_path)
    assert "no MCP server named 'nope'" in done.stderr, done.stderr


def test_a_stdio_server_cannot_take_oauth(tmp_path: Path) -> None:
    config = tmp_path / "llmspell.toml"
    config.write_text('[mcpServers.local]\ncommand = "true"\nauth = "oauth"\n')
    done = _llmspell("mcp", "status", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert 'auth = "oauth" needs a url' in done.stderr, done.stderr
