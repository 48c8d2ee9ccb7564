"""`file-operations`: reading, writing and listing files, confined to the allowed roots."""

from __future__ import annotations

import asyncio
import os
import stat as stat_mod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result

from .._common import answer, refuse, tool
from ..sandbox.files import Roots, _read

NAME = "file-operations"


def _stat(path: Path, shown: str) -> dict[str, Any]:
    st = path.stat()
    kind = (
        "directory"
        if stat_mod.S_ISDIR(st.st_mode)
        else "file"
        if stat_mod.S_ISREG(st.st_mode)
        else "other"
    )
    return {
        "path": shown,
        "type": kind,
        "size": st.st_size,
        "modified": datetime.fromtimestamp(st.st_mtime, UTC).isoformat(),
        "mode": oct(stat_mod.S_IMODE(st.st_mode)),
    }


def _sync_op(op: str, target: Path, args: dict[str, Any], roots: Roots) -> Result:
    shown: str = args["path"]
    encoding = args.get("encoding", "utf-8")
    try:
        if op == "read":
            data = _read(NAME, target, shown, roots.max_read)
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise refuse(NAME, f"{shown!r} is not {encoding} text") from None
            return answer(text, {"path": shown, "content": text, "size": len(data)})
        if op in ("write", "append"):
            content = args["content"].encode(encoding)
            roots.check_write(NAME, shown, len(content))
            if args.get("create_dirs"):
                target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("ab" if op == "append" else "wb") as fh:
                fh.write(content)
            return answer(
                f"{'appended' if op == 'append' else 'wrote'} {len(content)} bytes to {shown}",
                {"path": shown, "bytes": len(content)},
            )
        if op == "list":
            if not target.is_dir():
                raise refuse(NAME, f"{shown!r} is not a directory")
            walker = target.rglob("*") if args.get("recursive") else target.iterdir()
            entries = sorted(
                (
                    {
                        "name": str(p.relative_to(target)),
                        "type": "directory" if p.is_dir() else "file",
                        "size": p.stat().st_size if p.is_file() else 0,
                    }
                    for p in walker
                ),
                key=lambda e: e["name"],
            )
            return answer(
                "\n".join(f"{e['name']}{'/' if e['type'] == 'directory' else ''}" for e in entries),
                {"path": shown, "entries": entries},
            )
        if op == "stat":
            info = _stat(target, shown)
            return answer(f"{info['type']} {info['size']} bytes", info)
        if op == "exists":
            found = target.exists()
            return answer("true" if found else "false", {"path": shown, "exists": found})
        if op == "mkdir":
            target.mkdir(parents=bool(args.get("recursive", True)), exist_ok=True)
            return answer(f"created {shown}", {"path": shown})
        if op == "delete":
            if target in roots.paths:
                raise LLMSpellError(
                    ErrorCode.DENIED, f"{NAME}: refusing to delete an allowed root ({shown!r})"
                )
            if target.is_dir() and not target.is_symlink():
                if args.get("recursive"):
                    import shutil

                    shutil.rmtree(target)
                else:
                    target.rmdir()
            else:
                target.unlink()
            return answer(f"deleted {shown}", {"path": shown})
    except FileNotFoundError:
        raise refuse(NAME, f"{shown!r} does not exist") from None
    except FileExistsError:
        raise refuse(NAME, f"{shown!r} already exists") from None
    except IsADirectoryError:
        raise refuse(NAME, f"{shown!r} is a directory") from None
    except NotADirectoryError:
        raise refuse(NAME, f"a parent of {shown!r} is not a directory") from None
    except OSError as exc:
        if exc.errno == 39:  # ENOTEMPTY
            raise refuse(
                NAME, f"{shown!r} is not empty; pass recursive = true to delete it"
            ) from None
        raise LLMSpellError(
            ErrorCode.COMPONENT_FAILED, f"{NAME}: {op} {shown!r}: {os.strerror(exc.errno or 0)}"
        ) from None
    raise refuse(NAME, f"unknown operation {op!r}")


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        op = args["operation"]
        target = roots.resolve(NAME, args["path"])
        return await asyncio.to_thread(_sync_op, op, target, args, roots)

    return tool(
        NAME,
        "Reads, writes, appends, lists, stats, checks, creates and deletes files and directories, "
        "confined to the allowed roots (the working directory unless configured).",
        {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "Relative to the first allowed root, or absolute inside one",
            },
            "content": {"type": "string", "description": "For write and append"},
            "encoding": {"type": "string", "default": "utf-8"},
            "recursive": {
                "type": "boolean",
                "description": "list: walk subdirectories; mkdir: create parents; "
                "delete: remove a non-empty directory",
            },
            "create_dirs": {
                "type": "boolean",
                "description": "write/append: create missing parent directories",
            },
        },
        handle,
        required=["path"],
        operations={
            "read": [],
            "write": ["content"],
            "append": ["content"],
            "list": [],
            "stat": [],
            "exists": [],
            "mkdir": [],
            "delete": [],
        },
        annotations=Annotations(
            read_only=False, destructive=True, idempotent=False, open_world=False
        ),
    )
