"""`python -m llmspell.bench hooks` at tiny sizes: it runs and prints every figure it promises.

No timing is asserted; the figures only have to be there and be numbers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"[-+]?\d[\d,]*\.?\d*"


def test_hooks_bench_prints_its_figures(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "llmspell.bench",
            "hooks",
            "--events",
            "3000",
            "--calls",
            "5",
            "--runs",
            "1",
        ],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # 1. events per second with 1 and 10 queued subscribers (and inline), none dropped
    for label in ("1 queued subscriber", "10 queued subscribers", "1 inline subscriber"):
        assert re.search(rf"{label}\s+{NUMBER}\s+{NUMBER}\s+0\n", out), out
    assert re.search(rf"one queued subscriber: {NUMBER}/s \(target ≥ 200,000/s\) (PASS|MISS)", out)
    # 2. the three medians, each ratio and verdict; the Lua hooks really ran
    assert re.search(rf"without hooks\s+median\s+{NUMBER} µs", out), out
    for label in ("5 Lua hooks", "5 Python hooks"):
        assert re.search(
            rf"{label}\s+median\s+{NUMBER} µs\s+ratio {NUMBER}: {NUMBER}% added "
            r"\(target ≤ 2%\) (PASS|MISS)",
            out,
        ), out
    assert "WARNING" not in out
