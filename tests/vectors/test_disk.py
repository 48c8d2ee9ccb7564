"""The disk store beyond the shared suite: HNSW recall, other processes, and kills.

SQLite is the truth and the usearch file a cache: whatever happens to the file (missing,
garbage, from an older generation, a writer killed mid-save) the store opens, counts and
searches what was committed.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from llmspell.adapters.vectors import DiskVectorStore, MemoryVectorStore, open_store
from llmspell.runtime.errors import LLMSpellError
from llmspell.runtime.vectors import Record

ROOT = Path(__file__).resolve().parents[2]


def _records(matrix: np.ndarray, start: int = 0) -> list[Record]:  # type: ignore[type-arg]
    return [
        Record(f"r{start + i}", row.tolist(), f"text {start + i}", {"even": (start + i) % 2 == 0})
        for i, row in enumerate(matrix)
    ]


def _python(script: str, path: Path, cli_env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(path)],
        cwd=ROOT,
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_recall_at_10_against_exact_search(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((10_000, 256)).astype(np.float32)
    queries = rng.standard_normal((100, 256)).astype(np.float32)
    # uniform random vectors are HNSW's hardest case: they need a wider search than the
    # default, which is set for embedding-shaped data (see hnsw.EXPANSION_SEARCH)
    disk = DiskVectorStore(tmp_path / "v", expansion_search=256)
    exact = MemoryVectorStore()
    try:
        for store in (disk, exact):
            await store.create("random", 256)
            for start in range(0, len(vectors), 2_000):
                await store.upsert("random", _records(vectors[start : start + 2_000], start))
        found = 0
        for query in queries:
            approx = {h.id for h in await disk.search("random", query.tolist(), k=10)}
            truth = {h.id for h in await exact.search("random", query.tolist(), k=10)}
            found += len(approx & truth)
        recall = found / (10 * len(queries))
        assert recall >= 0.95, recall
    finally:
        await disk.aclose()
        await exact.aclose()


WRITER = """
    import asyncio, sys
    from llmspell.adapters.vectors import DiskVectorStore
    from llmspell.runtime.vectors import Record

    async def main():
        store = DiskVectorStore(sys.argv[1])
        await store.create("docs", 4, "l2")
        await store.upsert("docs", [
            Record(f"d{i}", [float(i), 0.0, 0.0, 1.0], f"doc {i}", {"i": i}) for i in range(300)
        ])
        await store.delete("docs", ids=["d0"])
        await store.aclose()
        print("done", flush=True)

    asyncio.run(main())
