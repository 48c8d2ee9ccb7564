"""`file-watcher`: the changes under some paths in the roots during a bounded time.

watchfiles' Rust watcher runs in a thread and only looks at its stop event between steps, so
the stop event is set both when the time is up and when the call is cancelled: a cancelled or
timed-out call stops watching within one step instead of outliving its caller."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool
from ..sandbox.files import Roots

NAME = "file-watcher"
MAX_DURATION = 300
MAX_EVENTS = 1000
STEP_MS = 50


def _relative(path: str, roots: Roots) -> str:
    """The event's path relative to the root it is under, as the other file tools take it."""
    candidate = Path(path)
    for root in roots.paths:
        if candidate.is_relative_to(root):
            return candidate.relative_to(root).as_posix() or "."
    return path


def _targets(roots: Roots, paths: list[str]) -> list[Path]:
    targets = [roots.resolve(NAME, p) for p in paths]
    for given, target in zip(paths, targets, strict=True):
        if not target.exists():
            raise refuse(NAME, f"{given!r} does not exist")
    return targets


async def _watch(
    targets: list[Path],
    roots: Roots,
    args: dict[str, Any],
    stop: asyncio.Event,
    events: list[dict[str, str]],
) -> None:
    """Collect events until `stop` is set or `max_events` arrived."""
    from watchfiles import awatch

    limit: int = args.get("max_events", 100)
    async for changes in awatch(
        *targets,
        stop_event=stop,
        debounce=args.get("debounce_ms", 200),
        step=STEP_MS,
        rust_timeout=500,
        recursive=args.get("recursive", True),
    ):
        for change, path in sorted(changes, key=lambda c: (c[1], c[0])):
            events.append({"change": change.name, "path": _relative(path, roots)})
            if len(events) >= limit:
                stop.set()
                return


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        paths: list[str] = args.get("paths", ["."])
        targets = await asyncio.to_thread(_targets, roots, paths)
        duration: float = args.get("duration", 10)
        stop = asyncio.Event()
        events: list[dict[str, str]] = []
        started = time.monotonic()
        watcher = asyncio.create_task(_watch(targets, roots, args, stop, events))
        try:
            await asyncio.wait({watcher}, timeout=duration)
        finally:
            # Time is up, or the call was cancelled: either way the Rust thread must stop.
            stop.set()
            await asyncio.wait({watcher}, timeout=(STEP_MS / 1000) * 20)
            if not watcher.done():
                watcher.cancel()
        if watcher.done() and not watcher.cancelled():
            watcher.result()  # a failure of the watcher itself surfaces here
        elapsed = round(time.monotonic() - started, 3)
        text = "\n".join(f"{e['change']} {e['path']}" for e in events) or "no changes"
        return answer(
            text,
            {
                "paths": paths,
                "events": events,
                "truncated": len(events) >= args.get("max_events", 100),
                "duration": elapsed,
            },
        )

    return tool(
        NAME,
        "Watches files and directories inside the allowed roots for a bounded time and reports "
        "what was added, modified or deleted (paths relative to their root). Common noise "
        "(.git, __pycache__, editor swap files) is ignored.",
        {
            "paths": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "default": ["."],
                "description": "Files or directories to watch",
            },
            "duration": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_DURATION,
                "default": 10,
                "description": "Seconds to watch",
            },
            "max_events": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_EVENTS,
                "default": 100,
                "description": "Stop early once this many events arrived",
            },
            "recursive": {"type": "boolean", "default": True},
            "debounce_ms": {
                "type": "integer",
                "minimum": 10,
                "maximum": 5000,
                "default": 200,
                "description": "Changes within this window are reported together",
            },
        },
        handle,
        annotations=PURE,
    )
