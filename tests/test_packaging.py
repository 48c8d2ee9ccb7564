"""A non-editable `pip install .` into a fresh venv imports llmspell and runs scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".venv", "node_modules", ".git", ".dev", "*_cache", "__pycache__"
        ),
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(src)],
        check=True,
        env=env,
        timeout=600,
    )
    work = tmp_path / "work"  # away from any source tree, so only the wheel can be imported
    work.mkdir()
    (work / "hi.lua").write_text(
        'print(Tool.execute("calculator", {expression = "40 + 2"}).text)\n'
    )
    (work / "hi.js").write_text(
        'print((await Tool.execute("calculator", {expression: "40 + 2"})).text);\n'
    )
    where = subprocess.run(
        [str(py), "-c", "import llmspell.runtime, llmspell.gateway.cli as c; print(c.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in where.stdout
    for script in ("hi.lua", "hi.js"):
        proc = subprocess.run(
            [str(venv / "bin" / "llmspell"), "run", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "42\n"
