"""Retrieval quality on this project's own docs: hit@5 of vector-only, BM25-only and hybrid
search over `corpus/passages.jsonl` (README.md and docs/*.md cut at headings) for the 20
hand-written questions in `corpus/questions.jsonl`, each naming the passage that answers it.

Most questions paraphrase their passage, so words alone miss them; a few name an exact
identifier (`breaker_failures`, `RLIMIT_NPROC`), which embeddings blur. Hybrid must do at least
as well as the better of the two. When it does not, fix the method, not the questions.
"""

from __future__ import annotations

import json
from pathlib import Path

from llmspell.adapters.embeddings import embedder
from llmspell.adapters.rag.knowledge import RagKnowledge
from llmspell.adapters.vectors import open_store

CORPUS = Path(__file__).resolve().parent / "corpus"
K = 5


def rows(name: str) -> list[dict[str, str]]:
    with (CORPUS / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def test_the_corpus_is_consistent() -> None:
    passages = rows("passages.jsonl")
    ids = [p["id"] for p in passages]
    assert 60 <= len(passages) <= 120 and len(set(ids)) == len(ids)
    questions = rows("questions.jsonl")
    assert len(questions) == 20
    assert all(q["answer"] in ids for q in questions)


async def test_hybrid_hits_at_least_as_often_as_either_half() -> None:
    knowledge = RagKnowledge(open_store=open_store, embedder=embedder)
    docs = await knowledge.collection("docs", backend="memory", embedding="local/wordllama")
    for passage in rows("passages.jsonl"):
        await docs.ingest(
            text=passage["text"], metadata={"id": passage["id"], "passage": passage["id"]}
        )
    questions = rows("questions.jsonl")
    hit_at_5: dict[str, float] = {}
    for mode in ("vector", "bm25", "hybrid"):
        hits = 0
        for q in questions:
            found = await docs.search(q["question"], k=K, mode=mode)  # type: ignore[arg-type]
            hits += q["answer"] in [p.metadata["passage"] for p in found]
        hit_at_5[mode] = hits / len(questions)
    await knowledge.aclose()
    print(f"hit@{K}: " + ", ".join(f"{mode} {score:.2f}" for mode, score in hit_at_5.items()))
    assert hit_at_5["hybrid"] >= max(hit_at_5["vector"], hit_at_5["bm25"]), hit_at_5
    assert hit_at_5["hybrid"] >= 0.7, hit_at_5
