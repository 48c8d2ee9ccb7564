"""Upstream servers in config: IDE `mcp.json` files read unchanged, `${ENV}` expansion, clear
errors that name the entry (and never a secret's value)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from llmspell.gateway.config import ConfigError, load
from llmspell.protocols.mcp.spec import ServerSpec

from .conftest import free_port, llmspell


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_ide_files_and_inline_servers_merge_with_later_entries_winning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GH_TOKEN", "ghp-secret")
    write(
        tmp_path / "claude.json",
        json.dumps(
            {
                "mcpServers": {
                    "github": {
                        "command": "npx",
                        "args": ["-y", "@modelcontextprotocol/server-github"],
                        "env": {"GITHUB_TOKEN": "${GH_TOKEN}"},
                        "autoApprove": ["search"],  # another client's key: ignored
                    },
                    "shared": {"url": "http://127.0.0.1:1/mcp"},
                }
            }
        ),
    )
    vscode = write(
        tmp_path / "vscode.json",
        json.dumps(
            {
                "servers": {
                    "docs": {
                        "type": "http",
                        "url": "http://127.0.0.1:2/mcp",
                        "headers": {"Authorization": "Bearer ${env:GH_TOKEN}"},
                    },
                    "old": {"type": "sse", "url": "http://127.0.0.1:3/sse", "disabled": True},
                }
            }
        ),
    )
    config = load(
        write(
            tmp_path / "llmspell.toml",
            """
mcp_servers_file = "claude.json"
[mcpServers.shared]
command = "python3"
args = ["-m", "server"]
cwd = "work"
timeout = 5
include = ["read_*"]
[mcpServers.fallback]
url = "http://${MISSING_HOST:-127.0.0.1}:4/mcp"
""",
        )
    )
    config.add_servers_file(str(vscode))
    specs = {s.name: s for s in config.server_specs()}
    assert set(specs) == {"github", "shared", "docs", "old", "fallback"}
    assert specs["github"].env == {"GITHUB_TOKEN": "ghp-secret"}
    assert specs["docs"].headers == {"Authorization": "Bearer ghp-secret"}
    assert specs["docs"].transport == "http" and specs["old"].transport == "sse"
    assert specs["old"].disabled
    shared = specs["shared"]  # inline wins over the file's entry of the same name
    assert shared.transport == "stdio" and shared.timeout == 5 and shared.include == ["read_*"]
    assert shared.cwd == str(tmp_path / "work")
    assert specs["fallback"].url == "http://127.0.0.1:4/mcp"


def test_a_missing_variable_is_named_with_its_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    config = load(
        write(
            tmp_path / "llmspell.toml",
            '[mcpServers.api]\nurl = "http://127.0.0.1:1/mcp"\n'
            'headers = { Authorization = "Bearer ${NOT_SET_ANYWHERE}" }\n',
        )
    )
    with pytest.raises(ConfigError, match=r"mcpServers\.api: environment variable 'NOT_SET"):
        config.server_specs()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"command": "x", "url": "http://127.0.0.1:1/mcp"}, "either command"),
        ({"args": ["x"]}, "either command"),
        ({"command": "x", "timeout": -1}, "timeout"),
        ("just a string", "an object with command or url"),
    ],
)
def test_bad_entries_are_refused_with_their_location(
    tmp_path: Path, entry: object, problem: str
) -> None:
    file = write(tmp_path / "mcp.json", json.dumps({"mcpServers": {"broken": entry}}))
    with pytest.raises(ConfigError, match="broken") as info:
        load(file).server_specs()
    assert problem in str(info.value)


def test_a_file_without_servers_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mcpServers"):
        load(write(tmp_path / "mcp.json", '{"tools": []}'))
    with pytest.raises(ConfigError, match="not valid JSON"):
        load(write(tmp_path / "bad.json", "{"))


def test_what_is_shown_of_a_server_holds_no_secret() -> None:
    spec = ServerSpec(
        name="api",
        url="https://user:pw@example.test:8443/mcp?key=abc",
        headers={"Authorization": "Bearer tok"},
    )
    shown = json.dumps(spec.public())
    assert "pw" not in shown and "abc" not in shown and "tok" not in shown
    assert spec.public()["target"] == "https://example.test:8443/mcp"
    stdio = ServerSpec(name="s", command="/usr/bin/python3", env={"API_KEY": "k-123"})
    assert "k-123" not in json.dumps(stdio.public())


def test_status_without_a_gateway_connects_directly(tmp_path: Path) -> None:
    config = write(
        tmp_path / "mcp.json",
        json.dumps(
            {
                "mcpServers": {
                    "py": {
                        "command": sys.executable,
                        "args": ["-m", "llmspell.conformance.peers.mcp_server"],
                    }
                }
            }
        ),
    )
    nobody = f"http://127.0.0.1:{free_port()}"
    out = llmspell("mcp", "status", "--config", str(config), "--url", nobody)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"no gateway answers at {nobody}" in out.stdout
    first = out.stdout.splitlines()[1].split()
    assert first[:3] == ["py", "ready", "stdio"]
