"""`llmspell service` (being built)."""

from __future__ import annotations

from .common import Commands


def add(commands: Commands) -> None:
    """Adds nothing yet."""
