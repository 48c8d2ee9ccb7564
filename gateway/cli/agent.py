"""`llmspell agent run QUESTION`: ask a model once, offering it tools, streaming the answer."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from .common import Commands, error, show_help


def add(commands: Commands) -> None:
    agent = commands.add_parser("agent", help="run an LLM agent")
    actions = agent.add_subparsers(title="agent commands", metavar="ACTION")
    run = actions.add_parser("run", help="ask a model one question, streaming the answer")
    run.add_argument("question", help="what to ask")
    run.add_argument(
        "--model", default="offline/demo", help="provider/model (default offline/demo)"
    )
    run.add_argument("--base-url", help="an OpenAI-compatible endpoint to use instead")
    run.add_argument("--system", default="", help="system prompt")
    run.add_argument(
        "--tool", action="append", default=[], metavar="NAME", help="offer a tool; repeatable"
    )
    run.add_argument(
        "--image", action="append", default=[], metavar="PATH|URL", help="attach an image"
    )
    run.add_argument("--no-stream", action="store_true", help="print the answer at the end")
    run.add_argument("--json", action="store_true", help="print the whole reply as JSON")
    run.set_defaults(handler=run_agent)
    agent.set_defaults(handler=show_help(agent))


def run_agent(ns: argparse.Namespace) -> int:
    from llmspell.runtime import LLMSpellError

    from ..assembly import Mode, assemble

    model: Any = ns.model
    if ns.base_url:
        model = {"model": ns.model, "base_url": ns.base_url}
    spec = {"name": "cli", "model": model, "system_prompt": ns.system, "tools": ns.tool}
    streaming = not (ns.no_stream or ns.json)

    async def show(chunk: str) -> None:
        sys.stdout.write(chunk)
        sys.stdout.flush()

    async def go() -> None:
        async with assemble(None, Mode.local()) as parts:
            agent = parts.agent(spec)
            reply = await agent.execute(ns.question, ns.image, on_chunk=show if streaming else None)
        if ns.json:
            print(json.dumps(reply.to_plain(), indent=2, ensure_ascii=False))
        elif streaming:
            print()
        else:
            print(reply.text)

    try:
        asyncio.run(go())
    except LLMSpellError as exc:
        return error(str(exc))
    return 0
