"""Processes: a command runs from an argv list (never through a shell), in a directory inside
the roots, with only the policy's environment variables, in its own process group and under
resource limits set in the child before exec. The wall-clock timeout, the caller's
cancellation and the command's own exit all end in one SIGKILL to the whole group, so nothing
it started outlives it (unless it left the group with setsid: only a cgroup would catch that).

The limits are set by `preexec_fn`, which runs Python in the forked child: it is kept to
`setrlimit` calls with values computed beforehand. RLIMIT_NPROC counts every process of the
user, not only the command's, and the kernel does not enforce it for root; it is still set, so
an unprivileged gateway bounds fork bombs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import shutil
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmspell.runtime.sandbox import ProcessPolicy

GRACE = 2.0
"""Seconds to wait for the pipes to close and the process to be reaped after the kill."""
CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Completed:
    """How a command ended: exit code or the signal that killed it, and what it printed."""

    exit_code: int | None
    signal: str | None
    duration: float
    timed_out: bool
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool


def environment(policy: ProcessPolicy) -> dict[str, str]:
    """The child's whole environment: the policy's names that the gateway has, nothing else."""
    return {name: os.environ[name] for name in policy.env if name in os.environ}


def executable(command: str, env: dict[str, str]) -> str | None:
    """An absolute path for `command`: as given when it is a path, otherwise found on the
    child's PATH (absolute entries only, so a relative one cannot pick a file in the cwd)."""
    if "/" in command:
        return command if os.path.isabs(command) and os.access(command, os.X_OK) else None
    search = env.get("PATH", os.defpath).split(os.pathsep)
    found = shutil.which(command, path=os.pathsep.join(p for p in search if os.path.isabs(p)))
    return os.path.abspath(found) if found else None


def _limits(policy: ProcessPolicy) -> Callable[[], None]:
    """The child's preexec function, with every value computed here in the parent. A hard limit
    never goes above the gateway's own (an unprivileged process cannot raise it)."""
    wanted = [
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_CPU, policy.cpu_seconds, policy.cpu_seconds + 1),
        (resource.RLIMIT_FSIZE, policy.file_size_bytes, policy.file_size_bytes),
        (resource.RLIMIT_NPROC, policy.processes, policy.processes),
        (resource.RLIMIT_AS, policy.memory_bytes, policy.memory_bytes),  # last: it may bite
    ]
    limits: list[tuple[int, tuple[int, int]]] = []
    for which, soft, hard in wanted:
        _, current = resource.getrlimit(which)
        if current != resource.RLIM_INFINITY:
            hard = min(hard, current)
        limits.append((which, (min(soft, hard), hard)))
    setrlimit = resource.setrlimit

    def apply() -> None:
        for which, pair in limits:
            setrlimit(which, pair)

    return apply


class _Capture:
    """One output stream: keeps the first `cap` bytes, reads and drops the rest so the child
    never blocks on a full pipe. Survives cancellation of the task reading it."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.data = bytearray()
        self.truncated = False

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(CHUNK):
            room = self.cap - len(self.data)
            if room > 0:
                self.data += chunk[:room]
            if len(chunk) > room:
                self.truncated = True

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    try:
        stdin.write(data)
        await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the command exited without reading all of it
    finally:
        stdin.close()


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is empty
        os.killpg(pgid, signal.SIGKILL)


async def _settle(proc: asyncio.subprocess.Process, tasks: set[asyncio.Future[Any]]) -> None:
    """After the kill: reap the process and let the readers see EOF, for at most GRACE seconds
    (a process that left the group may hold the pipes open)."""
    reap = asyncio.ensure_future(proc.wait())
    _, pending = await asyncio.wait({reap, *tasks}, timeout=GRACE)
    for task in pending:
        task.cancel()


async def run(
    policy: ProcessPolicy,
    program: str,
    args: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    stdin: bytes | None = None,
    timeout: float,  # noqa: ASYNC109 - the command's wall clock, enforced by killing its group
) -> Completed:
    """Run `program` with `args` (each passed literally) and wait for it and its output."""
    start = time.monotonic()
    spawn = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            program,
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=env,
            start_new_session=True,  # its own session and process group: pgid == pid
            preexec_fn=_limits(policy),
        )
    )
    try:
        proc = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        # The command may already run while its pipes are being connected: asyncio would kill
        # only the leader, so let the start finish and kill the whole group.
        await asyncio.wait({spawn})
        if not spawn.cancelled() and spawn.exception() is None:
            _kill_group(spawn.result().pid)
            await _settle(spawn.result(), set())
        raise
    out, err = _Capture(policy.max_output), _Capture(policy.max_output)
    assert proc.stdout is not None and proc.stderr is not None
    tasks: set[asyncio.Future[Any]] = {
        asyncio.ensure_future(out.drain(proc.stdout)),
        asyncio.ensure_future(err.drain(proc.stderr)),
    }
    if stdin is not None and proc.stdin is not None:
        tasks.add(asyncio.ensure_future(_feed(proc.stdin, stdin)))
    waiter = asyncio.ensure_future(proc.wait())
    try:
        # Done when the command has exited and every pipe is closed (a background child
        # holding stdout keeps it running), or when the clock runs out.
        _, pending = await asyncio.wait({waiter, *tasks}, timeout=timeout)
    except BaseException:  # cancelled: nothing it started may outlive the call
        _kill_group(proc.pid)
        await asyncio.shield(_settle(proc, {waiter, *tasks}))
        raise
    timed_out = bool(pending)
    _kill_group(proc.pid)  # what it left running in its group goes with it
    await _settle(proc, {waiter, *tasks})
    code = proc.returncode
    return Completed(
        exit_code=code if code is not None and code >= 0 else None,
        signal=signal.Signals(-code).name if code is not None and code < 0 else None,
        duration=round(time.monotonic() - start, 3),
        timed_out=timed_out,
        stdout=out.text(),
        stderr=err.text(),
        stdout_truncated=out.truncated,
        stderr_truncated=err.truncated,
    )
