"""Backends of the runtime's `StateStore` port: SQLite (the default, a file next to the
config). The memory store lives with the port in `llmspell.runtime.state`."""

from .sqlite import SqliteStateStore, restore

__all__ = ["SqliteStateStore", "restore"]
