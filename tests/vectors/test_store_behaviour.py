"""The one behaviour of the vector store port, run against every backend in `BACKENDS`.

Vectors are hand-made so every score and order is known: cosine similarity, dot product and
negative Euclidean distance, higher is better for all three.
"""

from __future__ import annotations

import math

import pytest
from llmspell.runtime.errors import LLMSpellError
from llmspell.runtime.vectors import CollectionInfo, Record, VectorStore, matches

AXES = [
    Record("x", [1.0, 0.0, 0.0], "along x", {"kind": "axis", "n": 1}),
    Record("y", [0.0, 2.0, 0.0], "along y", {"kind": "axis", "n": 2}),
    Record("xy", [3.0, 4.0, 0.0], "diagonal", {"kind": "mix", "n": 3}),
    Record("-x", [-1.0, 0.0, 0.0], "against x", {"kind": "axis", "n": 4}),
]


async def _axes(store: VectorStore, metric: str = "cosine") -> None:
    await store.create("axes", 3, metric)  # type: ignore[arg-type]
    assert await store.upsert("axes", AXES) == 4


def _scores(hits: list) -> list[tuple[str, float]]:  # type: ignore[type-arg]
    return [(h.id, pytest.approx(h.score, abs=1e-5)) for h in hits]


# -- collections --------------------------------------------------------------------------


async def test_create_lists_and_drops_collections(store: VectorStore) -> None:
    await store.create("b", 3, "l2")
    await store.create("a", 2)
    await store.create("a", 2, "cosine")  # alike: a no-op
    await store.upsert("a", [Record("1", [1.0, 0.0])])
    assert await store.collections() == [
        CollectionInfo("a", 2, "cosine", 1),
        CollectionInfo("b", 3, "l2", 0),
    ]
    assert await store.drop("a") is True
    assert await store.drop("a") is False
    assert [c.name for c in await store.collections()] == ["b"]
    await store.create("a", 4, "dot")  # a dropped name is free again
    assert await store.count("a") == 0


async def test_create_refuses_another_dimension_or_metric(store: VectorStore) -> None:
    await store.create("docs", 3)
    with pytest.raises(LLMSpellError, match="exists with 3 dimensions and metric cosine, not 4"):
        await store.create("docs", 4)
    with pytest.raises(LLMSpellError, match="not 3 and l2"):
        await store.create("docs", 3, "l2")
    with pytest.raises(LLMSpellError, match="unknown metric 'hamming'"):
        await store.create("other", 3, "hamming")  # type: ignore[arg-type]
    with pytest.raises(LLMSpellError, match="dimension must be >= 1"):
        await store.create("other", 0)


async def test_dimension_is_checked_on_upsert_and_search(store: VectorStore) -> None:
    await store.create("docs", 3)
    message = "collection 'docs' holds 3-dimensional vectors, not 2"
    with pytest.raises(LLMSpellError, match=message):
        await store.upsert("docs", [Record("a", [1.0, 0.0])])
    with pytest.raises(LLMSpellError, match=message):
        await store.search("docs", [1.0, 0.0])
    assert await store.count("docs") == 0


async def test_unknown_collection_is_an_error(store: VectorStore) -> None:
    message = "no collection 'nope'"
    with pytest.raises(LLMSpellError, match=message):
        await store.upsert("nope", [Record("a", [1.0])])
    with pytest.raises(LLMSpellError, match=message):
        await store.search("nope", [1.0])
    with pytest.raises(LLMSpellError, match=message):
        await store.count("nope")
    with pytest.raises(LLMSpellError, match=message):
        await store.get("nope", ["a"])
    with pytest.raises(LLMSpellError, match=message):
        await store.delete("nope", ids=["a"])
    assert await store.drop("nope") is False


# -- writes -------------------------------------------------------------------------------


async def test_upsert_replaces_by_id(store: VectorStore) -> None:
    await _axes(store)
    assert await store.upsert("axes", [Record("x", [0.0, 0.0, 5.0], "moved", {"kind": "z"})]) == 1
    assert await store.count("axes") == 4
    [got] = await store.get("axes", ["x"])
    assert got == Record("x", [0.0, 0.0, 5.0], "moved", {"kind": "z"})
    [best] = await store.search("axes", [0.0, 0.0, 1.0], k=1)
    assert (best.id, best.text, dict(best.metadata)) == ("x", "moved", {"kind": "z"})
    assert best.score == pytest.approx(1.0)


