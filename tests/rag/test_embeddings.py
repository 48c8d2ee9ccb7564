"""Embedders: WordLlama offline (and provably so), providers through the real `openai` SDK
against the local OpenAI-format server, and the state-store cache in front of either."""

from __future__ import annotations

import hashlib
import math
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.embeddings import CachedEmbedder, HashEmbedder, LocalEmbedder, embedder
from llmspell.adapters.embeddings.local import load_wordllama
from llmspell.adapters.embeddings.provider import ProviderEmbedder
from llmspell.adapters.state import SqliteStateStore
from llmspell.conformance.peers.llm_server import FakeLLM, Reply, fake_embedding, fake_llm
from llmspell.runtime import ErrorCode, LLMSpellError
from llmspell.runtime.state import MemoryStateStore


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# -- local ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local() -> LocalEmbedder:
    return LocalEmbedder()


async def test_local_vectors_are_256_wide_unit_length_and_rank_a_paraphrase_first(
    local: LocalEmbedder,
) -> None:
    query, paraphrase, unrelated = await local.embed(
        [
            "How do I reset my password?",
            "Steps to change the password of your account",
            "The recipe needs two eggs, flour and butter",
        ]
    )
    assert local.model == "local/wordllama" and local.dim == 256
    assert len(query) == len(paraphrase) == len(unrelated) == 256
    assert all(math.isclose(math.fsum(x * x for x in v), 1.0, rel_tol=1e-5) for v in (query,))
    assert dot(query, paraphrase) > dot(query, unrelated) + 0.2


async def test_local_embeds_a_thousand_texts_in_order(local: LocalEmbedder) -> None:
    texts = [
        f"document {i} about {'cats' if i % 2 else 'rockets'} " * (1 + i % 7) for i in range(1000)
    ]
    vectors = await local.embed(texts)
    assert len(vectors) == 1000 and {len(v) for v in vectors} == {256}
    again = await local.embed([texts[999], texts[0]])
    assert again[0] == pytest.approx(vectors[999], abs=1e-6)
    assert again[1] == pytest.approx(vectors[0], abs=1e-6)


async def test_local_empty_text_is_the_zero_vector_and_nothing_is_nothing(
    local: LocalEmbedder,
) -> None:
    assert await local.embed([]) == []
    (empty,) = await local.embed([""])
    assert empty == [0.0] * 256


async def test_local_truncated_dimensions() -> None:
    small = embedder("local", dimensions=64)
    (vec,) = await small.embed(["hello world"])
    assert small.dim == 64 and len(vec) == 64
    assert math.isclose(math.fsum(x * x for x in vec), 1.0, rel_tol=1e-5)
    with pytest.raises(LLMSpellError, match="64, 128, 256"):
        LocalEmbedder(dimensions=300)


def test_wordllama_loads_from_the_wheel_without_any_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network use: {args!r}")

    import requests

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)
    model = load_wordllama(256)  # not the shared copy: a real load under the guard
    vectors = model.embed(["offline"], norm=True)
    assert vectors.shape == (1, 256)


# -- offline/hash --------------------------------------------------------------------------------


async def test_hash_embedder_is_deterministic_and_word_sensitive() -> None:
    e = embedder("offline/hash", dimensions=32)
    assert isinstance(e, HashEmbedder) and e.dim == 32
    a, b, c, a2 = await e.embed(
        ["red apple pie", "red apple tart", "quantum physics", "red apple pie"]
    )
    assert a == a2 and len(a) == 32
    assert dot(a, b) > dot(a, c)
    assert len(await e.embed(["x"] * 300)) == 300


def test_factory_names_and_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert isinstance(embedder(), LocalEmbedder)
    assert isinstance(embedder("local/wordllama"), LocalEmbedder)
    assert isinstance(embedder({"model": "offline/hash"}), HashEmbedder)
    cached = embedder("offline/hash", state=MemoryStateStore())
    assert isinstance(cached, CachedEmbedder) and cached.model == "offline/hash"
    assert isinstance(embedder("offline/hash", state=MemoryStateStore(), cache=False), HashEmbedder)
    cases: list[tuple[Any, dict[str, Any], ErrorCode, str]] = [
        ("local/bert", {}, ErrorCode.INVALID_ARGUMENTS, "unknown embedding model"),
        ("local", {"base_url": "http://x"}, ErrorCode.INVALID_ARGUMENTS, "takes no base_url"),
        ("offline/hash", {"colour": 1}, ErrorCode.INVALID_ARGUMENTS, "unknown embedder option"),
        ("anthropic/claude", {}, ErrorCode.INVALID_ARGUMENTS, "no OpenAI-compatible embeddings"),
        ("nowhere/x", {}, ErrorCode.INVALID_ARGUMENTS, "unknown provider"),
        ("openai/text-embedding-3-small", {}, ErrorCode.NOT_CONFIGURED, "OPENAI_API_KEY"),
    ]
    for spec, options, code, message in cases:
        with pytest.raises(LLMSpellError, match=message) as caught:
            embedder(spec, **options)
        assert caught.value.code == code


# -- providers against the local OpenAI-format server ---------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[FakeLLM]:
    with fake_llm() as s:
        yield s


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-1234")
    return "sk-test-secret-1234"


