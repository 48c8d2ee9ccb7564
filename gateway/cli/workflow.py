"""`llmspell workflow list|run`: the workflows the config declares (`[workflows.NAME]`) and
those its scripts define, run through the pipeline like any other call, with each step's
progress on stderr as it finishes."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

from .common import Commands, catalog_options, error, json_arguments, load_config, show_help


def add(commands: Commands) -> None:
    workflow = commands.add_parser("workflow", help="list or run workflows")
    actions = workflow.add_subparsers(title="workflow commands", metavar="ACTION")
    listing = actions.add_parser("list", help="list the workflows (config and scripts)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    catalog_options(listing)
    listing.set_defaults(handler=list_workflows)
    run = actions.add_parser("run", help="run one workflow, showing each step as it finishes")
    run.add_argument("name", help="the workflow's name")
    run.add_argument("--args", default="{}", help="arguments as a JSON object")
    catalog_options(run)
    run.add_argument("--json", action="store_true", help="print the whole result as JSON")
    run.add_argument(
        "--timeout", type=float, default=None, help="seconds before the run is stopped"
    )
    run.set_defaults(handler=run_workflow)
    workflow.set_defaults(handler=show_help(workflow))


def list_workflows(ns: argparse.Namespace) -> int:
    from ..assembly import Mode, assemble
    from ..config import ConfigError

    async def go() -> list[dict[str, Any]]:
        config = load_config(ns)
        async with assemble(config, Mode.workflows()) as parts:
            return [
                {
                    **c.summary(),
                    "pattern": config.workflows[c.name].type if c.source == "config" else None,
                    "source": c.source,
                }
                for c in parts.runtime.catalog.list("workflow")
            ]

    try:
        rows = sorted(asyncio.run(go()), key=lambda r: r["name"])
    except ConfigError as exc:
        return error(str(exc))
    if ns.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max((len(r["name"]) for r in rows), default=0)
    for r in rows:
        summary = r["description"].splitlines()[0] if r["description"] else ""
        print(f"{r['name']:<{width}}  {r['pattern'] or r['kind']:<10}  {summary}")
    return 0


def run_workflow(ns: argparse.Namespace) -> int:
    from llmspell.runtime import ErrorCode, Invocation, LLMSpellError, Result
    from rich.console import Console
    from rich.markup import escape

    from ..assembly import Mode, assemble
    from ..config import ConfigError

    arguments = json_arguments(ns.args)
    if isinstance(arguments, str):
        return error(arguments)
    console = Console(stderr=True, highlight=False)
    started = time.perf_counter()

    async def progress(done: float, total: float | None, message: str | None) -> None:
        """A step finished (a failed one with `on_error = "continue"` too)."""
        seconds = time.perf_counter() - started
        text = escape(message or f"step {done:g}")
        console.print(f"[cyan]•[/cyan] {text}  [dim]{seconds:.2f}s[/dim]", soft_wrap=True)

    async def go() -> Result:
        async with assemble(load_config(ns), Mode.workflows()) as parts:
            catalog = parts.runtime.catalog
            found = catalog.find(ns.name)
            if found is None:
                raise catalog.unknown(ns.name)
            if found.kind != "workflow":
                raise LLMSpellError(
                    ErrorCode.UNKNOWN_COMPONENT,
                    f"{ns.name!r} is not a workflow (kind: {found.kind}); see `workflow list`",
                )
            inv = Invocation.create(ns.name, arguments, timeout=ns.timeout, progress=progress)
            return await parts.runtime.pipeline.invoke(inv)

    try:
        result = asyncio.run(go())
    except (LLMSpellError, ConfigError) as exc:
        return error(str(exc))
    if ns.json:
        print(json.dumps(result.to_plain(), indent=2, ensure_ascii=False))
    elif result.is_error:
        return error(result.text or "the workflow failed")
    else:
        output = (result.data or {}).get("output")
        text = result.text
        print(text if text or output is None else json.dumps(output, indent=2, ensure_ascii=False))
    return 1 if result.is_error else 0