async def test_the_last_record_of_an_id_in_a_batch_wins(store: VectorStore) -> None:
    await store.create("docs", 2)
    batch = [Record("a", [1.0, 0.0], "first"), Record("a", [0.0, 1.0], "second")]
    assert await store.upsert("docs", batch) == 1
    assert [r.text for r in await store.get("docs", ["a"])] == ["second"]


async def test_metadata_must_be_flat_scalars(store: VectorStore) -> None:
    await store.create("docs", 2)
    with pytest.raises(LLMSpellError, match="metadata 'tags' must be a str, int, float or bool"):
        await store.upsert("docs", [Record("a", [1.0, 0.0], "", {"tags": ["x"]})])  # type: ignore[dict-item]


async def test_get_returns_found_records_in_the_order_asked(store: VectorStore) -> None:
    await _axes(store)
    got = await store.get("axes", ["xy", "missing", "x"])
    assert [r.id for r in got] == ["xy", "x"]
    assert got[0] == AXES[2] and got[1] == AXES[0]
    assert await store.get("axes", []) == []


async def test_metadata_round_trips_with_its_types(store: VectorStore) -> None:
    await store.create("docs", 2)
    meta = {"s": "text", "i": 7, "f": 2.5, "t": True, "n": False, "neg": -3, "zero": 0.0}
    await store.upsert("docs", [Record("a", [1.0, 0.0], "", meta)])
    [got] = await store.get("docs", ["a"])
    [hit] = await store.search("docs", [1.0, 0.0], k=1)
    for found in (dict(got.metadata), dict(hit.metadata)):
        assert found == meta
        assert {k: type(v) for k, v in found.items()} == {k: type(v) for k, v in meta.items()}


async def test_unicode_ids_text_and_metadata(store: VectorStore) -> None:
    await store.create("docs", 2)
    record = Record("ид-🦉", [0.0, 1.0], "naïve café — 東京 🦉\nline two", {"lang": "日本語"})
    await store.upsert("docs", [record])
    assert await store.get("docs", ["ид-🦉"]) == [record]
    [hit] = await store.search("docs", [0.0, 1.0], k=1, filter={"lang": "日本語"})
    assert (hit.id, hit.text) == (record.id, record.text)


# -- search -------------------------------------------------------------------------------


async def test_cosine_search_orders_by_similarity(store: VectorStore) -> None:
    await _axes(store, "cosine")
    hits = await store.search("axes", [1.0, 0.0, 0.0], k=4)
    assert _scores(hits) == [("x", 1.0), ("xy", 0.6), ("y", 0.0), ("-x", -1.0)]
    assert (hits[0].text, dict(hits[0].metadata)) == ("along x", {"kind": "axis", "n": 1})
    hits = await store.search("axes", [0.0, 10.0, 0.0], k=2)  # the query's length is irrelevant
    assert _scores(hits) == [("y", 1.0), ("xy", 0.8)]


async def test_dot_search_orders_by_inner_product(store: VectorStore) -> None:
    await _axes(store, "dot")
    hits = await store.search("axes", [1.0, 1.0, 0.0], k=4)
    assert _scores(hits) == [("xy", 7.0), ("y", 2.0), ("x", 1.0), ("-x", -1.0)]


async def test_l2_search_scores_the_negative_distance(store: VectorStore) -> None:
    await _axes(store, "l2")
    hits = await store.search("axes", [1.0, 0.0, 0.0], k=4)
    expected = [("x", 0.0), ("y", -math.sqrt(5)), ("-x", -2.0), ("xy", -math.sqrt(20))]
    expected.sort(key=lambda pair: -pair[1])
    assert _scores(hits) == expected


async def test_k_limits_the_hits(store: VectorStore) -> None:
    await _axes(store)
    assert [h.id for h in await store.search("axes", [1.0, 0.0, 0.0], k=1)] == ["x"]
    assert len(await store.search("axes", [1.0, 0.0, 0.0], k=50)) == 4
    with pytest.raises(LLMSpellError, match="k must be >= 1"):
        await store.search("axes", [1.0, 0.0, 0.0], k=0)


async def test_search_of_an_empty_collection_finds_nothing(store: VectorStore) -> None:
    await store.create("empty", 3)
    assert await store.search("empty", [1.0, 0.0, 0.0]) == []
    assert await store.search("empty", [1.0, 0.0, 0.0], filter={"kind": "axis"}) == []


async def test_deleted_records_are_not_found(store: VectorStore) -> None:
    await _axes(store)
    await store.delete("axes", ids=["x"])
    assert [h.id for h in await store.search("axes", [1.0, 0.0, 0.0], k=4)] == ["xy", "y", "-x"]


# -- filters ------------------------------------------------------------------------------


