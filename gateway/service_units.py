"""A systemd unit or a launchd plist that keeps `llmspell serve` running: rendered from plain
data, so `llmspell service install` writes it and `--print` shows the very same text.

Both start `llmspell serve --config CONFIG` from the config's directory (relative paths in it
resolve as they do by hand), restart it when it fails, reload it with SIGHUP, and stop it with
SIGTERM, leaving it longer than serve's grace to let running jobs finish."""

from __future__ import annotations

import plistlib
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT = 60
"""Seconds systemd and launchd wait after SIGTERM before SIGKILL: above serve's shutdown grace
(running jobs and in-flight requests get up to 30 s), so a clean stop is never cut short."""
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
LAUNCHD_LABEL = "dev.llmspell.gateway"


@dataclass(frozen=True, slots=True)
class Service:
    """What the service runs: `command` (absolute), the absolute `config`, as `name`."""

    name: str
    command: tuple[str, ...]
    config: Path

    @property
    def arguments(self) -> list[str]:
        return [*self.command, "serve", "--config", str(self.config)]

    @property
    def directory(self) -> Path:
        return self.config.parent


def llmspell_command() -> tuple[str, ...]:
    """The `llmspell` console script of this environment, by absolute path (a service starts
    with a bare PATH); `python -m llmspell` when there is none (a source checkout)."""
    here = Path(sys.executable).parent / "llmspell"
    if here.is_file():
        return (str(here.absolute()),)
    found = shutil.which("llmspell")
    if found:
        return (str(Path(found).absolute()),)
    return (str(Path(sys.executable).absolute()), "-m", "llmspell")


def _systemd_word(word: str) -> str:
    """One ExecStart argument: specifiers (`%`) and variables (`$`) escaped, quoted when it
    holds spaces or quotes."""
    word = word.replace("%", "%%").replace("$", "$$")
    if re.search(r'[\s"\'\\]', word):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def systemd_unit(service: Service, *, user: bool, run_as: str | None = None) -> str:
    """A `Type=exec` unit. `user`: for `systemctl --user` (started with the user's session, or
    at boot with lingering); otherwise a system unit that runs as `run_as`."""
    directory = str(service.directory).replace("%", "%%")
    after = "" if user else "After=network-online.target\nWants=network-online.target\n"
    account = f"User={run_as}\n" if run_as and not user else ""
    return f"""\
# Written by `llmspell service install`: {service.config}
[Unit]
Description=llmspell gateway ({service.name})
{after}
[Service]
Type=exec
ExecStart={" ".join(_systemd_word(w) for w in service.arguments)}
ExecReload=/bin/kill -HUP $MAINPID
WorkingDirectory={directory}
{account}Environment=PYTHONUNBUFFERED=1
# Secrets the config reads (${{OPENAI_API_KEY}}...): one NAME=value per line, optional.
EnvironmentFile=-{directory}/llmspell.env
Restart=on-failure
RestartSec=2
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec={STOP_TIMEOUT}
# Hardening that leaves the file tools their roots: no privilege gain, kernel and system
# directories read-only, no setuid files, no realtime, no personality changes.
NoNewPrivileges=yes
ProtectSystem=full
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
LockPersonality=yes

[Install]
WantedBy={"default.target" if user else "multi-user.target"}
"""


def systemd_path(name: str, *, user: bool, home: Path | None = None) -> Path:
    if user:
        return (home or Path.home()) / ".config" / "systemd" / "user" / f"{name}.service"
    return Path("/etc/systemd/system") / f"{name}.service"


def launchd_label(name: str | None) -> str:
    if name is None:
        return LAUNCHD_LABEL
    return name if "." in name else f"dev.llmspell.{name}"


def launchd_plist(service: Service, *, logs: Path) -> bytes:
    """A LaunchAgent: started at login, started again when it exits with a failure."""
    label = service.name
    return plistlib.dumps(
        {
            "Label": label,
            "ProgramArguments": service.arguments,
            "WorkingDirectory": str(service.directory),
            "RunAtLoad": True,
            "KeepAlive": {"SuccessfulExit": False},
            "ThrottleInterval": 5,
            "ExitTimeOut": STOP_TIMEOUT,
            "ProcessType": "Background",
            "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
            "StandardOutPath": str(logs / f"{label}.log"),
            "StandardErrorPath": str(logs / f"{label}.log"),
        }
    )


def launchd_path(label: str, home: Path | None = None) -> Path:
    return (home or Path.home()) / "Library" / "LaunchAgents" / f"{label}.plist"
