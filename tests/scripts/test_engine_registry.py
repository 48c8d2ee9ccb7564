"""Engines are registered once, as `llmspell.engines` entry points: the built-in ones by
pyproject.toml, others by any installed distribution; nothing else names them."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

from llmspell.adapters.scripts.engine import ENTRY_POINTS, available_engines, entry_points

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_in_engines_are_the_declared_entry_points() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    table = declared["project"]["entry-points"][ENTRY_POINTS]
    assert {k: v for k, v in available_engines().items() if k in table} == table
    # the files are read as importlib.metadata reads them
    found = {ep.name: ep.value for ep in importlib.metadata.entry_points(group=ENTRY_POINTS)}
    assert entry_points(ENTRY_POINTS) == found


def run(code: str, *path: Path) -> subprocess.CompletedProcess[str]:
    setup = f"import sys; sys.path[:0] = {[str(p) for p in path]!r}\n"
    return subprocess.run(
        [sys.executable, "-c", setup + code], capture_output=True, text=True, timeout=60
    )


def test_an_engine_from_another_distribution_plugs_in(tmp_path: Path) -> None:
    info = tmp_path / "llmspell_echo-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text(
        "[console_scripts]\nx = y:z\n\n[llmspell.engines]\necho = echo_engine:EchoEngine\n"
    )
    (tmp_path / "echo_engine.py").write_text("class EchoEngine:\n    name = 'echo'\n")
    out = run(
        "from llmspell.adapters.scripts.engine import engine_factory\n"
        "print(engine_factory('echo').name, engine_factory('lua').__name__)",
        ROOT,
        tmp_path,
    )
    assert out.stdout.split() == ["echo", "LuaEngine"], out.stderr


def test_an_uninstalled_checkout_says_how_to_install() -> None:
    """A Python that imports the source but has no installed metadata on its path."""
    out = run(
        "from llmspell.adapters.scripts.engine import engine_factory\n"
        "import glob, os\n"
        "sys.path[:] = [p for p in sys.path if not glob.glob(os.path.join(p or '.', '*.*-info'))]\n"
        "try:\n    engine_factory('lua')\nexcept ValueError as exc:\n    print(exc)",
        ROOT,
    )
    assert "no script engines are registered" in out.stdout, out.stderr
    assert "pip install -e ." in out.stdout
