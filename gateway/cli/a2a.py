"""`llmspell a2a card|send`: talk to an A2A agent through the project's A2A client, the one
scripts' `A2A.send` uses."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .common import Commands, error, show_help

if TYPE_CHECKING:
    from llmspell.protocols.a2a.client import RemoteAgents

T = TypeVar("T")


def add(commands: Commands) -> None:
    a2a = commands.add_parser("a2a", help="talk to A2A agents")
    actions = a2a.add_subparsers(title="a2a commands", metavar="ACTION")
    card = actions.add_parser("card", help="fetch and print an agent's card")
    card.add_argument(
        "url", help="the agent's base URL (its card is at /.well-known/agent-card.json)"
    )
    card.set_defaults(handler=show_card)
    send = actions.add_parser("send", help="send a message; print the task's updates and result")
    send.add_argument("url", help="the agent's base URL, e.g. http://127.0.0.1:8765/a2a/assistant")
    send.add_argument("message", help="the text to send")
    send.add_argument(
        "--stream", action="store_true", help="print status and artifact updates as they come"
    )
    send.add_argument(
        "--json", action="store_true", help="print each update, then the task's end, as JSON"
    )
    send.set_defaults(handler=send_message)
    a2a.set_defaults(handler=show_help(a2a))


async def _with_agents(use: Callable[[RemoteAgents], Awaitable[T]]) -> T:
    """`use(agents)` with the runtime's A2A client, closed afterwards."""
    from ..assembly import Mode, assemble

    async with assemble(None, Mode.local(builtins=False)) as parts:
        assert parts.remote_agents is not None
        return await use(parts.remote_agents.agents)


def show_card(ns: argparse.Namespace) -> int:
    from llmspell.runtime import LLMSpellError

    async def fetch(agents: RemoteAgents) -> dict[str, Any]:
        found = await agents.discover(ns.url)
        card: dict[str, Any] = found["card"]
        return card

    try:
        card = asyncio.run(_with_agents(fetch))
    except LLMSpellError as exc:
        return error(exc.message)
    print(json.dumps(card, indent=2))
    return 0


def send_message(ns: argparse.Namespace) -> int:
    """The task's artifacts on stdout; its end on stderr as `[state]` and, unless it completed,
    its status message. Exit code 0 only for a completed task."""
    from llmspell.protocols.a2a.client import Progress
    from llmspell.runtime import LLMSpellError, TextPart
    from llmspell.runtime.content import part_to_plain

    streamed = False

    async def on_update(update: dict[str, Any]) -> None:
        nonlocal streamed
        if ns.json:
            parts = [part_to_plain(p) for p in update.get("parts", [])]
            print(json.dumps({**update, **({"parts": parts} if parts else {})}), flush=True)
        elif "status_text" in update:
            print(f"… {update['status_text']}", flush=True)
        elif "parts" in update:
            _print_parts(update["parts"])
            streamed = True

    async def send(agents: RemoteAgents) -> Progress:
        follow = on_update if ns.stream or ns.json else None
        return await agents.follow(ns.url, [TextPart(ns.message)], follow)

    try:
        task: Progress = asyncio.run(_with_agents(send))
    except LLMSpellError as exc:
        return error(exc.message)
    if ns.json:
        end = {**task.plain(), "parts": [part_to_plain(p) for p in task.parts()]}
        print(json.dumps(end, ensure_ascii=False))
    elif not streamed:
        _print_parts(task.parts())
    if not ns.json:
        reason = f" {task.status_text}" if task.state_name != "completed" else ""
        print(f"[{task.state_name}]{reason}", file=sys.stderr)
    return 0 if task.state_name == "completed" else 1


def _print_parts(parts: list[Any]) -> None:
    """Text as it is, data as JSON, a file or link as a one-line note."""
    from llmspell.runtime import BlobPart, DataPart, ResourceLink, TextPart

    for part in parts:
        if isinstance(part, TextPart):
            line = part.text
        elif isinstance(part, DataPart):
            line = json.dumps(part.data, ensure_ascii=False)
        elif isinstance(part, BlobPart):
            line = f"<{part.kind} {part.mime_type} {part.name or ''} {len(part.data)} bytes>"
        elif isinstance(part, ResourceLink):
            line = f"<link {part.uri}>"
        else:
            line = f"<{type(part).__name__}>"
        print(line, flush=True)
