"""The knowledge from every in-process surface: the `RAG` script API in Lua and JavaScript on a
disk collection, an agent's `knowledge` against a local OpenAI-format server (what the model is
sent, what it answers, what the reply lists), a config agent and `[knowledge]` through the
assembly, the `semantic-search` and `embedding-generator` tools through the pipeline, and the
`rag://` resource template."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.llm.agent import Agent, AgentSpec
from llmspell.adapters.rag.knowledge import RagKnowledge
from llmspell.adapters.scripts.loader import load_script
from llmspell.adapters.tools import register_builtins
from llmspell.adapters.tools.sandbox.files import Roots
from llmspell.conformance.peers.llm_server import (
    FakeLLM,
    Recorded,
    Reply,
    fake_llm,
    openai_completion,
)
from llmspell.gateway.assembly import Mode, assemble
from llmspell.gateway.config import load
from llmspell.runtime import ErrorCode, Invocation, LLMSpellError, Runtime

HASH = "offline/hash"
HOOKS = """# Hooks

Hooks run before and after every tool call. A before_tool hook may change the arguments.

## Points

The points are before_tool, after_tool, before_llm and after_llm.
"""
STATE = "# State\n\nState keeps keys in SQLite under .llmspell/state.db.\n"

LUA = """
local col = RAG.collection("docs", {embedding = "offline/hash"})
local report = col:ingest{path = "docs", metadata = {team = "core"}}
print(report.sources, report.chunks, #report.skipped)
print(col:count(), table.concat(RAG.list(), ","))
local hits = col:search{query = "before_tool hook", k = 1, mode = "bm25"}
print(hits[1].citation, hits[1].metadata.team)
print(#col:search{query = "state.db", filter = {team = "other"}})
"""
JS = """
const col = await RAG.collection("docs", {embedding: "offline/hash"});
const report = await col.ingest({path: "docs", metadata: {team: "core"}});
print(report.sources, report.chunks, report.skipped.length);
print(await col.count(), (await RAG.list()).join(","));
const hits = await col.search({query: "before_tool hook", k: 1, mode: "bm25"});
print(hits[0].citation, hits[0].metadata.team);
print((await col.search({query: "state.db", filter: {team: "other"}})).length);
"""


def docs(base: Path) -> Path:
    folder = base / "docs"
    folder.mkdir()
    (folder / "hooks.md").write_text(HOOKS, encoding="utf-8")
    (folder / "state.md").write_text(STATE, encoding="utf-8")
    (folder / "blob.bin").write_bytes(b"\x00\x01binary")
    return folder


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime whose knowledge keeps disk collections under tmp_path, with the built-ins
    searching that same knowledge."""
    rt = Runtime()
    rt.knowledge = RagKnowledge(
        tmp_path / ".llmspell" / "vectors", runtime=rt, roots=Roots.of([tmp_path])
    )
    register_builtins(rt.catalog, roots=[tmp_path], state=rt.state, knowledge=rt.knowledge)
    yield rt
    await rt.knowledge.aclose()


@pytest.mark.parametrize(("engine", "source"), [("lua", LUA), ("javascript", JS)])
async def test_the_script_api_ingests_and_searches_a_disk_collection(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, source: str
) -> None:
    docs(tmp_path)
    monkeypatch.chdir(tmp_path)  # `path = "docs"` is relative to the working directory
    script = tmp_path / ("rag.lua" if engine == "lua" else "rag.js")
    script.write_text(source, encoding="utf-8")
    out: list[str] = []
    loaded = await load_script(
        runtime, str(script), engine=engine, stdout=out.append, roots=[tmp_path]
    )
    await loaded.aclose()
    assert "".join(out).splitlines() == [
        "2\t3\t1",  # hooks.md is two chunks, state.md one, the binary file skipped
        "3\tdocs",
        "docs/hooks.md (# Hooks)\tcore",
        "0",
    ]
    assert (tmp_path / ".llmspell" / "vectors" / "knowledge.db").is_file()


async def test_a_bare_runtime_gives_each_script_its_own_memory_knowledge(
    tmp_path: Path,
) -> None:
    script = tmp_path / "bare.lua"
    script.write_text(
        'local c = RAG.collection("notes", {backend = "memory", embedding = "offline/hash"})\n'
        'c:ingest{text = "alpha beta"}\nprint(c:count(), table.concat(RAG.list(), ","))\n',
        encoding="utf-8",
    )
    out: list[str] = []
    rt = Runtime()
    loaded = await load_script(rt, str(script), stdout=out.append)
    await loaded.aclose()
    assert "".join(out) == "1\tnotes\n" and rt.knowledge is None


# -- agents ------------------------------------------------------------------------------------


def citing(recorded: Recorded) -> Reply:
    """A model that answers from the first citation it was given, quoting it."""
    system = next(m["content"] for m in recorded.body["messages"] if m["role"] == "system")
    cited = re.search(r"^\[(.+)\]$", system, re.MULTILINE)
    assert cited is not None, system
    return Reply(body=openai_completion(f"Hooks wrap each tool call [{cited.group(1)}]."))


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    with fake_llm(citing) as s:
        yield s


async def test_an_agent_answers_from_its_knowledge_and_cites_it(
    runtime: Runtime, tmp_path: Path, server: FakeLLM
) -> None:
    docs(tmp_path)
    assert runtime.knowledge is not None
    collection = await runtime.knowledge.collection("docs", embedding=HASH)
    await collection.ingest(path=str(tmp_path / "docs"))
    model = {"model": "openai/gpt-test", "base_url": server.url + "/v1"}
    spec = {
        "name": "helper",
        "model": model,
        "system_prompt": "Be brief.",
        "knowledge": {"collection": "docs", "k": 2},
    }
    agent = Agent(AgentSpec.from_plain(spec), runtime.pipeline, knowledge=runtime.knowledge)
    try:
        reply = await agent.execute("how do hooks work before_tool")
    finally:
        await agent.aclose()
    [request] = server.requests
    system = request.body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("Be brief.\n\n")
    assert "cite them as [source (location)]" in system["content"]
    assert "[docs/hooks.md (# Hooks)]" in system["content"]
    assert "A before_tool hook may change the arguments." in system["content"]
    assert request.body["messages"][-1] == {
        "role": "user",
        "content": "how do hooks work before_tool",
    }
    assert "[docs/hooks.md (# Hooks)]" in reply.text
    plain = reply.to_plain()
    assert plain["passages"][0]["citation"] == "docs/hooks.md (# Hooks)"
    assert len(plain["passages"]) == 2 and "text" in plain["passages"][0]


async def test_knowledge_spec_errors_and_a_missing_collection(
    runtime: Runtime, server: FakeLLM
) -> None:
    model = {"model": "openai/gpt-test", "base_url": server.url + "/v1"}
    for bad in ({"collection": "docs", "k": 0}, {"k": 3}, 7, ""):
        with pytest.raises(LLMSpellError, match="knowledge is a collection name"):
            AgentSpec.from_plain({"name": "a", "model": model, "knowledge": bad})
    spec = AgentSpec.from_plain({"name": "a", "model": model, "knowledge": "nowhere"})
    with pytest.raises(LLMSpellError) as refused:
        Agent(spec, runtime.pipeline)
    assert refused.value.code == ErrorCode.NOT_CONFIGURED
    server.queue(Reply(body=openai_completion("no sources")))
    agent = Agent(spec, runtime.pipeline, knowledge=runtime.knowledge)
    try:
        reply = await agent.execute("anything")
    finally:
        await agent.aclose()
    assert reply.to_plain()["passages"] == [] and reply.text == "no sources"
    assert runtime.knowledge is not None and "nowhere" not in await runtime.knowledge.names()
    assert server.requests[0].body["messages"] == [{"role": "user", "content": "anything"}]


async def test_a_config_agent_and_the_knowledge_section(
    tmp_path: Path, server: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "llmspell.toml").write_text(
        f"""
[knowledge]
path = "kb"
embedding = "{HASH}"

[state]
backend = "memory"

[[agents]]
name = "docs-helper"
model = {{ provider = "openai", model = "gpt-test", base_url = "{server.url}/v1" }}
knowledge = "docs"
""",
        encoding="utf-8",
    )
    config = load(tmp_path / "llmspell.toml")
    async with assemble(config, Mode.serve()) as parts:
        assert parts.runtime.knowledge is parts.knowledge and parts.knowledge.built is None
        collection = await parts.knowledge.collection("docs")
        report = await collection.ingest(path="docs")
        assert (report.sources, report.chunks) == (2, 3)
        result = await parts.runtime.call("docs-helper", {"text": "before_tool hook"})
        assert "[docs/hooks.md (# Hooks)]" in result.text
        assert result.data["passages"][0]["source"] == "docs/hooks.md"
        assert "rag://{collection}/{query}" in parts.summary()["resources"]
    assert (tmp_path / "kb" / "knowledge.db").is_file()
    assert not (tmp_path / ".llmspell" / "vectors").exists()


async def test_run_without_a_config_writes_nothing_until_a_collection_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with assemble(None, Mode.local()) as parts:
        assert (await parts.runtime.call("calculator", {"expression": "1+1"})).text == "2"
        assert parts.knowledge.built is None and not (tmp_path / ".llmspell").exists()
        col = await parts.knowledge.collection("notes", embedding=HASH)
        await col.ingest(text="alpha")
    assert (tmp_path / ".llmspell" / "vectors" / "knowledge.db").is_file()


# -- tools and the resource template -------------------------------------------------------


async def test_semantic_search_through_the_pipeline(runtime: Runtime, tmp_path: Path) -> None:
    docs(tmp_path)
    assert runtime.knowledge is not None
    collection = await runtime.knowledge.collection("docs", embedding=HASH)
    await collection.ingest(path=str(tmp_path / "docs"))
    component = runtime.catalog.get("semantic-search")
    assert component.category == "knowledge" and component.annotations.read_only
    assert not component.annotations.destructive
    result = await runtime.call(
        "semantic-search", {"collection": "docs", "query": "state.db", "k": 1, "mode": "bm25"}
    )
    assert not result.is_error
    [passage] = result.data["passages"]
    assert passage["citation"] == "docs/state.md (# State)"
    assert "[docs/state.md (# State)]" in result.text and "SQLite" in result.text
    filtered = await runtime.call(
        "semantic-search",
        {"collection": "docs", "query": "hooks", "filter": {"source": "docs/state.md"}},
    )
    assert {p["source"] for p in filtered.data["passages"]} == {"docs/state.md"}
    missing = await runtime.call("semantic-search", {"collection": "nope", "query": "x"})
    assert not missing.is_error and missing.data["passages"] == []
    assert "no collection named 'nope'" in missing.text and missing.data["known"] == ["docs"]
    assert "nope" not in await runtime.knowledge.names()  # a search creates nothing
    with pytest.raises(LLMSpellError, match="minimum of 1"):
        await runtime.call("semantic-search", {"collection": "docs", "query": "x", "k": 0})


async def test_embedding_generator_through_the_pipeline(runtime: Runtime) -> None:
    component = runtime.catalog.get("embedding-generator")
    a = component.annotations
    assert component.category == "knowledge" and a.read_only and not a.open_world
    result = await runtime.call(
        "embedding-generator",
        {"texts": ["alpha beta gamma", "hooks run first"], "model": HASH, "dimensions": 64},
    )
    assert not result.is_error, result.text
    assert result.data["dims"] == 64 and len(result.data["vectors"]) == 2
    assert result.data["vectors"][0] != result.data["vectors"][1]
    local = await runtime.call("embedding-generator", {"texts": ["how do hooks work"]})
    assert local.data["model"] == "local/wordllama" and local.data["dims"] == 256
    with pytest.raises(LLMSpellError, match="is not one of"):
        await runtime.call(
            "embedding-generator", {"texts": ["x"], "model": "openai/text-embedding-3-small"}
        )


async def test_a_configured_provider_model_opens_the_embedding_generator(
    server: FakeLLM,
) -> None:
    rt = Runtime()
    settings = {
        "embedding-generator": {"models": ["openai/emb-test"], "base_url": server.url + "/v1"}
    }
    register_builtins(rt.catalog, settings=settings, state=rt.state)
    assert rt.catalog.get("embedding-generator").annotations.open_world
    result = await rt.call(
        "embedding-generator", {"texts": ["alpha"], "model": "openai/emb-test", "dimensions": 4}
    )
    assert not result.is_error, result.text
    assert result.data["dims"] == 4
    [request] = server.requests
    assert request.path.endswith("/embeddings") and request.body["input"] == ["alpha"]


async def test_the_rag_resource_template_reads_passages(tmp_path: Path) -> None:
    docs(tmp_path)
    async with assemble(None, Mode.local(roots=(str(tmp_path),))) as parts:
        [template] = parts.runtime.resources.templates()
        assert template.uri == "rag://{collection}/{query}"
        collection = await parts.knowledge.collection("docs", backend="memory", embedding=HASH)
        await collection.ingest(path=str(tmp_path / "docs"))
        uri = "rag://docs/before_tool%20hook"
        [part] = await parts.runtime.read_resource(Invocation(uri))
        body: dict[str, Any] = json.loads(part.text or "")
        assert part.mime_type == "application/json" and body["query"] == "before_tool hook"
        assert body["passages"][0]["citation"] == "docs/hooks.md (# Hooks)"
        with pytest.raises(LLMSpellError, match="no collection named 'other'"):
            await parts.runtime.read_resource(Invocation("rag://other/x"))
        names = await template.complete["collection"]("d", {})
        assert names == ["docs"]