"""


async def test_another_process_counts_and_searches_what_one_wrote(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    proc = _python(WRITER, tmp_path / "v", cli_env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and out.strip() == "done", err
    assert [p.name for p in (tmp_path / "v").glob("*.usearch")], "the index was saved on close"
    store = DiskVectorStore(tmp_path / "v")
    try:
        assert await store.count("docs") == 299
        assert await store.count("docs", {"i": [0, 1, 2]}) == 2
        hits = await store.search("docs", [41.2, 0.0, 0.0, 1.0], k=3)
        assert [h.id for h in hits] == ["d41", "d42", "d40"]
        assert hits[0].score == pytest.approx(-0.2, abs=1e-5)
    finally:
        await store.aclose()


INGEST = """
    import asyncio, sys
    import numpy as np
    from llmspell.adapters.vectors import DiskVectorStore
    from llmspell.runtime.vectors import Record

    async def main():
        store = DiskVectorStore(sys.argv[1], save_every=500)
        await store.create("docs", 32)
        rng = np.random.default_rng(1)
        done = 0
        while True:
            rows = rng.standard_normal((250, 32)).astype(np.float32)
            await store.upsert("docs", [
                Record(f"d{done + i}", row.tolist(), "t", {"batch": done // 250})
                for i, row in enumerate(rows)
            ])
            done += len(rows)
            print(done, flush=True)

    asyncio.run(main())
"""


async def test_a_writer_killed_mid_ingest_leaves_a_store_that_works(
    tmp_path: Path, cli_env: dict[str, str]
) -> None:
    proc = _python(INGEST, tmp_path / "v", cli_env)
    acknowledged = 0
    try:
        assert proc.stdout is not None
        for _ in range(9):  # saves (every 500) happen meanwhile; the kill may land in one
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            acknowledged = int(line)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert acknowledged == 9 * 250
    with sqlite3.connect(tmp_path / "v" / "vectors.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = DiskVectorStore(tmp_path / "v")
    try:
        total = await store.count("docs")
        assert total >= acknowledged and total % 250 == 0
        query = (await store.get("docs", ["d1000"]))[0].vector
        hits = await store.search("docs", query, k=5)
        assert len(hits) == 5 and hits[0].id == "d1000"
        assert len(await store.search("docs", query, k=5, filter={"batch": 2})) == 5
    finally:
        await store.aclose()


async def test_a_damaged_or_missing_index_file_is_rebuilt(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((500, 16)).astype(np.float32)
    store = DiskVectorStore(tmp_path / "v")
    await store.create("docs", 16)
    await store.upsert("docs", _records(matrix))
    await store.aclose()
    for damage in ("garbage", "missing"):
        [index_file] = (tmp_path / "v").glob("*.usearch")
        if damage == "garbage":
            index_file.write_bytes(b"\x00not an index" * 100)
        else:
            index_file.unlink()
        store = DiskVectorStore(tmp_path / "v")
        try:
            assert await store.count("docs") == 500
            hits = await store.search("docs", matrix[7].tolist(), k=1)
            assert hits[0].id == "r7" and hits[0].score == pytest.approx(1.0, abs=1e-5)
        finally:
            await store.aclose()


async def test_another_writer_makes_the_loaded_index_reload(tmp_path: Path) -> None:
    """Two stores on one directory (as two processes): each sees the other's commits."""
    first, second = DiskVectorStore(tmp_path / "v"), DiskVectorStore(tmp_path / "v")
    try:
        await first.create("docs", 2)
        await first.upsert("docs", [Record("a", [1.0, 0.0])])
        assert [h.id for h in await second.search("docs", [1.0, 0.0])] == ["a"]
        await second.upsert("docs", [Record("b", [0.0, 1.0])])
        await second.delete("docs", ids=["a"])
        assert [h.id for h in await first.search("docs", [1.0, 0.0])] == ["b"]
        await first.upsert("docs", [Record("c", [1.0, 0.1])])
        assert [h.id for h in await second.search("docs", [1.0, 0.0])] == ["c", "b"]
    finally:
        await first.aclose()
        await second.aclose()


async def test_a_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = DiskVectorStore(tmp_path / "v")
    await store.open()
    await store.aclose()
    await store.aclose()  # twice is fine
    with pytest.raises(LLMSpellError, match="is closed"):
        await store.count("docs")


async def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "v").mkdir()
    with sqlite3.connect(tmp_path / "v" / "vectors.db") as conn:
        conn.execute("CREATE TABLE something (x)")
    store = DiskVectorStore(tmp_path / "v")
    try:
        with pytest.raises(LLMSpellError, match="not an llmspell vector file"):
            await store.open()
    finally:
        await store.aclose()


async def test_open_store_names_the_backends(tmp_path: Path) -> None:
    memory = open_store("memory")
    disk = open_store("disk", path=tmp_path / "v", expansion_search=64)
    assert isinstance(memory, MemoryVectorStore) and isinstance(disk, DiskVectorStore)
    await disk.create("docs", 2)
    assert (tmp_path / "v" / "vectors.db").is_file()
    await disk.aclose()
    await memory.aclose()
    with pytest.raises(LLMSpellError, match="unknown vector backend 'faiss'"):
        open_store("faiss")
