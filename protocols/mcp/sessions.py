"""The `mcp_session_open` / `mcp_session_close` hook points, for both transports: observers
only, so a failing hook is logged and the session goes on."""

from __future__ import annotations

from typing import Any

from llmspell.runtime.hooks import HookRegistry, observe


async def session_hook(hooks: HookRegistry, point: str, said: dict[str, Any]) -> None:
    await observe(hooks, point, said, str(said["session"]))
