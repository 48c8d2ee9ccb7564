"""`llmspell tool list|run`: the catalog (built-ins and the configured MCP servers' tools)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from .common import Commands, catalog_options, error, json_arguments, load_config, show_help


def add(commands: Commands) -> None:
    tool = commands.add_parser("tool", help="list or run tools")
    actions = tool.add_subparsers(title="tool commands", metavar="ACTION")
    listing = actions.add_parser("list", help="list the tools in the catalog")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.add_argument(
        "--category", help="only this category (files, data, utilities, system, media...)"
    )
    catalog_options(listing)
    listing.set_defaults(handler=list_tools)
    info = actions.add_parser("info", help="one tool's description, annotations and schemas")
    info.add_argument("name", help="the tool's name, `server.tool` for a remote MCP server's")
    catalog_options(info)
    info.set_defaults(handler=tool_info)
    run = actions.add_parser("run", help="run one tool (`server.tool` for a remote MCP tool)")
    run.add_argument("name", help="the tool's name, `server.tool` for a remote MCP server's")
    catalog_options(run)
    run.add_argument("--args", default="{}", help="arguments as a JSON object")
    run.add_argument("--json", action="store_true", help="print the whole result as JSON")
    run.add_argument(
        "--timeout", type=float, default=None, help="seconds before the call is stopped"
    )
    run.set_defaults(handler=run_tool)
    tool.set_defaults(handler=show_help(tool))


def list_tools(ns: argparse.Namespace) -> int:
    from ..assembly import Mode, assemble
    from ..config import ConfigError

    async def go() -> list[Any]:
        async with assemble(load_config(ns), Mode.catalog()) as parts:
            return list(parts.runtime.catalog.list())  # while the upstreams are connected

    try:
        components = sorted(asyncio.run(go()), key=lambda c: c.name)
    except ConfigError as exc:
        return error(str(exc))
    if ns.category:
        components = [c for c in components if c.category == ns.category]
        if not components:
            return error(f"no tools in category {ns.category!r}")
    if ns.json:
        print(json.dumps([c.summary() for c in components], indent=2))
        return 0
    width = max((len(c.name) for c in components), default=0)
    shelf = max((len(c.category or "") for c in components), default=0)
    for c in components:
        summary = c.description.splitlines()[0] if c.description else ""
        print(f"{c.name:<{width}}  {c.kind:<8}  {c.category or '':<{shelf}}  {summary}".rstrip())
    return 0


def tool_info(ns: argparse.Namespace) -> int:
    from ..assembly import Mode, assemble
    from ..config import ConfigError

    async def go() -> Any:
        async with assemble(load_config(ns), Mode.catalog(only=ns.name)) as parts:
            return parts.runtime.catalog.find(ns.name)

    try:
        component = asyncio.run(go())
    except ConfigError as exc:
        return error(str(exc))
    if component is None:
        return error(f"unknown tool {ns.name!r}")
    a = component.annotations
    print(
        json.dumps(
            {
                **component.summary(),
                "annotations": {
                    "readOnlyHint": a.read_only,
                    "destructiveHint": a.destructive,
                    "idempotentHint": a.idempotent,
                    "openWorldHint": a.open_world,
                },
                "inputSchema": component.input_schema,
                **({"outputSchema": component.output_schema} if component.output_schema else {}),
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    return 0


def run_tool(ns: argparse.Namespace) -> int:
    from llmspell.runtime import LLMSpellError

    from ..assembly import Mode, assemble
    from ..config import ConfigError

    arguments = json_arguments(ns.args)
    if isinstance(arguments, str):
        return error(arguments)

    async def go() -> Any:
        async with assemble(load_config(ns), Mode.catalog(only=ns.name)) as parts:
            return await parts.runtime.call(ns.name, arguments, timeout=ns.timeout)

    try:
        result = asyncio.run(go())
    except (LLMSpellError, ConfigError) as exc:
        return error(str(exc))
    if ns.json:
        print(json.dumps(result.to_plain(), indent=2, ensure_ascii=False))
    else:
        text = result.text
        print(
            text
            if text or result.data is None
            else json.dumps(result.data, indent=2, ensure_ascii=False)
        )
    return 1 if result.is_error else 0
