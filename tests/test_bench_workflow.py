"""`python -m llmspell.bench workflow` at tiny sizes: it runs and prints every figure it promises.

No timing is asserted; the figures only have to be there and be numbers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SIZES = ["--steps", "3", "--rounds", "2", "--fanout", "10", "--items", "300"]
NUMBER = r"[-+]?\d[\d,]*\.?\d*"


def test_workflow_bench_prints_its_figures(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell.bench", "workflow", *SIZES],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # 1. per step: both paths, their ratio, and the added cost against the target
    assert "sequential, 3 steps" in out
    assert re.search(rf"direct pipeline\.invoke\s+{NUMBER}\s+1\.00\n", out), out
    assert re.search(rf"workflow step\s+{NUMBER}\s+{NUMBER}\n", out), out
    assert re.search(rf"added per step: {NUMBER} µs \(target ≤ 30 µs\) (PASS|MISS)", out), out
    # 2. fan-out: the gather baseline and both workflows, total ms, µs per branch, ratio
    assert "parallel, 10 one-step branches" in out
    for path in (r"direct \(asyncio\.gather\)", "all at once", "max_concurrency=50"):
        assert re.search(rf"{path}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\n", out), out
    # 3. stream: peak RSS of the small and the large run, and the difference against the target
    assert re.search(rf"\n3\s+{NUMBER}\s+{NUMBER}\n", out), out
    assert re.search(rf"\n300\s+{NUMBER}\s+{NUMBER}\n", out), out
    assert re.search(
        rf"peak RSS difference: {NUMBER} MB \(target within 10 MB\) (PASS|MISS)", out
    ), out


def test_stream_child_reports_its_peak_rss(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell.bench", "workflow", "--stream-child", "50"],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(
        r'\{"items": 50, "maxrss_kib": \d+, "seconds": [\d.e-]+\}\n', proc.stdout
    ), proc.stdout