async def test_filter_by_equality(store: VectorStore) -> None:
    await _axes(store)
    hits = await store.search("axes", [1.0, 0.0, 0.0], k=4, filter={"kind": "axis"})
    assert [h.id for h in hits] == ["x", "y", "-x"]
    assert await store.search("axes", [1.0, 0.0, 0.0], filter={"kind": "none"}) == []
    assert await store.search("axes", [1.0, 0.0, 0.0], filter={"absent": 1}) == []


async def test_filter_by_any_of_a_list(store: VectorStore) -> None:
    await _axes(store)
    hits = await store.search("axes", [1.0, 0.0, 0.0], k=4, filter={"n": [2, 3, 99]})
    assert [h.id for h in hits] == ["xy", "y"]


async def test_filter_on_several_keys_needs_all(store: VectorStore) -> None:
    await _axes(store)
    hits = await store.search("axes", [0.0, 1.0, 0.0], k=4, filter={"kind": "axis", "n": [1, 2]})
    assert [h.id for h in hits] == ["y", "x"]
    assert await store.count("axes", {"kind": "mix", "n": 1}) == 0


async def test_filter_values_keep_their_types(store: VectorStore) -> None:
    await store.create("docs", 2)
    await store.upsert(
        "docs",
        [
            Record("bool", [1.0, 0.0], "", {"v": True}),
            Record("int", [1.0, 0.0], "", {"v": 1}),
            Record("str", [1.0, 0.0], "", {"v": "1"}),
        ],
    )
    assert await store.count("docs", {"v": True}) == 1
    assert await store.count("docs", {"v": "1"}) == 1
    assert [h.id for h in await store.search("docs", [1.0, 0.0], filter={"v": True})] == ["bool"]


async def test_a_filter_finds_k_matches_however_far_they_are(store: VectorStore) -> None:
    """Approximate backends must not lose far matches behind many near non-matches."""
    await store.create("docs", 2)
    near = [Record(f"near{i}", [1.0, i / 1000], "", {"tag": "common"}) for i in range(400)]
    far = [Record(f"far{i}", [-1.0, i / 10], "", {"tag": "rare"}) for i in range(5)]
    await store.upsert("docs", near + far)
    hits = await store.search("docs", [1.0, 0.0], k=5, filter={"tag": "rare"})
    assert sorted(h.id for h in hits) == [f"far{i}" for i in range(5)]
    hits = await store.search("docs", [1.0, 0.0], k=3, filter={"tag": "rare"})
    assert [h.id for h in hits] == ["far4", "far3", "far2"]


# -- delete and count ---------------------------------------------------------------------


async def test_delete_by_ids(store: VectorStore) -> None:
    await _axes(store)
    assert await store.delete("axes", ids=["x", "y", "missing"]) == 2
    assert await store.count("axes") == 2
    assert await store.get("axes", ["x", "y"]) == []
    assert await store.delete("axes", ids=[]) == 0


async def test_delete_by_filter_and_by_both(store: VectorStore) -> None:
    await _axes(store)
    assert await store.delete("axes", ids=["x", "xy"], filter={"kind": "axis"}) == 1
    assert sorted(r.id for r in await store.get("axes", ["x", "xy"])) == ["xy"]
    assert await store.delete("axes", filter={"kind": "axis"}) == 2
    assert [r.id for r in await store.get("axes", [r.id for r in AXES])] == ["xy"]
    with pytest.raises(LLMSpellError, match="delete needs ids or a non-empty filter"):
        await store.delete("axes")
    with pytest.raises(LLMSpellError, match="delete needs ids or a non-empty filter"):
        await store.delete("axes", filter={})


async def test_count_with_and_without_a_filter(store: VectorStore) -> None:
    await _axes(store)
    assert await store.count("axes") == 4
    assert await store.count("axes", {"kind": "axis"}) == 3
    assert await store.count("axes", {"n": [1, 3]}) == 2
    assert await store.count("axes", {"kind": "nothing"}) == 0


# -- the port's filter reading (no backend) ------------------------------------------------


def test_matches_reads_a_filter() -> None:
    meta = {"kind": "axis", "n": 1, "f": 1.0, "ok": True}
    assert matches(meta, None) and matches(meta, {})
    assert matches(meta, {"kind": "axis", "n": [1, 2]})
    assert matches(meta, {"n": 1.0}) and matches(meta, {"f": 1})
    assert not matches(meta, {"n": True}) and not matches(meta, {"ok": 1})
    assert not matches(meta, {"missing": "x"}) and not matches(meta, {"kind": []})
