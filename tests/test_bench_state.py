"""`python -m llmspell.bench state` at tiny sizes: it runs and prints every figure it promises.

No timing is asserted; the figures only have to be there and be numbers.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"\d[\d,]*\.?\d*"


def test_state_bench_prints_its_figures(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell.bench", "state", "--ops", "20", "--runs", "1"],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "20 sets then 20 gets per script, median of 1 runs" in out
    assert re.search(r"engine\s+backend\s+sets/s\s+gets/s\s+ops/s\s+SQLite/memory\n", out), out
    for engine in ("Lua", "QuickJS"):
        row = rf"{engine}\s+{{backend}}\s+{NUMBER}\s+{NUMBER}\s+{NUMBER}\s+{{ratio}}\n"
        assert re.search(row.format(backend="SQLite", ratio=NUMBER), out), out
        assert re.search(row.format(backend="memory", ratio=r"1\.00"), out), out


def test_state_bench_refuses_flags_it_lacks(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell.bench", "state", "--steps", "3"],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "does not take --steps" in proc.stderr
