"""`file-search`: files matching a glob under a directory in the roots, optionally the lines
matching a regular expression in them.

Bounded three ways so a broad search stays cheap: files over `max_file_size` and binary files
(a NUL byte in the first 8 KiB) are skipped, and results stop at `max_results` with `truncated`
set. A match that resolves out of the roots (through a symlink) is skipped, never read."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool
from ..sandbox.files import Roots

NAME = "file-search"
MAX_RESULTS = 10_000
MAX_LINE = 500
SNIFF = 8192


def _inside(path: Path, roots: Roots) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots.paths)


def _pattern(glob: str) -> str:
    pure = PurePosixPath(glob.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (len(glob) > 1 and glob[1] == ":"):
        raise refuse(NAME, f"pattern {glob!r} must be relative and must not contain '..'")
    return glob


def _search(roots: Roots, args: dict[str, Any]) -> Result:
    shown: str = args.get("path", ".")
    base = roots.resolve(NAME, shown)
    if not base.is_dir():
        raise refuse(NAME, f"{shown!r} is not a directory")
    glob = _pattern(args.get("pattern", "**/*"))
    regex = None
    if "regex" in args:
        try:
            regex = re.compile(args["regex"], re.IGNORECASE if args.get("ignore_case") else 0)
        except re.error as exc:
            raise refuse(NAME, f"invalid regex {args['regex']!r}: {exc}") from None
    limit: int = args.get("max_results", 100)
    max_size = min(args.get("max_file_size", 1024 * 1024), roots.max_read)
    results: list[dict[str, Any]] = []
    stats = {"files_matched": 0, "files_searched": 0, "skipped": 0}
    truncated = False
    for found in sorted(base.glob(glob)):
        real = found.resolve()
        if not _inside(real, roots):
            stats["skipped"] += 1
            continue
        if not real.is_file():
            continue
        stats["files_matched"] += 1
        rel = os.path.normpath(os.path.join(shown, found.relative_to(base)))
        if regex is None:
            if len(results) >= limit:
                truncated = True
                break
            results.append({"path": rel, "size": real.stat().st_size})
            continue
        lines = _lines(real, max_size)
        if lines is None:
            stats["skipped"] += 1
            continue
        stats["files_searched"] += 1
        for number, line in enumerate(lines, 1):
            if regex.search(line):
                if len(results) >= limit:
                    truncated = True
                    break
                results.append({"path": rel, "line": number, "text": line[:MAX_LINE]})
        if truncated:
            break
    if regex is None:
        text = "\n".join(r["path"] for r in results)
    else:
        text = "\n".join(f"{r['path']}:{r['line']}: {r['text']}" for r in results)
    return answer(
        text or "no matches",
        {"path": shown, "results": results, "truncated": truncated, **stats},
    )


def _lines(path: Path, max_size: int) -> list[str] | None:
    """The file's lines, or None for a file too large or binary to search."""
    try:
        if path.stat().st_size > max_size:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in data[:SNIFF]:
        return None
    return data.decode("utf-8", "replace").splitlines()


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        return await asyncio.to_thread(_search, roots, args)

    return tool(
        NAME,
        "Finds files by glob pattern under a directory inside the allowed roots and, with "
        "'regex', the matching lines in them (path, line number, text). Binary files and files "
        "over max_file_size are skipped; results stop at max_results with truncated = true.",
        {
            "path": {
                "type": "string",
                "minLength": 1,
                "default": ".",
                "description": "The directory to search under",
            },
            "pattern": {
                "type": "string",
                "minLength": 1,
                "default": "**/*",
                "description": "Glob relative to path, e.g. '**/*.py' or '*.md'",
            },
            "regex": {
                "type": "string",
                "minLength": 1,
                "description": "A Python regular expression searched line by line",
            },
            "ignore_case": {"type": "boolean", "default": False},
            "max_results": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RESULTS,
                "default": 100,
            },
            "max_file_size": {
                "type": "integer",
                "minimum": 1,
                "default": 1024 * 1024,
                "description": "Files larger than this many bytes are not searched",
            },
        },
        handle,
        annotations=PURE,
    )
