"""`llmspell run FILE [-- ARGS...]`: run a script once against the built-in tools."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from .common import Commands, engine_limits, engine_options, error


def add(commands: Commands) -> None:
    run = commands.add_parser(
        "run",
        help="run a Lua or JavaScript script",
        description="Run a Lua or JavaScript script with the built-in tools.",
        epilog="Arguments after `--` are passed to the script as ARGS (a list of strings): "
        "llmspell run examples/hello.lua -- World",
        formatter_class=_ArgsAfterDashes,
    )
    run.add_argument("file", help="script file (.lua, .js)")
    run.add_argument("--engine", help="lua | javascript (QuickJS, default for .js) | v8")
    run.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds before the script is stopped (default 30)",
    )
    engine_options(run)
    run.add_argument(
        "--state",
        metavar="FILE",
        help="keep State in this SQLite file, so the next run sees it (default: in memory)",
    )
    run.add_argument(
        "--config",
        metavar="FILE",
        help="take [tools] (the tools' sandbox and settings), roots and [state] from this "
        "llmspell.toml; nothing else in it is started",
    )
    run.set_defaults(handler=handle)


class _ArgsAfterDashes(argparse.HelpFormatter):
    """The usage line ends with `[-- ARGS ...]` (what `main` cuts off before parsing). Made
    when help or an error is printed, not at start-up: formatting imports shutil."""

    def _format_usage(self, *args: Any, **kwargs: Any) -> str:
        usage = super()._format_usage(*args, **kwargs)
        return usage.rstrip("\n") + " [-- ARGS ...]\n\n"


def handle(ns: argparse.Namespace) -> int:
    from llmspell.runtime import LLMSpellError

    from ..assembly import Mode, assemble

    limits = engine_limits(ns)

    async def go() -> None:
        config = None
        if ns.config:  # only then is the config schema imported: `run` starts small
            from ..config import load

            config = load(ns.config)
        mode = Mode.local(roots=tuple(ns.allow_root), state=ns.state)
        async with assemble(config, mode) as parts:
            await parts.load(ns.file, engine=ns.engine, args=ns.script_args, limits=limits)

    try:
        asyncio.run(go())
    except LLMSpellError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        return error(str(exc))
    return 0
