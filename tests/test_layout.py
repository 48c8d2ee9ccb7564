"""The layout's rules: dependencies point one way (gateway -> protocols -> runtime <- adapters),
no module grows into a grab-bag, and the long runs sit behind the `slow` marker."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 500
"""Past this a module holds more than one concept: split it along its seams."""
FORBIDDEN = {
    "runtime": (
        "llmspell.adapters",
        "llmspell.protocols",
        "llmspell.gateway",
        "llmspell.conformance",
    ),
    "adapters": ("llmspell.protocols", "llmspell.gateway"),
    "protocols": ("llmspell.gateway", "llmspell.adapters"),
}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_dependencies_point_one_way() -> None:
    offenders = []
    for folder, banned in FORBIDDEN.items():
        for path in (ROOT / folder).rglob("*.py"):
            offenders += [
                f"{path.relative_to(ROOT)} imports {m}"
                for m in imports_of(path)
                if m.startswith(banned)
            ]
    assert offenders == []
    assert any((ROOT / "runtime").rglob("*.py"))  # the walk really looked at files


def test_no_module_is_over_the_line_limit() -> None:
    too_long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for folder in ("adapters", "gateway", "protocols")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not too_long, f"over {MAX_LINES} lines: " + ", ".join(too_long)
    assert any((ROOT / "gateway").rglob("*.py"))


def test_long_runs_are_marked_slow() -> None:
    """`--run-slow` has something to enable: the long fuzz runs carry the `slow` marker."""
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "slow", "tests/hardening"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    slow = [line for line in listed.stdout.splitlines() if "::" in line]
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert any("test_fuzz.py" in line for line in slow), listed.stdout
