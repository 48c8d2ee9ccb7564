"""Entry history in the user's state directory, restored on the next start."""

from __future__ import annotations

import os
from pathlib import Path

from prompt_toolkit.history import FileHistory, InMemoryHistory

FILE = "repl_history"


def state_dir() -> Path:
    """`LLMSPELL_STATE_DIR`, else the platform's user state folder (platformdirs)."""
    chosen = os.environ.get("LLMSPELL_STATE_DIR")
    if chosen:
        return Path(chosen)
    import platformdirs

    return Path(platformdirs.user_state_dir("llmspell"))


class History(InMemoryHistory):
    """The file read whole before the first prompt (prompt_toolkit otherwise loads it in the
    background, and an up-arrow pressed at once finds nothing); each new entry appended to it.
    Blocking: build it through asyncio.to_thread."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = FileHistory(str(path))
        super().__init__(list(self._file.load_history_strings())[::-1])

    def store_string(self, string: str) -> None:
        super().store_string(string)
        self._file.store_string(string)
