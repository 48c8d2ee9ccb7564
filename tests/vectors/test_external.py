"""The server backends against real servers: Chroma (`chroma run` on loopback, always) and
Weaviate (only when LLMSPELL_WEAVIATE_URL names one). The shared behaviour suite runs against
Chroma through BACKENDS; these are the things only a server has: restarts, a dead server,
names and filters Chroma would mishandle, another client changing collections underneath.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from llmspell.adapters.vectors import open_store
from llmspell.adapters.vectors.chroma import ChromaVectorStore
from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.vectors import Record

from .chroma_server import ChromaServer, chroma_store, free_port

RECORDS = [
    Record("a", [1.0, 0.0], "first", {"lang": "en", "n": 1}),
    Record("b", [0.0, 1.0], "second", {"lang": "fr", "n": 2}),
    Record("c", [3.0, 4.0], "third", {"lang": "en", "n": 3, "ok": True}),
]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ChromaVectorStore]:
    """A store on a database of its own on the session's server (tests never meet)."""
    opened = await chroma_store(tmp_path)
    assert isinstance(opened, ChromaVectorStore)
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_a_restart_keeps_the_data(tmp_path: Path) -> None:
    server = ChromaServer(tmp_path / "data")
    try:
        server.start()
        first_start = server.started_in
        store = ChromaVectorStore(server.url)
        await store.create("kept", 2, "l2")
        await store.upsert("kept", RECORDS)
        before = await store.search("kept", [1.0, 0.0], k=2)

        server.stop()
        with pytest.raises(LLMSpellError) as down:
            await store.count("kept")
        assert down.value.code == ErrorCode.UNAVAILABLE
        assert server.url in down.value.message

        server.start()
        # The same store (pooled connections to the old process) and a new one both see it.
        for seen in (store, ChromaVectorStore(server.url)):
            assert await seen.count("kept") == 3
            assert await seen.count("kept", {"lang": "en"}) == 2
            assert await seen.search("kept", [1.0, 0.0], k=2) == before
            assert [r.id for r in await seen.get("kept", ["c", "a"])] == ["c", "a"]
            await seen.aclose()
        print(f"chroma started in {first_start:.2f}s, restarted in {server.started_in:.2f}s")
    finally:
        server.stop()


async def test_a_dead_server_is_unavailable_naming_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    store = open_store("chroma", url=url, timeout=5.0)
    try:
        calls: list[Callable[[], Awaitable[object]]] = [
            lambda: store.create("c", 2),
            lambda: store.collections(),
            lambda: store.drop("c"),
            lambda: store.upsert("c", RECORDS),
            lambda: store.search("c", [1.0, 0.0]),
            lambda: store.get("c", ["a"]),
            lambda: store.delete("c", ids=["a"]),
            lambda: store.count("c"),
        ]
        for call in calls:
            with pytest.raises(LLMSpellError) as failed:
                await call()
            assert failed.value.code == ErrorCode.UNAVAILABLE
            assert url in failed.value.message
            assert failed.value.data["url"] == url
            assert failed.value.__cause__ is None and failed.value.__suppress_context__
    finally:
        await store.aclose()


async def test_names_chroma_refuses_round_trip(store: ChromaVectorStore) -> None:
    names = ["a", "x y", "notes/2024", "llmspell-61", "ça", "ok-name"]
    for i, name in enumerate(names):
        await store.create(name, 2, "cosine")
        await store.upsert(name, RECORDS[: i % 3 + 1])
    listed = {info.name: info.count for info in await store.collections()}
    assert listed == {name: i % 3 + 1 for i, name in enumerate(names)}
    assert await store.drop("llmspell-61")
    assert not await store.drop("llmspell-61")
    assert await store.count("a") == 1


async def test_upsert_replaces_metadata_rather_than_merging(store: ChromaVectorStore) -> None:
    await store.create("m", 2)
    await store.upsert("m", RECORDS)
    await store.upsert("m", [Record("c", [3.0, 4.0], "", {"lang": "de"}), Record("a", [1.0, 0.0])])
    got = {r.id: r for r in await store.get("m", ["a", "c"])}
    assert dict(got["c"].metadata) == {"lang": "de"} and got["c"].text == ""
    assert dict(got["a"].metadata) == {}
    assert await store.count("m", {"n": [1, 3]}) == 0
    assert await store.count("m", {"ok": True}) == 0


