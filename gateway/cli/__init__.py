"""The `llmspell` command: one module per command group, each adding its parsers. Only the
group named on the command line is imported (all of them for `--help` or an unknown command),
and a command imports what it needs when it runs, so `llmspell run hello.lua` never loads the
protocol stacks or engines it does not use."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import import_module

COMMANDS = (
    "run",
    "repl",
    "tool",
    "agent",
    "workflow",
    "gateway",
    "serve",
    "jobs",
    "service",
    "mcp",
    "a2a",
    "model",
    "events",
    "state",
    "usage",
    "rag",
)
"""Each command, in help order; `gateway/cli/<command>.py` adds its parsers."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    script_args: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, script_args = args[:cut], args[cut + 1 :]
    parser = build_parser(_command(args))
    ns = parser.parse_args(args)
    if ns.version:
        import llmspell

        print(f"llmspell {llmspell.__version__}")
        return 0
    if not getattr(ns, "handler", None):
        parser.print_help()
        return 2
    ns.script_args = script_args
    try:
        code: int = ns.handler(ns)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `llmspell tool list | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


def _command(args: list[str]) -> str | None:
    """The command named, when it is one: the first argument that is no option (the
    top-level options take no value)."""
    first = next((a for a in args if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with `only` the one command's parsers (what that command
    parses is the same; the other commands' modules are not imported)."""
    parser = argparse.ArgumentParser(
        prog="llmspell",
        description="A protocol gateway speaking MCP and A2A, with Lua and JavaScript scripting.",
        epilog="Arguments after `--` are passed to the script as ARGS.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS if only is None else (only,):
        import_module(f"{__name__}.{name}").add(commands)
    return parser


__all__ = ["COMMANDS", "build_parser", "main"]
