"""`python -m llmspell.bench tools` at a tiny size: one timed line per built-in tool, the
4000x3000 resize line and, when Chromium is on PATH, the web-scraper render line.

No timing is asserted; the figures only have to be there and be positive numbers. A built-in
without a typical call in the suite fails here, so a new tool cannot slip past the bench. The
run is offline: the web and messaging tools reach servers the bench starts on 127.0.0.1.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from llmspell.adapters.tools import builtin_tools
from llmspell.adapters.tools.web._browser import find_browser

from llmspell.bench.tools import TYPICAL

ROOT = Path(__file__).resolve().parent.parent
NUMBER = r"\d+\.\d+"
LINE = re.compile(
    rf"^tool (?P<name>\S+)\s+(?P<category>\S+)\s+"
    rf"median_us=\s*(?P<median>{NUMBER}) p90_us=\s*(?P<p90>{NUMBER}) calls=(?P<calls>\d+)$",
    re.MULTILINE,
)


def test_every_builtin_has_a_typical_call() -> None:
    names = {c.name for c in builtin_tools() if c.kind == "tool"}
    assert sorted(names - set(TYPICAL)) == [], "built-ins with no typical call in bench/tools.py"
    assert sorted(set(TYPICAL) - names) == [], "typical calls for tools that are not built-ins"


def test_tools_bench_prints_a_line_per_builtin(cli_env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llmspell.bench", "tools", "--calls", "2"],
        cwd=ROOT,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "no typical call" not in out, out
    expected = {c.name: c.category for c in builtin_tools() if c.kind == "tool"}
    found = {m["name"]: m for m in LINE.finditer(out)}
    assert sorted(found) == sorted(expected), out
    assert len(LINE.findall(out)) == len(expected), out
    for name, match in found.items():
        assert match["category"] == expected[name], match[0]
        assert float(match["median"]) > 0 and float(match["p90"]) >= float(match["median"]), match[
            0
        ]
        assert int(match["calls"]) >= 1, match[0]
    resize = re.search(
        rf"^resize image-processor 4000x3000 jpeg to 800 px wide "
        rf"median_ms=(?P<median>{NUMBER}) p90_ms={NUMBER} calls=\d+$",
        out,
        re.MULTILINE,
    )
    assert resize and float(resize["median"]) > 0, out
    render = re.search(
        rf"^render web-scraper render=true \(headless Chromium\) "
        rf"median_ms=(?P<median>{NUMBER}) p90_ms={NUMBER} calls=3$",
        out,
        re.MULTILINE,
    )
    if find_browser(None):
        assert render and float(render["median"]) > 0, out
    else:
        assert "no Chromium on PATH, not timed" in out, out
