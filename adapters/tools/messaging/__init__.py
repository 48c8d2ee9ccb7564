"""Messaging: see the tools below; every connection goes through the one outbound policy
(`sandbox/network.py`)."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv


def components(env: ToolEnv) -> list[Component]:
    return []
