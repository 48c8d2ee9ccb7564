"""The layout's rules: dependencies point one way (gateway -> protocols -> runtime <- adapters)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
