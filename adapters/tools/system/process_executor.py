"""`process-executor`: runs one allow-listed command with literal arguments, no shell, under the
process sandbox (limits, own process group, scrubbed environment, cwd inside the roots)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result
from llmspell.runtime.sandbox import ProcessPolicy

from .._common import answer, refuse, tool
from ..sandbox import process
from ..sandbox.files import Roots

NAME = "process-executor"


def not_allowed(command: str, policy: ProcessPolicy) -> LLMSpellError:
    """The refusal names the setting that would allow the command, and what is allowed now."""
    allowed = ", ".join(policy.allow) if policy.allow else "no command is allowed"
    return LLMSpellError(
        ErrorCode.DENIED,
        f"{NAME}: {command!r} is not an allowed command ({allowed}); to allow it, add it to "
        f'[tools.process] allow = ["{command}", ...] in llmspell.toml',
        data={"command": command, "allowed": list(policy.allow)},
    )


def _summary(command: str, done: process.Completed) -> str:
    if done.timed_out:
        status = f"timed out after {done.duration}s and was killed"
    elif done.signal:
        status = f"killed by {done.signal}"
    else:
        status = f"exit code {done.exit_code}"
    lines = [f"{command}: {status} ({done.duration}s)"]
    for label, text, cut in (
        ("stdout", done.stdout, done.stdout_truncated),
        ("stderr", done.stderr, done.stderr_truncated),
    ):
        if text or cut:
            lines.append(f"--- {label}{' (truncated)' if cut else ''} ---\n{text}")
    return "\n".join(lines)


def _workdir(roots: Roots, cwd: str) -> Path:
    target = roots.resolve(NAME, cwd)
    if not target.is_dir():
        raise refuse(NAME, f"cwd {cwd!r} is not a directory")
    return target


def component(policy: ProcessPolicy, roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        command: str = args["command"]
        if not policy.allows(command):
            raise not_allowed(command, policy)
        cwd = await asyncio.to_thread(_workdir, roots, args.get("cwd", "."))
        env = process.environment(policy)
        program = await asyncio.to_thread(process.executable, command, env)
        if program is None:
            raise refuse(NAME, f"{command!r} was not found on the PATH the command gets")
        stdin = args.get("stdin")
        done = await process.run(
            policy,
            program,
            args.get("args", []),
            cwd=cwd,
            env=env,
            stdin=stdin.encode() if stdin is not None else None,
            timeout=args.get("timeout", policy.timeout),
        )
        data = {"command": command, "args": args.get("args", [])} | {
            field: getattr(done, field) for field in process.Completed.__slots__
        }
        return answer(_summary(command, done), data)

    return tool(
        NAME,
        "Runs one allow-listed command (no shell: each argument is passed literally) in a "
        "directory inside the allowed roots, with a scrubbed environment, CPU/memory/file/"
        "process limits and a timeout that kills everything it started. Returns the exit code, "
        "stdout and stderr. Commands are refused unless [tools.process] allow lists them.",
        {
            "command": {
                "type": "string",
                "minLength": 1,
                "description": "The program, as named in the allow list"
                + (f" ({', '.join(policy.allow)})" if policy.allow else " (none allowed)"),
            },
            "args": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Arguments, each passed as is (no globbing, quoting or $vars)",
            },
            "cwd": {
                "type": "string",
                "minLength": 1,
                "description": "Working directory inside the allowed roots (default: the first)",
            },
            "stdin": {"type": "string", "description": "Text written to the command's stdin"},
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": policy.timeout,
                "description": f"Seconds before it is killed (default and most: {policy.timeout})",
            },
        },
        handle,
        required=["command"],
        annotations=Annotations(
            read_only=False, destructive=True, idempotent=False, open_world=True
        ),
    )