async def test_provider_batches_requests_and_returns_the_servers_vectors(
    server: FakeLLM, key: str
) -> None:
    e = embedder("openai/text-embedding-3-small", base_url=server.url + "/v1", batch_size=3)
    assert isinstance(e, ProviderEmbedder) and e.dim == 0
    texts = [f"text {i}" for i in range(7)]
    try:
        vectors = await e.embed(texts)
    finally:
        await e.aclose()
    assert vectors == [fake_embedding(t) for t in texts]
    assert e.dim == 8 and e.model == "openai/text-embedding-3-small"
    assert [r.path for r in server.requests] == ["/v1/embeddings"] * 3
    assert [r.body["input"] for r in server.requests] == [texts[0:3], texts[3:6], texts[6:7]]
    assert {r.body["model"] for r in server.requests} == {"text-embedding-3-small"}
    assert all("dimensions" not in r.body for r in server.requests)
    assert server.requests[0].headers["authorization"] == f"Bearer {key}"


async def test_provider_passes_dimensions_and_reads_float_answers(
    server: FakeLLM, key: str
) -> None:
    server.queue(
        lambda rec: Reply(
            body={
                "object": "list",
                "data": [
                    {"object": "embedding", "index": i, "embedding": fake_embedding(t, 16)}
                    for i, t in reversed(list(enumerate(rec.body["input"])))
                ],
                "model": "m",
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        )
    )
    e = embedder(
        {"provider": "openai", "model": "m", "base_url": server.url + "/v1", "dimensions": 16}
    )
    assert e.dim == 16
    try:
        vectors = await e.embed(["a", "b"])  # answered out of order, as floats: put back in order
    finally:
        await e.aclose()  # type: ignore[attr-defined]
    assert vectors == [fake_embedding("a", 16), fake_embedding("b", 16)]
    assert server.requests[0].body["dimensions"] == 16


async def test_ollama_spec_needs_no_key(server: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    e = embedder("ollama/nomic-embed-text", base_url=server.url + "/v1")
    try:
        (vec,) = await e.embed(["local model"])
    finally:
        await e.aclose()  # type: ignore[attr-defined]
    assert vec == fake_embedding("local model")
    assert server.requests[0].body["model"] == "nomic-embed-text"


async def test_provider_401_is_a_clear_error_without_the_key(server: FakeLLM, key: str) -> None:
    server.queue(Reply(401, {"error": {"message": f"Incorrect API key provided: {key}"}}))
    e = embedder("openai/text-embedding-3-small", base_url=server.url + "/v1", max_retries=0)
    try:
        with pytest.raises(LLMSpellError) as caught:
            await e.embed(["x"])
    finally:
        await e.aclose()  # type: ignore[attr-defined]
    err = caught.value
    assert err.code == ErrorCode.PROVIDER_ERROR
    assert "HTTP 401" in err.message and "OPENAI_API_KEY" in err.message
    assert key not in str(err) and key not in repr(err.data)
    assert err.__cause__ is None or key not in str(err.__cause__)


async def test_provider_refuses_a_short_answer(server: FakeLLM, key: str) -> None:
    server.queue(
        Reply(
            body={
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [1.0]}],
                "model": "m",
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            }
        )
    )
    e = embedder("openai/m", base_url=server.url + "/v1")
    try:
        with pytest.raises(LLMSpellError, match="asked for 2 embeddings, got 1") as caught:
            await e.embed(["a", "b"])
    finally:
        await e.aclose()  # type: ignore[attr-defined]
    assert caught.value.code == ErrorCode.PROVIDER_ERROR


async def test_provider_unreachable(key: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    e = embedder("openai/m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=5)
    try:
        with pytest.raises(LLMSpellError, match="cannot reach") as caught:
            await e.embed(["a"])
    finally:
        await e.aclose()  # type: ignore[attr-defined]
    assert caught.value.code == ErrorCode.PROVIDER_ERROR


# -- the cache -----------------------------------------------------------------------------------


async def test_cache_sends_only_misses_and_nothing_the_second_time(
    server: FakeLLM, key: str
) -> None:
    state = MemoryStateStore()
    e = embedder("openai/text-embedding-3-small", base_url=server.url + "/v1", state=state)
    assert isinstance(e, CachedEmbedder)
    try:
        first = await e.embed(["alpha", "beta", "alpha"])
        assert len(server.requests) == 1
        assert server.requests[0].body["input"] == ["alpha", "beta"]  # a repeat is sent once
        assert await e.embed(["beta", "alpha"]) == [first[1], first[0]]
        assert len(server.requests) == 1  # all hits: no request at all
        mixed = await e.embed(["gamma", "alpha"])
        assert len(server.requests) == 2 and server.requests[1].body["input"] == ["gamma"]
        assert mixed == [fake_embedding("gamma"), first[0]]
    finally:
        await e.aclose()
    assert e.dim == 8 and (e.hits, e.misses) == (3, 3)
    scope = "embeddings:openai/text-embedding-3-small"
    assert await state.keys(scope) == sorted(
        hashlib.sha256(t.encode()).hexdigest() for t in ("alpha", "beta", "gamma")
    )
    assert await e.clear() == 3 and await state.keys(scope) == []


async def test_cache_survives_a_restart_in_sqlite(
    server: FakeLLM, key: str, tmp_path: Path
) -> None:
    async def run() -> list[list[float]]:
        store = SqliteStateStore(tmp_path / "state.db")
        e = embedder("openai/m", base_url=server.url + "/v1", state=store)
        try:
            return await e.embed(["kept", "across", "restarts"])
        finally:
            await e.aclose()  # type: ignore[attr-defined]
            await store.aclose()

    first = await run()
    second = await run()
    assert first == second == [fake_embedding(t) for t in ("kept", "across", "restarts")]
    assert len(server.requests) == 1


async def test_cache_over_the_local_model_is_exact() -> None:
    state = MemoryStateStore()
    e = embedder("local", state=state)
    first = await e.embed(["cached words", "more words"])
    assert await e.embed(["more words", "cached words"]) == [first[1], first[0]]
    assert isinstance(e, CachedEmbedder) and (e.hits, e.misses) == (2, 2) and e.dim == 256