async def test_filters_chroma_would_misread(store: ChromaVectorStore) -> None:
    await store.create("f", 2, "dot")
    await store.upsert("f", RECORDS)
    # Chroma truncates a fractional float against an int (1.5 would match n=1).
    assert await store.count("f", {"n": 1.5}) == 0
    assert await store.search("f", [1.0, 1.0], k=3, filter={"n": [1.5, 2.5]}) == []
    assert [h.id for h in await store.search("f", [1.0, 1.0], filter={"n": [1.5, 2]})] == ["b"]
    assert await store.delete("f", filter={"n": 1.5}) == 0
    # Mixed types in one "any of" (Chroma refuses them in one `$in`); True is not 1.
    assert await store.count("f", {"n": [1, "x", True]}) == 1
    assert await store.count("f", {"ok": [1, True]}) == 1
    assert await store.count("f", {"n": 1.0}) == 1
    assert await store.count("f", {"lang": []}) == 0


async def test_another_client_dropping_and_recreating(store: ChromaVectorStore) -> None:
    other = ChromaVectorStore(store.url, database=store.database)
    try:
        await store.create("shared", 2)
        await store.upsert("shared", RECORDS)
        assert await store.count("shared") == 3
        assert await other.drop("shared")
        with pytest.raises(LLMSpellError) as gone:
            await store.count("shared")
        assert gone.value.code == ErrorCode.INVALID_ARGUMENTS
        await other.create("shared", 2)
        await other.upsert("shared", RECORDS[:1])
        assert await store.count("shared") == 1  # found again under its new id
    finally:
        await other.aclose()


async def test_bad_input_is_invalid_arguments(store: ChromaVectorStore) -> None:
    await store.create("v", 2)
    bad: list[Callable[[], Awaitable[object]]] = [
        lambda: store.create("v", 3),
        lambda: store.create("v", 2, "l2"),
        lambda: store.create("w", 0),
        lambda: store.upsert("v", [Record("z", [1.0, 2.0, 3.0])]),
        lambda: store.search("v", [1.0]),
        lambda: store.search("v", [1.0, 0.0], k=0),
        lambda: store.delete("v"),
        lambda: store.count("nope"),
        lambda: store.create("", 2),
    ]
    for call in bad:
        with pytest.raises(LLMSpellError) as refused:
            await call()
        assert refused.value.code == ErrorCode.INVALID_ARGUMENTS


# -- Weaviate: only against a server someone points us at -------------------------------------

WEAVIATE_URL = os.environ.get("LLMSPELL_WEAVIATE_URL")
WEAVIATE_REASON = (
    "set LLMSPELL_WEAVIATE_URL=http://host:8080 (grpc on 50051) to run the Weaviate backend "
    "against a server"
)


@pytest.mark.skipif(not WEAVIATE_URL, reason=WEAVIATE_REASON)
async def test_weaviate_backend_against_a_server() -> None:
    store = open_store("weaviate", url=WEAVIATE_URL)
    names = {m: f"llmspell_test_{m}_{uuid.uuid4().hex[:8]}" for m in ("cosine", "dot", "l2")}
    try:
        for metric, name in names.items():
            await store.create(name, 2, metric)  # type: ignore[arg-type]
            await store.create(name, 2, metric)  # type: ignore[arg-type]
            assert await store.upsert(name, RECORDS) == 3
        hits = {m: await store.search(n, [1.0, 1.0], k=3) for m, n in names.items()}
        assert [h.id for h in hits["dot"]] == ["c", "a", "b"]
        assert hits["dot"][0].score == pytest.approx(7.0, rel=1e-4)
        assert hits["cosine"][0].score == pytest.approx(7 / (5 * 2**0.5), rel=1e-4)
        assert hits["l2"][0].score == pytest.approx(-1.0, rel=1e-4)
        name = names["cosine"]
        assert dict(hits["cosine"][0].metadata) == {"lang": "en", "n": 3, "ok": True}
        assert await store.count(name, {"lang": "en"}) == 2
        assert await store.count(name, {"n": [1, 2], "lang": "fr"}) == 1
        assert await store.count(name, {"missing": 1}) == 0
        await store.upsert(name, [Record("c", [3.0, 4.0], "new", {"lang": "de"})])
        (c,) = await store.get(name, ["c"])
        assert (c.text, dict(c.metadata), list(c.vector)) == ("new", {"lang": "de"}, [3.0, 4.0])
        assert await store.delete(name, ids=["a", "b"], filter={"lang": "en"}) == 1
        assert await store.count(name) == 2
        listed = {i.name: (i.dim, i.metric) for i in await store.collections()}
        assert listed[names["l2"]] == (2, "l2")
        with pytest.raises(LLMSpellError) as wrong:
            await store.create(name, 3)
        assert wrong.value.code == ErrorCode.INVALID_ARGUMENTS
    finally:
        for name in names.values():
            await store.drop(name)
        await store.aclose()
    dead = open_store("weaviate", url=f"http://127.0.0.1:{free_port()}", timeout=3.0)
    started = time.monotonic()
    with pytest.raises(LLMSpellError) as down:
        await dead.count("x")
    assert down.value.code == ErrorCode.UNAVAILABLE and "127.0.0.1" in down.value.message
    assert time.monotonic() - started < 30
    await dead.aclose()
