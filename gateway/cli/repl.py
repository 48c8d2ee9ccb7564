"""`llmspell repl`: an interactive Lua or JavaScript session over the runtime."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from .common import Commands, engine_limits, engine_options, error

if TYPE_CHECKING:
    from llmspell.adapters.scripts.engine import Limits


def add(commands: Commands) -> None:
    repl = commands.add_parser(
        "repl",
        help="an interactive Lua or JavaScript session",
        description="An interactive session with the same globals as `llmspell run`; with "
        "--config, also the config's tools, agents, workflows and MCP servers.",
    )
    repl.add_argument("--engine", default="lua", help="lua (default) | javascript (QuickJS) | v8")
    repl.add_argument(
        "--config",
        metavar="FILE",
        help="an llmspell.toml whose tools, agents, workflows and servers the session sees",
    )
    repl.add_argument(
        "--state",
        metavar="FILE",
        help="keep State in this SQLite file (without --config; default: in memory)",
    )
    repl.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="seconds an entry may run (default 0: no limit; Ctrl-C stops one)",
    )
    engine_options(repl)
    repl.set_defaults(handler=handle)


def handle(ns: argparse.Namespace) -> int:
    from llmspell.runtime import LLMSpellError

    limits = engine_limits(ns)
    try:
        asyncio.run(_session(ns, limits))
    except LLMSpellError as exc:
        return error(exc.message)
    except (OSError, ValueError) as exc:
        return error(str(exc))
    return 0


async def _session(ns: argparse.Namespace, limits: Limits) -> None:
    import dataclasses

    from ..assembly import Mode, assemble
    from ..repl import console
    from ..repl.session import Session

    config = None
    if ns.config:
        from ..config import load

        config = load(ns.config)
        mode = dataclasses.replace(Mode.workflows(), stdout=True, roots=tuple(ns.allow_root))
    else:
        mode = Mode.local(roots=tuple(ns.allow_root), state=ns.state)
    tty = sys.stdin.isatty() and sys.stdout.isatty()
    output = console.Output(tty)
    async with assemble(config, mode) as parts:
        session = Session(parts, ns.engine, out=output.out, err=output.err, limits=limits)
        await session.start()
        try:
            await (console.interactive if tty else console.piped)(session, output)
        finally:
            await session.stop()
