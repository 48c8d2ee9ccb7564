"""Backends of the runtime's `StateStore` port: SQLite (the default, a file next to the
config) and PostgreSQL (a URL, for replicas sharing one store). The memory store lives with the
port in `llmspell.runtime.state`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .sqlite import SqliteStateStore, restore

if TYPE_CHECKING:
    from .postgres import PostgresStateStore


def store_at(target: Path | str) -> SqliteStateStore | PostgresStateStore:
    """The store a config names: a PostgreSQL URL, else a SQLite file."""
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStateStore

        return PostgresStateStore(target)
    return SqliteStateStore(target)


__all__ = ["SqliteStateStore", "restore", "store_at"]
