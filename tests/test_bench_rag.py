"""`python -m llmspell.bench rag` at tiny sizes: it runs and prints every figure it promises.

No timing or recall is asserted; the figures only have to be there and be numbers, and the
verdict PASS or MISS.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"\d[\d,]*\.?\d*"
BENCH = [sys.executable, "-m", "llmspell.bench", "rag"]


def test_rag_bench_prints_its_vector_figures(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [*BENCH, "--vectors", "2000", "--dim", "32", "--queries", "20", "--chunks", "300"],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Vector search: 2,000 x 32 clustered vectors, 20 queries, top-10, cosine\n" in out
    assert re.search(rf"disk build: {NUMBER} s \({NUMBER} vectors/s\)\n", out), out
    assert re.search(rf"disk reopen to first answer: {NUMBER} s\n", out), out
    assert re.search(rf"memory build: {NUMBER} s\n", out), out
    for name in ("disk", r"memory \(exact\)"):
        line = rf"{name} query latency: p50 {NUMBER} ms, p99 {NUMBER} ms\n"
        assert re.search(line, out), out
    assert re.search(r"disk recall@10 vs exact: (0\.\d{3}|1\.000)\n", out), out
    verdict = r"target p50 <= 2 ms and recall@10 >= 0\.95 \(set for 100,000 x 256; measured at 2,000 x 32\): (PASS|MISS)\n"
    assert re.search(verdict, out), out
    embedded = rf"Embeddings \(local/wordllama, 256 dims\): 300 texts of 13 words in {NUMBER} s: "
    assert re.search(embedded + rf"{NUMBER} texts/s\n", out), out
    ingested = re.search(
        rf"Ingest: 3 Markdown files, ({NUMBER}) chunks, `llmspell rag ingest` into a disk "
        rf"collection: {NUMBER} s \({NUMBER} chunks/s\), peak RSS {NUMBER} MiB\n",
        out,
    )
    assert ingested and int(ingested.group(1).replace(",", "")) >= 300, out


def test_rag_bench_refuses_flags_it_lacks(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [*BENCH, "--ops", "3"],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "does not take --ops" in proc.stderr
