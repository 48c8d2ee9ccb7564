"""`llmspell service install`: the systemd unit passes `systemd-analyze verify` (written into a
temporary HOME with --user, and the system unit from --print); the launchd plist parses and
runs `llmspell serve` with the config; nothing is written with --print."""

from __future__ import annotations

import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from llmspell.gateway import service_units
from mcpserver.conftest import env

ANALYZE = shutil.which("systemd-analyze")


def install(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmspell", "service", "install", *args],
        capture_output=True,
        text=True,
        env={**env(), "HOME": str(home)},
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "my project"  # a space, which ExecStart must quote
    folder.mkdir()
    (folder / "llmspell.toml").write_text('name = "svc"\n')
    return folder


def verify(unit: Path, home: Path, *user: str) -> None:
    runtime = home / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    checked = subprocess.run(
        [str(ANALYZE), "verify", *user, str(unit)],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)},
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    # Unknown or malformed settings are only warnings: there must be none.
    assert checked.stderr.strip() == "", checked.stderr


@pytest.mark.skipif(ANALYZE is None, reason="needs systemd-analyze")
def test_a_user_unit_is_written_where_systemd_looks_and_verifies(
    project: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = install("--systemd", "--user", home=home, cwd=project)
    assert done.returncode == 0, done.stderr
    unit = home / ".config" / "systemd" / "user" / "llmspell.service"
    assert f"wrote {unit}" in done.stdout
    assert "systemctl --user daemon-reload && systemctl --user enable --now llmspell" in done.stdout
    text = unit.read_text()
    config = project / "llmspell.toml"
    command = " ".join(service_units.llmspell_command())
    assert f'ExecStart={command} serve --config "{config}"' in text
    assert Path(service_units.llmspell_command()[0]).is_absolute()
    assert f"WorkingDirectory={project}\n" in text
    for line in ("Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID", "KillSignal=SIGTERM"):
        assert line in text
    assert service_units.STOP_TIMEOUT > 30
    assert "User=" not in text and "WantedBy=default.target" in text
    verify(unit, home, "--user")
    again = install("--systemd", "--user", "--name", "gw2", home=home, cwd=project)
    assert (unit.parent / "gw2.service").is_file(), again.stderr


@pytest.mark.skipif(ANALYZE is None, reason="needs systemd-analyze")
def test_a_system_unit_printed_verifies_and_nothing_is_written(
    project: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "elsewhere.toml"
    config.write_text('name = "other"\n')
    shown = install("--systemd", "--print", "--config", str(config), home=home, cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert f"--config {config}" in shown.stdout
    assert f"WorkingDirectory={tmp_path}\n" in shown.stdout
    assert "User=" in shown.stdout and "WantedBy=multi-user.target" in shown.stdout
    assert list(home.iterdir()) == []
    unit = tmp_path / "units" / "llmspell.service"
    unit.parent.mkdir()
    unit.write_text(shown.stdout)
    verify(unit, home)


def test_a_launchd_plist_runs_serve_with_the_config(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = install("--launchd", home=home, cwd=project)
    assert done.returncode == 0, done.stderr
    path = home / "Library" / "LaunchAgents" / "dev.llmspell.gateway.plist"
    assert "launchctl bootstrap" in done.stdout
    plist = plistlib.loads(path.read_bytes())
    assert plist["Label"] == "dev.llmspell.gateway"
    arguments = plist["ProgramArguments"]
    assert arguments[-3:] == ["serve", "--config", str(project / "llmspell.toml")]
    assert Path(arguments[0]).is_absolute()
    assert plist["WorkingDirectory"] == str(project)
    assert plist["KeepAlive"] == {"SuccessfulExit": False}
    assert plist["ExitTimeOut"] > 30


def test_a_missing_or_broken_config_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    missing = install("--systemd", "--user", home=home, cwd=tmp_path)
    assert missing.returncode == 1
    assert "no config at" in missing.stderr
    (tmp_path / "llmspell.toml").write_text("name = [\n")
    broken = install("--systemd", "--user", home=home, cwd=tmp_path)
    assert broken.returncode == 1
    good = tmp_path / "good"
    good.mkdir()
    (good / "llmspell.toml").write_text('name = "svc"\n')
    bad_name = install("--systemd", "--user", "--name", "../x", home=home, cwd=good)
    assert bad_name.returncode == 1
    assert "--name '../x'" in bad_name.stderr
    assert not (home / ".config").exists()
