"""`llmspell service install`: a systemd unit (`--systemd`, `--user` for the user's manager) or
a launchd agent (`--launchd`) that keeps `llmspell serve` running with this config. It writes
the file and says what to run next; it never runs systemctl or launchctl itself."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .common import Commands, error, show_help


def add(commands: Commands) -> None:
    service = commands.add_parser("service", help="run the gateway as a systemd or launchd service")
    actions = service.add_subparsers(title="service commands", metavar="ACTION")
    install = actions.add_parser(
        "install", help="write a unit (systemd) or agent (launchd) that runs `llmspell serve`"
    )
    manager = install.add_mutually_exclusive_group()
    manager.add_argument("--systemd", action="store_true", help="a systemd unit (Linux default)")
    manager.add_argument("--launchd", action="store_true", help="a launchd agent (macOS default)")
    install.add_argument(
        "--user", action="store_true", help="systemd: a user unit (~/.config/systemd/user)"
    )
    install.add_argument(
        "--config",
        default="llmspell.toml",
        metavar="FILE",
        help="the config serve runs with (default ./llmspell.toml)",
    )
    install.add_argument(
        "--name", help="the unit's name (default llmspell; launchd: dev.llmspell.gateway)"
    )
    install.add_argument("--print", action="store_true", help="show it, write nothing")
    install.set_defaults(handler=install_service)
    service.set_defaults(handler=show_help(service))


def install_service(ns: argparse.Namespace) -> int:
    from .. import service_units as units
    from ..config import ConfigError, load

    config = Path(ns.config).expanduser().absolute()
    if not config.is_file():
        return error(f"no config at {config}: pass --config FILE")
    try:
        load(str(config))  # a config that cannot load would only fail later, in the service
    except ConfigError as exc:
        return error(str(exc))
    if ns.name is not None and not units.NAME.match(ns.name):
        return error(f"--name {ns.name!r}: letters, digits and _ . @ - only")
    launchd = ns.launchd or (not ns.systemd and sys.platform == "darwin")
    command = units.llmspell_command()
    if launchd:
        label = units.launchd_label(ns.name)
        logs = Path.home() / "Library" / "Logs"
        text = units.launchd_plist(units.Service(label, command, config), logs=logs)
        path = units.launchd_path(label)
        after = [
            f"launchctl bootstrap gui/$(id -u) {path}",
            f"  (stop it: launchctl bootout gui/$(id -u)/{label}; logs: {logs}/{label}.log)",
        ]
    else:
        name = ns.name or "llmspell"
        run_as = None if ns.user else (os.environ.get("SUDO_USER") or getpass.getuser())
        unit = units.systemd_unit(units.Service(name, command, config), user=ns.user, run_as=run_as)
        text = unit.encode()
        path = units.systemd_path(name, user=ns.user)
        ctl = "systemctl --user" if ns.user else "sudo systemctl"
        after = [
            f"{ctl} daemon-reload && {ctl} enable --now {name}",
            f"  (logs: journalctl {'--user ' if ns.user else ''}-u {name} -f; "
            f"reload the config: {ctl} reload {name})",
        ]
    if ns.print:
        sys.stdout.write(text.decode())
        return 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existed = path.exists()
        path.write_bytes(text)
    except OSError as exc:
        hint = "" if launchd or ns.user else " (run it with sudo, or pass --user)"
        return error(f"cannot write {path}: {exc.strerror or exc}{hint}")
    print(f"{'replaced' if existed else 'wrote'} {path}")
    print("next:")
    for line in after:
        print(f"  {line}")
    return 0
