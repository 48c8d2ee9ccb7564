"""The checkout installs both ways into a fresh venv: `pip install .` (a wheel) and
`pip install -e .` (the checkout itself, edits seen without reinstalling), always under the one
import name `llmspell`, never as top-level `runtime`, `gateway`, ... And the Quick start of a
fresh clone: what `make run` and `make test` install, and what they leave behind."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    "node_modules",
    ".git",
    ".dev",
    "*_cache",
    "__pycache__",
    "build",
    "*.egg-info",
    ".llmspell",
    ".bench",
)
# What an install must provide, printed by the installed interpreter away from any source tree.
PROBE = """
import importlib.metadata as md, importlib.util as iu, llmspell, llmspell.runtime
print(llmspell.runtime.__file__)
print(llmspell.__version__)
print(" ".join(sorted(e.name for e in md.entry_points(group="llmspell.engines"))))
print(" ".join(n for n in ("runtime", "adapters", "protocols", "gateway", "conformance")
               if iu.find_spec(n) is not None))
"""


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def probe(py: Path, cwd: Path) -> list[str]:
    run = subprocess.run(
        [str(py), "-c", PROBE], cwd=cwd, env=clean_env(), capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.splitlines()


def run_scripts(llmspell: Path, work: Path) -> None:
    (work / "hi.lua").write_text(
        'print(Tool.execute("calculator", {expression = "40 + 2"}).text)\n'
    )
    (work / "hi.js").write_text(
        'print((await Tool.execute("calculator", {expression: "40 + 2"})).text);\n'
    )
    for script in ("hi.lua", "hi.js"):
        proc = subprocess.run(
            [str(llmspell), "run", script],
            cwd=work,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "42\n"


def test_wheel_installs_and_runs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=COPY_IGNORE)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = clean_env()
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(src)],
        check=True,
        env=env,
        timeout=600,
    )
    work = tmp_path / "work"  # away from any source tree, so only the wheel can be imported
    work.mkdir()
    where = subprocess.run(
        [str(py), "-c", "import llmspell.runtime, llmspell.gateway.cli as c; print(c.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(venv) in where.stdout
    run_scripts(venv / "bin" / "llmspell", work)
    module, version, engines, top_level = probe(py, work)
    assert module.startswith(str(venv))
    assert version == "0.1.0"
    assert engines == "javascript lua v8"
    assert top_level == ""


def site_dirs() -> list[Path]:
    """Where this interpreter's packages are: its site-packages and the folders their .pth
    files add (not the checkout, which an install of this very project may have added)."""
    found = [Path(where) for where in site.getsitepackages()]
    for where in list(found):
        for pth in sorted(where.glob("*.pth")):
            for line in pth.read_text().splitlines():
                extra = (where / line.strip()).resolve()
                if line.strip() and not line.startswith(("#", "import")) and extra.is_dir():
                    found.append(extra)
    return [where for where in found if where != ROOT and where.is_dir()]


def installed_dependencies(tmp_path: Path) -> Path:
    """This interpreter's packages minus llmspell itself, for a fresh venv to see through one
    .pth line: the editable install then needs no network and brings in nothing but the
    checkout (and no second llmspell can shadow it, however this environment installed one)."""
    deps = tmp_path / "deps"
    deps.mkdir()
    for where in site_dirs():
        for entry in where.iterdir():
            own = entry.name == "llmspell" or entry.name.startswith(("llmspell-", "__editable__"))
            if not own and not (deps / entry.name).exists():
                (deps / entry.name).symlink_to(entry)
    return deps


def test_editable_install_imports_the_checkout_and_sees_edits(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=COPY_IGNORE)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "deps.pth").write_text(f"{installed_dependencies(tmp_path)}\n")
    subprocess.run(
        [
            *(str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--no-deps", "--no-build-isolation", "--editable", str(src)),
        ],
        check=True,
        env=clean_env(),
        timeout=300,
    )
    work = tmp_path / "work"  # away from the checkout: only the install can lead there
    work.mkdir()

    version = subprocess.run(
        [str(venv / "bin" / "llmspell"), "--version"],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == "llmspell 0.1.0"
    module, version_attr, engines, top_level = probe(py, work)
    assert module == str(src / "runtime" / "__init__.py")
    assert version_attr == "0.1.0"
    assert engines == "javascript lua v8"
    assert top_level == ""  # `runtime` and friends exist only as llmspell.runtime, ...
    run_scripts(venv / "bin" / "llmspell", work)

    # Edits to the checkout are live: a changed module and a brand-new one, no reinstall.
    (src / "runtime" / "probe_new.py").write_text("WHERE = __file__\n")
    with (src / "gateway" / "__init__.py").open("a") as init:
        init.write("\nEDITED = 'yes'\n")
    seen = subprocess.run(
        [
            str(py),
            "-c",
            "import llmspell.gateway as g, llmspell.runtime.probe_new as n;"
            "print(g.EDITED); print(n.WHERE)",
        ],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.splitlines() == ["yes", str(src / "runtime" / "probe_new.py")]


# -- the Quick start on a fresh clone ------------------------------------------------------------


def make_dry_run(tmp_path: Path, target: str) -> str:
    """What `make TARGET` would run in a fresh clone (no .venv, no node_modules yet)."""
    for name in ("Makefile", "pyproject.toml", "setup.py", "package.json", "package-lock.json"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, tmp_path / name)
    dry = subprocess.run(  # --no-print-directory: under `make test` this is a sub-make
        ["make", "--no-print-directory", "-n", target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return dry.stdout


def test_make_run_installs_only_what_serving_needs(tmp_path: Path) -> None:
    run = make_dry_run(tmp_path, "run")
    assert "pip install --quiet -e .\n" in run
    assert "[test]" not in run and "npm" not in run
    assert run.rstrip().endswith(".venv/bin/llmspell gateway")


def test_make_test_installs_the_test_extras_and_ci_runs_it(tmp_path: Path) -> None:
    test = make_dry_run(tmp_path, "test")
    assert 'pip install --quiet -e ".[test]"' in test
    assert "npm ci" in test
    commands = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test"]


def test_the_default_database_is_ignored_by_git() -> None:
    """With no config the gateway keeps its files under .llmspell/ in the working directory."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    from llmspell.gateway.config import GatewayConfig

    database = GatewayConfig(base_dir=ROOT).a2a_database()
    assert database is not None
    assert database.relative_to(ROOT).parts[0] == ".llmspell"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(database)], cwd=ROOT)
    assert ignored.returncode == 0, f"{database.relative_to(ROOT)} is not in .gitignore"


def test_the_conformance_profile_runs_beside_make_run() -> None:
    """The README starts the conformance profile while `make run` serves the default port."""
    from llmspell.gateway.config import GatewayConfig, load

    profile = load(ROOT / "conformance" / "mcp" / "llmspell.toml")
    assert profile.http.port not in (0, GatewayConfig().http.port)


def test_node_is_selected_per_platform_by_the_lockfile() -> None:
    """`npm ci` works on any platform: a package built for one OS or CPU is optional, so npm
    skips it elsewhere, and the Node 22 binaries cover Linux and macOS on x64 and arm64."""
    lock = json.loads((ROOT / "package-lock.json").read_text())
    packages = lock["packages"]
    hard = [
        name
        for name, entry in packages.items()
        if ("os" in entry or "cpu" in entry) and not entry.get("optional")
    ]
    assert hard == []
    nodes = {
        (entry["os"], entry["cpu"]): entry["version"]
        for name, entry in packages.items()
        if name.split("/")[-1].startswith("node-") and entry.get("bin", {}).get("node")
    }
    covered = {("linux", "x64"), ("linux", "arm64"), ("darwin", "x64"), ("darwin", "arm64")}
    assert covered <= nodes.keys()
    assert all(version.startswith("22.") for version in nodes.values())
