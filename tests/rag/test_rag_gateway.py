"""The knowledge across processes: `llmspell rag ingest` in one process, `rag search` and `rag
list` in others reading what it wrote, and a gateway process serving the same collection as the
`semantic-search` tool and the `rag://{collection}/{query}` template to the MCP SDK's client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client
from mcpserver.conftest import RunningGateway, env, gateway

HOOKS = """# Hooks

Hooks run before and after every tool call. A before_tool hook may change the arguments.

## Points

The points are before_tool, after_tool, before_llm and after_llm.
"""
STATE = "# State\n\nState keeps keys in SQLite under .llmspell/state.db.\n"
CONFIG = """\
[knowledge]
embedding = "offline/hash"

[state]
backend = "memory"
"""


def llmspell(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmspell", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def project(base: Path) -> Path:
    (base / "docs").mkdir()
    (base / "docs" / "hooks.md").write_text(HOOKS, encoding="utf-8")
    (base / "docs" / "state.md").write_text(STATE, encoding="utf-8")
    (base / "llmspell.toml").write_text(CONFIG, encoding="utf-8")
    return base


def test_ingest_then_search_and_list_in_other_processes(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hooks.md").write_text(HOOKS, encoding="utf-8")
    (tmp_path / "docs" / "state.md").write_text(STATE, encoding="utf-8")
    ingest = llmspell(tmp_path, "rag", "ingest", "docs", "docs", "--embedding", "offline/hash")
    assert ingest.returncode == 0, ingest.stderr
    assert ingest.stdout == "docs: 2 sources, 3 chunks ingested (3 in all)\n"
    assert (tmp_path / ".llmspell" / "vectors" / "knowledge.db").is_file()

    found = llmspell(tmp_path, "rag", "search", "docs", "state.db", "-k", "1", "--json")
    assert found.returncode == 0, found.stderr
    [passage] = json.loads(found.stdout)
    assert passage["citation"] == "docs/state.md (# State)" and "SQLite" in passage["text"]
    words = llmspell(tmp_path, "rag", "search", "docs", "before_tool", "--mode", "bm25")
    assert words.returncode == 0 and words.stdout.startswith("1. [docs/hooks.md (# Hooks)]")

    listed = llmspell(tmp_path, "rag", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [
        {"name": "docs", "backend": "disk", "embedding": "offline/hash", "count": 3}
    ]
    again = llmspell(
        tmp_path, "rag", "ingest", "docs", "docs/state.md", "--embedding", "local/wordllama"
    )
    assert again.returncode == 1 and "was created with embedding 'offline/hash'" in again.stderr
    missing = llmspell(tmp_path, "rag", "search", "nope", "x")
    assert missing.returncode == 1 and "no collection named 'nope'" in missing.stderr
    outside = llmspell(tmp_path, "rag", "ingest", "docs", "/etc/hostname")
    assert outside.returncode == 1 and outside.stderr.startswith("llmspell: ")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    base = project(tmp_path_factory.mktemp("rag-gateway"))
    ingest = llmspell(base, "rag", "ingest", "docs", "docs")  # `[knowledge] embedding` applies
    assert ingest.returncode == 0, ingest.stderr
    with gateway(config=base / "llmspell.toml", cwd=base) as running:
        yield running


async def test_semantic_search_over_mcp(served: RunningGateway) -> None:
    async with Client(served.url) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["semantic-search"].annotations.read_only_hint is True  # type: ignore[union-attr]
        assert "embedding-generator" in tools
        result = await client.call_tool(
            "semantic-search", {"collection": "docs", "query": "before_tool hook", "k": 2}
        )
    assert not result.is_error
    passages = result.structured_content["passages"] if result.structured_content else None
    text = "".join(c.text for c in result.content if isinstance(c, types.TextContent))
    assert "[docs/hooks.md (# Hooks)]" in text, text
    assert passages is None or passages[0]["citation"] == "docs/hooks.md (# Hooks)"


async def test_the_rag_template_over_mcp(served: RunningGateway) -> None:
    async with Client(served.url) as client:
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["rag://{collection}/{query}"]
        read = await client.read_resource("rag://docs/how%20do%20hooks%20work")
    [content] = read.contents
    assert isinstance(content, types.TextResourceContents)
    assert content.mime_type == "application/json"
    body = json.loads(content.text)
    assert body["collection"] == "docs" and body["query"] == "how do hooks work"
    assert body["passages"] and all("citation" in p for p in body["passages"])
    assert "docs/hooks.md (# Hooks)" in [p["citation"] for p in body["passages"]]
