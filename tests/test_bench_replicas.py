"""`python -m llmspell.bench replicas` at tiny sizes (JSON out): it runs HAProxy over one and two
real replicas and both task stores, every call succeeds, and every figure it promises is there.
No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_replicas_bench_reports_throughput_and_task_store_latency(
    cli_env: dict[str, str],
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell.bench", "replicas", "--clients", "4",
         "--duration", "1", "--calls", "5", "--json"],
        cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout[proc.stdout.index("{") :])
    paths = [row["path"] for row in report["throughput"]]
    assert paths == ["direct, 1 replica", "HAProxy, 1 replica", "HAProxy, 2 replicas"]
    for row in report["throughput"]:
        assert row["requests"] > 0 and row["errors"] == 0, row
    assert report["throughput"][0]["ratio"] == 1.0
    store = report["a2a_task_store"]
    assert store["calls"] == 5 and set(store["p50_ms"]) == {"sqlite", "postgresql"}
    assert all(v > 0 for v in store["p50_ms"].values())
