"""What the command groups share: the config options, reading the config, reporting an error."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from llmspell.adapters.scripts.engine import Limits

    from ..config import GatewayConfig

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""Where a command group adds its parsers."""


def catalog_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="llmspell.toml, or an IDE's mcp.json (default ./llmspell.toml when present)",
    )
    parser.add_argument(
        "--mcp-config",
        action="append",
        default=[],
        metavar="FILE",
        help="an mcpServers JSON file (Claude Desktop, Cursor, VS Code); repeatable",
    )


def engine_options(parser: argparse.ArgumentParser) -> None:
    """`--memory` and `--allow-root`: what `run` and `repl` give a script engine."""
    parser.add_argument("--memory", type=int, default=256, help="memory cap in MB (default 256)")
    parser.add_argument(
        "--allow-root",
        action="append",
        default=[],
        metavar="DIR",
        help="directory file-operations may use (default: the working directory); repeatable",
    )


def engine_limits(ns: argparse.Namespace) -> Limits:
    """`--timeout` (0 or less: none) and `--memory` as the engine's limits."""
    from llmspell.adapters.scripts.engine import Limits

    return Limits(timeout=ns.timeout if ns.timeout > 0 else None, memory=ns.memory * 1024 * 1024)


def load_config(ns: argparse.Namespace) -> GatewayConfig:
    """`--config` (else ./llmspell.toml, else the defaults) plus each `--mcp-config`; raises
    ConfigError."""
    from ..config import load

    config = load(ns.config)
    for path in ns.mcp_config:
        config.add_servers_file(path)
    return config


def json_arguments(text: str) -> dict[str, Any] | str:
    """`--args`: the JSON object it holds, or the message saying why it is not one."""
    import json

    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"--args is not valid JSON: {exc}"
    if not isinstance(arguments, dict):
        return "--args must be a JSON object"
    return arguments


def error(message: str) -> int:
    print(f"llmspell: {message}", file=sys.stderr)
    return 1


def show_help(parser: argparse.ArgumentParser) -> Any:
    """The handler of a group named without its action: its help, exit code 2."""

    def show(ns: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show
