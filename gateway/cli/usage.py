"""`llmspell usage`: model tokens spent per agent and model, as the `usage` built-in hook
(`[builtin_hooks] usage = true`) keeps them in the state store (scope `usage`). Read from the
config's `[state] path`, also while a gateway uses it."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from .common import Commands, error


def add(commands: Commands) -> None:
    usage = commands.add_parser(
        "usage",
        help="tokens spent per agent and model (the usage hook's counts)",
        description="Tokens spent per agent and model, as `[builtin_hooks] usage = true` counts "
        "them in the state store (the config's [state] path).",
    )
    usage.add_argument(
        "--config", metavar="FILE", help="llmspell.toml (default ./llmspell.toml when present)"
    )
    usage.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    usage.set_defaults(handler=_usage)


def _usage(ns: argparse.Namespace) -> int:
    from llmspell.runtime import LLMSpellError

    from ..config import ConfigError, load

    try:
        target = load(ns.config).state_target()
    except ConfigError as exc:
        return error(str(exc))
    if target is None:
        return error('[state] backend is "memory": usage is not kept between runs')
    try:
        missing = isinstance(target, Path) and not target.is_file()
        entries = [] if missing else asyncio.run(_read(target))
    except (LLMSpellError, OSError) as exc:
        return error(str(exc))
    from llmspell.adapters.hooks.usage import rows

    table = rows(entries)
    if ns.json:
        keys = ("agent", "model", "input_tokens", "output_tokens", "total_tokens", "cost_usd")
        print(json.dumps([dict(zip(keys, row, strict=True)) for row in table]))
        return 0
    shown = [(*row[:5], f"{row[5]:.6f}") for row in table]
    print(_table(["AGENT", "MODEL", "INPUT", "OUTPUT", "TOTAL", "COST USD"], shown))
    return 0


async def _read(target: Path | str) -> list[tuple[str, Any]]:
    """The usage entries in the configured store (a SQLite file or a PostgreSQL URL)."""
    from llmspell.adapters.hooks.usage import SCOPE
    from llmspell.adapters.state import store_at

    store = store_at(target)
    try:
        await store.open()
        return [(e.key, e.value) for e in await store.export(SCOPE)]
    finally:
        await store.aclose()


def _table(header: list[str], rows: list[tuple[Any, ...]]) -> str:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = {2, 3, 4, 5}
    lines = [
        "  ".join(
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]
    return "\n".join(lines)
