"""RAG: `python -m llmspell.bench rag [--vectors N] [--dim D] [--queries Q]`.

The run is a list of sections (`SECTIONS`), each an async function of the shared `Options`
printing its own lines; adding a measurement (embedding throughput, ingest) is one function
and one entry.

- vectors: N D-dimensional vectors (seeded; `--data clustered`, the default, shaped like text
  embeddings, or `random` unit-normal ones) go into the `disk` store (SQLite
  + usearch HNSW, a temp directory) in batches, timed as the build; the store is closed (index
  saved) and reopened, timed to its first answer. Q random queries then ask both `disk` and
  `memory` (exact numpy) for their top 10, one at a time through the async API after a
  warm-up: latency p50/p99 for each, and disk's recall@10 against exact. The target (p50 <=
  2 ms with recall >= 0.95 at 100,000 x 256) is printed PASS or MISS, never asserted: random
  vectors are HNSW's hardest case (no embedding looks like them), and a shared machine moves
  the figures.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmspell.adapters.vectors import DiskVectorStore, MemoryVectorStore
from llmspell.runtime.vectors import Record, VectorStore

TARGET_P50_MS = 2.0
TARGET_RECALL = 0.95
BATCH = 1_000
WARMUP = 10
K = 10


@dataclass(frozen=True, slots=True)
class Options:
    vectors: int
    dim: int
    queries: int
    folder: Path
    data: str = "clustered"
    chunks: int = 10_000
    seed: int = 0


# -- vectors: build, reopen, latency and recall of disk against exact --------------------------


async def _fill(store: VectorStore, matrix: np.ndarray) -> float:
    """Seconds to create the collection and upsert every row, in batches."""
    started = time.perf_counter()
    await store.create("bench", matrix.shape[1], "cosine")
    for start in range(0, len(matrix), BATCH):
        rows = matrix[start : start + BATCH]
        await store.upsert(
            "bench",
            [Record(f"v{start + i}", row.tolist(), "", {}) for i, row in enumerate(rows)],
        )
    return time.perf_counter() - started


async def _ask(
    store: VectorStore, queries: list[list[float]]
) -> tuple[list[float], list[set[str]]]:
    """Per-query seconds and hit ids, warm-up queries excluded."""
    for query in queries[:WARMUP]:
        await store.search("bench", query, k=K)
    seconds: list[float] = []
    found: list[set[str]] = []
    for query in queries:
        started = time.perf_counter()
        hits = await store.search("bench", query, k=K)
        seconds.append(time.perf_counter() - started)
        found.append({h.id for h in hits})
    return seconds, found


def _percentile(seconds: list[float], p: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def _latency(name: str, seconds: list[float]) -> float:
    p50, p99 = statistics.median(seconds) * 1000, _percentile(seconds, 99)
    print(f"{name} query latency: p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    return p50


def _data(opts: Options) -> tuple[np.ndarray, list[list[float]]]:
    """`clustered`: like text embeddings, points around topics (one centre per 100 vectors,
    noise at a third of the spread) and queries near stored points (a document's paraphrase);
    `random`: unit-normal vectors and queries, HNSW's hardest case and no embedding's shape."""
    rng = np.random.default_rng(opts.seed)
    n, d = opts.vectors, opts.dim
    if opts.data == "random":
        matrix = rng.standard_normal((n, d)).astype(np.float32)
        asked = rng.standard_normal((opts.queries, d))
    else:
        centres = rng.standard_normal((max(1, n // 100), d))
        matrix = (centres[rng.integers(0, len(centres), n)] + rng.normal(0, 0.35, (n, d))).astype(
            np.float32
        )
        near = matrix[rng.integers(0, n, opts.queries)]
        asked = near + rng.normal(0, 0.2, (opts.queries, d))
    return matrix, [q.tolist() for q in asked.astype(np.float32)]


async def vectors(opts: Options) -> None:
    matrix, queries = _data(opts)
    print(
        f"Vector search: {opts.vectors:,} x {opts.dim} {opts.data} vectors, {opts.queries} "
        f"queries, top-{K}, cosine"
    )
    path = opts.folder / "vectors"
    disk = DiskVectorStore(path)
    try:
        built = await _fill(disk, matrix)
    finally:
        await disk.aclose()
    print(f"disk build: {built:.2f} s ({opts.vectors / built:,.0f} vectors/s)")
    started = time.perf_counter()
    disk = DiskVectorStore(path)
    try:
        await disk.search("bench", queries[0], k=K)
        print(f"disk reopen to first answer: {time.perf_counter() - started:.3f} s")
        disk_seconds, disk_found = await _ask(disk, queries)
    finally:
        await disk.aclose()
    memory = MemoryVectorStore()
    try:
        exact_built = await _fill(memory, matrix)
        print(f"memory build: {exact_built:.2f} s")
        exact_seconds, exact_found = await _ask(memory, queries)
    finally:
        await memory.aclose()
    p50 = _latency("disk", disk_seconds)
    _latency("memory (exact)", exact_seconds)
    hits = sum(len(a & b) for a, b in zip(disk_found, exact_found, strict=True))
    recall = hits / sum(len(b) for b in exact_found) if exact_found else 0.0
    print(f"disk recall@{K} vs exact: {recall:.3f}")
    verdict = "PASS" if p50 <= TARGET_P50_MS and recall >= TARGET_RECALL else "MISS"
    print(
        f"target p50 <= {TARGET_P50_MS:g} ms and recall@{K} >= {TARGET_RECALL:g} "
        f"(set for 100,000 x 256; measured at {opts.vectors:,} x {opts.dim}): {verdict}"
    )


# -- the run --------------------------------------------------------------------------------

WORDS = [
    *("gateway", "agent", "tool", "hook", "event", "state", "workflow", "vector", "index"),
    *("search", "answer", "model", "prompt", "script", "policy", "sandbox", "upstream"),
    *("session", "task", "stream", "token", "cache", "retry", "limit", "chart", "file"),
]


def _sentences(count: int, rng: np.random.Generator) -> list[str]:
    """Short varied sentences: as many distinct texts as asked, none repeated."""
    picks = rng.integers(0, len(WORDS), (count, 12))
    return [f"{n}: " + " ".join(WORDS[i] for i in row) + "." for n, row in enumerate(picks)]


async def embeddings(opts: Options) -> None:
    from llmspell.adapters.embeddings import embedder

    local = embedder("local/wordllama")
    texts = _sentences(opts.chunks, np.random.default_rng(opts.seed))
    await local.embed(texts[:10])  # loads the model: not timed
    started = time.perf_counter()
    await local.embed(texts)
    seconds = time.perf_counter() - started
    print(
        f"Embeddings (local/wordllama, {local.dim} dims): {len(texts):,} texts of 13 words in "
        f"{seconds:.2f} s: {len(texts) / seconds:,.0f} texts/s"
    )


async def ingest(opts: Options) -> None:
    """`llmspell rag ingest` in a fresh process (its peak RSS is the process's own): a
    directory of Markdown files, one chunk per section, into a disk collection."""
    import resource
    import subprocess
    import sys

    docs = opts.folder / "docs"
    docs.mkdir()
    rng = np.random.default_rng(opts.seed)
    per_file = 100
    files = max(1, opts.chunks // per_file)
    for f in range(files):
        sections = _sentences(per_file, rng)
        body = "".join(f"## Section {f}.{s}\n\n{text}\n\n" for s, text in enumerate(sections))
        (docs / f"doc{f:04d}.md").write_text(f"# Document {f}\n\n{body}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "llmspell", "rag", "ingest", "bench", str(docs)],
        cwd=opts.folder,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"rag ingest failed: {done.stderr[-500:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    said = re.search(r"(\d+) chunks ingested", done.stdout)
    chunks = int(said.group(1)) if said else 0
    print(
        f"Ingest: {files} Markdown files, {chunks:,} chunks, `llmspell rag ingest` into a "
        f"disk collection: {seconds:.1f} s ({chunks / seconds:,.0f} chunks/s), "
        f"peak RSS {max(peak, before) / 1024:.0f} MiB"
    )


SECTIONS: list[tuple[str, Callable[[Options], Awaitable[None]]]] = [
    ("embeddings", embeddings),
    ("vectors", vectors),
    ("ingest", ingest),
]


async def _all(opts: Options) -> None:
    for i, (_, section) in enumerate(SECTIONS):
        if i:
            print()
        await section(opts)


def run(
    vectors: int = 100_000,
    dim: int = 256,
    queries: int = 100,
    data: str = "clustered",
    chunks: int = 10_000,
) -> int:
    with tempfile.TemporaryDirectory(prefix="llmspell-bench-rag-") as folder:
        asyncio.run(_all(Options(vectors, dim, queries, Path(folder), data, chunks)))
    return 0
