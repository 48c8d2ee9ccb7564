"""The `mcp_session_open` / `mcp_session_close` hook points, for both transports."""

from __future__ import annotations

import logging
from typing import Any

from llmspell.runtime import LLMSpellError
from llmspell.runtime.hooks import HookRegistry, fire

logger = logging.getLogger("llmspell.mcp")


async def session_hook(hooks: HookRegistry, point: str, said: dict[str, Any]) -> None:
    """`mcp_session_open` / `mcp_session_close`: observers only, so a failing hook is logged
    and the session goes on."""
    if not hooks.wants(point):
        return
    try:
        await fire(hooks, point, said, str(said["session"]))
    except LLMSpellError as exc:
        logger.warning("a hook at %s failed: %s", point, exc)
