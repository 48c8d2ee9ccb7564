"""Files: every path is resolved (following `..` and symlinks) before use and must land inside a
root, so neither `../../etc/passwd` nor a symlink pointing out of a root gets through."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from llmspell.runtime import ErrorCode, LLMSpellError
from llmspell.runtime.sandbox import MAX_READ, MAX_WRITE, FilePolicy

from .._common import refuse


@dataclass(frozen=True, slots=True)
class Roots:
    paths: tuple[Path, ...]
    max_read: int = MAX_READ
    max_write: int = MAX_WRITE

    @classmethod
    def of(cls, roots: Sequence[Path] | None, max_read: int = MAX_READ) -> Roots:
        chosen = roots or [Path.cwd()]
        return cls(tuple(Path(r).resolve() for r in chosen), max_read)

    @classmethod
    def from_policy(cls, policy: FilePolicy) -> Roots:
        return cls(Roots.of(policy.roots).paths, policy.max_read, policy.max_write)

    def check_write(self, tool_name: str, path: str, size: int) -> None:
        """Refuse a write over the cap before any byte lands."""
        if size > self.max_write:
            raise refuse(
                tool_name, f"{path!r}: {size} bytes is over the {self.max_write}-byte write limit"
            )

    def resolve(self, tool_name: str, path: str) -> Path:
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.paths[0] / candidate
        resolved = candidate.resolve()
        if not any(resolved == root or resolved.is_relative_to(root) for root in self.paths):
            allowed = ", ".join(str(r) for r in self.paths)
            raise LLMSpellError(
                ErrorCode.DENIED,
                f"{tool_name}: {path!r} is outside the allowed roots ({allowed})",
                data={"path": path, "roots": [str(r) for r in self.paths]},
            )
        return resolved

    async def read_bytes(self, tool_name: str, path: str) -> bytes:
        target = self.resolve(tool_name, path)
        return await asyncio.to_thread(_read, tool_name, target, path, self.max_read)


def _read(tool_name: str, target: Path, shown: str, limit: int) -> bytes:
    try:
        size = target.stat().st_size
        if size > limit:
            raise refuse(tool_name, f"{shown!r} is {size} bytes, over the {limit}-byte read limit")
        return target.read_bytes()
    except FileNotFoundError:
        raise refuse(tool_name, f"{shown!r} does not exist") from None
    except IsADirectoryError:
        raise refuse(tool_name, f"{shown!r} is a directory") from None
