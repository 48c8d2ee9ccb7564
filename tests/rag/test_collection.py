"""Collections end to end: ingest (text, directories, documents, URLs), re-ingest, delete,
count, the three search modes, the roots, and a second process reading what the first wrote."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.embeddings import embedder
from llmspell.adapters.rag.collection import chunk_id
from llmspell.adapters.rag.knowledge import RagKnowledge
from llmspell.adapters.tools.sandbox.files import Roots
from llmspell.adapters.vectors import open_store
from llmspell.runtime import Component, Invocation, LLMSpellError, Result
from llmspell.runtime.content import DataPart, TextPart
from llmspell.runtime.errors import ErrorCode
from llmspell.runtime.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
HASH = "offline/hash"

MARKDOWN = """# Circuit breaker

The breaker_failures key counts failed calls in a row before the breaker opens.

## Reset

After breaker_reset seconds one probe call decides whether the upstream is back.
"""
PYTHON = '''def resolve_roots(path):
    """Every path must land inside one of the allowed roots."""
    return path
'''


def knowledge(tmp_path: Path, **options: Any) -> RagKnowledge:
    options.setdefault("roots", Roots.of([tmp_path]))
    options.setdefault("default_embedding", HASH)
    return RagKnowledge(
        options.pop("base_dir", None), open_store=open_store, embedder=embedder, **options
    )


def tree(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / ".git").mkdir()
    (docs / "breaker.md").write_text(MARKDOWN)
    (docs / "sub" / "roots.py").write_text(PYTHON)
    (docs / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    (docs / ".git" / "config").write_text("hidden: never ingested")
    return docs


async def test_inline_text_is_searchable_in_every_mode(tmp_path: Path) -> None:
    k = knowledge(tmp_path)
    notes = await k.collection("notes")
    report = await notes.ingest(
        text="Cats sleep most of the day. Dogs like long walks.",
        metadata={"id": "pets", "topic": "animals"},
    )
    assert (report.sources, report.chunks, report.skipped) == (1, 1, ())
    assert await notes.count() == 1
    for mode in ("vector", "bm25", "hybrid"):
        [hit] = await notes.search("walks", k=3, mode=mode)
        assert hit.source == "text:pets"
        assert hit.id == chunk_id("text:pets", 0)
        assert hit.metadata["topic"] == "animals" and hit.score > 0
        assert "Dogs" in hit.text
    assert await k.names() == ["notes"]
    await k.aclose()


async def test_directory_ingest_skips_binary_and_hidden_and_reports_progress(
    tmp_path: Path,
) -> None:
    tree(tmp_path)
    k = knowledge(tmp_path)
    docs = await k.collection("docs")
    seen: list[tuple[int, int | None, str]] = []

    async def progress(done: int, total: int | None, source: str) -> None:
        seen.append((done, total, source))

    report = await docs.ingest(path="docs", metadata={"team": "infra"}, progress=progress)
    assert report.sources == 2 and report.chunks >= 3
    assert report.skipped == ("docs/logo.png: binary file",)
    assert seen == [(1, 3, "docs/breaker.md"), (2, 3, "docs/logo.png"), (3, 3, "docs/sub/roots.py")]
    [top] = await docs.search("breaker_reset", k=1, mode="bm25")
    assert top.source == "docs/breaker.md" and "Reset" in top.location
    assert top.metadata["team"] == "infra"
    assert {"start", "end", "chunk"} <= set(top.metadata)
    code = await docs.search("allowed roots", k=5, filter={"source": "docs/sub/roots.py"})
    assert code and all(p.source == "docs/sub/roots.py" for p in code)
    assert "resolve_roots" in code[0].location
    assert all(".git" not in p.source for p in await docs.search("hidden never ingested", k=10))
    await k.aclose()


async def test_reingest_replaces_and_delete_by_filter(tmp_path: Path) -> None:
    docs_dir = tree(tmp_path)
    k = knowledge(tmp_path)
    docs = await k.collection("docs")
    await docs.ingest(path="docs")
    before = await docs.count()
    await docs.ingest(path="docs/breaker.md")
    assert await docs.count() == before  # same source, same ids: replaced, not added
    (docs_dir / "breaker.md").write_text("# Circuit breaker\n\nNow a single short paragraph.\n")
    report = await docs.ingest(path="docs/breaker.md")
    assert report.chunks == 1
    assert await docs.count() == before - 1
    assert await docs.search("probe upstream", k=5, mode="bm25") == []
    removed = await docs.delete(filter={"source": "docs/sub/roots.py"})
    assert removed >= 1
    assert await docs.count() == 1
    assert await docs.search("allowed roots", k=5, mode="bm25") == []
    [left] = await docs.search("paragraph", k=5)
    assert await docs.delete(ids=[left.id]) == 1
    assert await docs.count() == 0
    with pytest.raises(LLMSpellError, match="ids, a filter"):
        await docs.delete()
    await k.aclose()


async def test_paths_outside_the_roots_are_refused(tmp_path: Path) -> None:
    inside = tmp_path / "inside"
    inside.mkdir()
    (tmp_path / "secret.md").write_text("# Secret\n\nnot for you\n")
    (inside / "link.md").symlink_to(tmp_path / "secret.md")
    k = knowledge(tmp_path, roots=Roots.of([inside]))
    docs = await k.collection("docs")
    with pytest.raises(LLMSpellError) as refused:
        await docs.ingest(path=str(tmp_path / "secret.md"))
    assert refused.value.code == ErrorCode.DENIED
    with pytest.raises(LLMSpellError):
        await docs.ingest(path="../secret.md")
    report = await docs.ingest(path=".")  # the symlink out of the roots is not followed
    assert report.sources == 0 and await docs.count() == 0
    with pytest.raises(LLMSpellError, match="does not exist"):
        await docs.ingest(path="missing.md")
    await k.aclose()


async def test_documents_and_urls_go_through_catalog_tools(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<html><body><h1>Hi</h1></body></html>")
    plain = knowledge(tmp_path)
    docs = await plain.collection("docs")
    report = await docs.ingest(path="page.html")
    assert report.sources == 0
    assert report.skipped == ("page.html: needs the document-reader tool, not in the catalog",)
    with pytest.raises(LLMSpellError, match="web-scraper"):
        await docs.ingest(url="https://example.com/")
    await plain.aclose()

    runtime = Runtime()
    asked: list[tuple[str, dict[str, Any]]] = []

    def fake(name: str, key: str, value: str) -> Component:
        async def handle(inv: Invocation) -> Result:
            asked.append((name, dict(inv.arguments)))
            return Result([TextPart(value), DataPart({key: value, "format": "html"})])

        return Component(name, handle, "tool", "a stand-in")

    runtime.catalog.register(
        fake("document-reader", "text", "# Greeting\n\nHello from the document reader.")
    )
    runtime.catalog.register(
        fake("web-scraper", "markdown", "# Page\n\nScraped words about llamas.")
    )
    k = knowledge(tmp_path, runtime=runtime)
    docs = await k.collection("docs")
    assert (await docs.ingest(path="page.html")).chunks == 1
    assert (await docs.ingest(url="https://example.com/llamas")).chunks == 1
    assert asked[0] == ("document-reader", {"path": str((tmp_path / "page.html").resolve())})
    assert asked[1][1]["url"] == "https://example.com/llamas"
    [hit] = await docs.search("llamas", k=1, mode="bm25")
    assert hit.source == "https://example.com/llamas"
    await k.aclose()


async def test_collection_specs_are_checked(tmp_path: Path) -> None:
    k = knowledge(tmp_path)
    await k.collection("a", backend="memory", embedding=HASH)
    assert await k.collection("a") is await k.collection("a", backend="memory")
    with pytest.raises(LLMSpellError, match="created with embedding"):
        await k.collection("a", embedding="local/wordllama")
    with pytest.raises(LLMSpellError, match="collection name"):
        await k.collection("no spaces please")
    with pytest.raises(LLMSpellError, match="base directory"):
        await k.collection("b", backend="disk")
    notes = await k.collection("a")
    with pytest.raises(LLMSpellError, match="exactly one"):
        await notes.ingest(text="x", url="https://example.com")
    with pytest.raises(LLMSpellError, match="search mode"):
        await notes.search("x", mode="fuzzy")  # type: ignore[arg-type]
    assert await notes.search("anything") == []
    await k.aclose()


SECOND = textwrap.dedent(
    """
    import asyncio, json, sys
    from llmspell.adapters.embeddings import embedder
    from llmspell.adapters.rag.knowledge import RagKnowledge
    from llmspell.adapters.tools.sandbox.files import Roots
    from llmspell.adapters.vectors import open_store

    async def main() -> None:
        k = RagKnowledge(sys.argv[1], roots=Roots.of([sys.argv[2]]), open_store=open_store, embedder=embedder)
        docs = await k.collection("docs")
        found = {"names": await k.names(), "count": await docs.count()}
        for mode in ("vector", "bm25", "hybrid"):
            found[mode] = [p.source for p in await docs.search("breaker_reset probe call", 3, mode=mode)]
        await docs.ingest(text="Written by the second process about zebras.", metadata={"id": "z"})
        await k.aclose()
        print(json.dumps(found))

    asyncio.run(main())
    """
)


async def test_a_second_process_finds_the_disk_collection(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    tree(tmp_path)
    base = tmp_path / ".llmspell" / "vectors"
    k = knowledge(tmp_path, base_dir=base)
    docs = await k.collection("docs")  # disk by default once there is a base directory
    await docs.ingest(path="docs")
    expected = await docs.count()
    bm25_here = await docs.search("zebras", k=3, mode="bm25")
    assert bm25_here == []
    ran = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SECOND, str(base), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env,
        cwd=ROOT,
    )
    assert ran.returncode == 0, ran.stderr
    found = json.loads(ran.stdout.strip().splitlines()[-1])
    assert found["names"] == ["docs"] and found["count"] == expected
    for mode in ("vector", "bm25", "hybrid"):
        assert "docs/breaker.md" in found[mode], (mode, found)
    [zebra] = await docs.search("zebras", k=1, mode="bm25")  # the other process's write is seen
    assert zebra.source == "text:z"
    await k.aclose()
