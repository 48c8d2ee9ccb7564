"""The `llmspell` command: one module per command group, each adding its parsers. A command
imports what it needs when it runs, so `llmspell run hello.lua` never loads the protocol
stacks or engines it does not use."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import (
    a2a,
    agent,
    events,
    gateway,
    jobs,
    mcp,
    model,
    rag,
    repl,
    run,
    serve,
    service,
    state,
    tool,
    usage,
    workflow,
)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    script_args: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, script_args = args[:cut], args[cut + 1 :]
    parser = build_parser()
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmspell",
        description="A protocol gateway speaking MCP and A2A, with Lua and JavaScript scripting.",
        epilog="Arguments after `--` are passed to the script as ARGS.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    groups = (run, repl, tool, agent, workflow, gateway, serve, jobs, service, mcp, a2a, model)
    for group in (*groups, events, state, usage, rag):
        group.add(commands)
    return parser


__all__ = ["build_parser", "main"]
