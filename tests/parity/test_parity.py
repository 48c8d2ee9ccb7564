"""The parity suite: every scenario, written once in Lua and once in JS, prints the same output on
every engine, and that output is the one recorded in the scenario's .out file."""

from __future__ import annotations

from pathlib import Path

import pytest
from llmspell.conformance.parity.runner import (
    ENGINES,
    SCENARIOS,
    run_scenario,
    scenario_names,
    script_for,
)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", scenario_names())
async def test_scenario(name: str, engine: str, tmp_path: Path) -> None:
    assert script_for(name, engine).exists(), f"{name} has no {engine} version"
    expected = (SCENARIOS / f"{name}.out").read_text(encoding="utf-8")
    got = await run_scenario(name, engine, root=tmp_path)
    assert got == expected


def test_every_scenario_has_both_languages() -> None:
    lua = {p.stem for p in SCENARIOS.glob("*.lua")}
    js = {p.stem for p in SCENARIOS.glob("*.js")}
    assert lua == js and len(lua) >= 6
