"""Real `llmspell serve` processes on loopback ports, stopped even when a test fails; and the
runs a job left in the real SQLite state store."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpserver.conftest import ROOT, Inbox, env
from processes import stop

_URL = re.compile(r"serving MCP at (http://\S+/mcp)")
_JOBS = re.compile(r"^  (jobs: \d+|no scheduled jobs)$", re.MULTILINE)

SLOW_TOOL = """
Tool.define {
  name = "slow",
  description = "Sleeps, then says so",
  input_schema = { type = "object", properties = { seconds = { type = "number" } } },
  handler = function(args)
    sleep(args.seconds or 1)
    return "slept " .. (args.seconds or 1)
  end,
}
"""


@dataclass
class RunningServe:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return self.url[: -len("/mcp")]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{text!r} not in the output:\n{self.output()}")
            time.sleep(0.05)


@contextmanager
def serve(
    config: Path, *args: str, timeout: float = 30.0, grace: float | None = None
) -> Iterator[RunningServe]:
    """`llmspell serve --config CONFIG --port 0 ARGS...`, yielded once its jobs are started
    (the line listing them follows the gateway's start-up line)."""
    command = [sys.executable, "-m", "llmspell", "serve", "--config", str(config), "--port", "0"]
    if grace is not None:
        command += ["--grace", str(grace)]
    with tempfile.NamedTemporaryFile("wb", suffix=".log", delete=False) as log:
        path = Path(log.name)
        proc = subprocess.Popen(
            [*command, *args],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env(),
            cwd=config.parent,
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            text = path.read_text(errors="replace")
            found = _URL.search(text)
            if found and _JOBS.search(text):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start:\n{text}")
            time.sleep(0.05)
        yield RunningServe(found.group(1), proc, path)
    finally:
        stop(proc, 15)
        path.unlink(missing_ok=True)


def write_config(directory: Path, text: str, **files: str) -> Path:
    """`llmspell.toml` (no A2A: nothing here needs it) and the named files beside it."""
    for name, body in files.items():
        (directory / name).write_text(body, encoding="utf-8")
    config = directory / "llmspell.toml"
    config.write_text(text + "\n[a2a]\nenabled = false\n", encoding="utf-8")
    return config


async def stored_runs(config: Path, job: str) -> list[dict[str, Any]]:
    """The job's runs in the state store beside the config (newest first), read with the
    store's own SQLite adapter while the server may be writing."""
    from llmspell.adapters.state import SqliteStateStore

    store = SqliteStateStore(config.parent / ".llmspell" / "state.db")
    try:
        return list(await store.get("scheduler", f"runs:{job}") or [])
    finally:
        await store.aclose()


def runs(config: Path, job: str) -> list[dict[str, Any]]:
    return asyncio.run(stored_runs(config, job))


__all__ = [
    "ROOT",
    "SLOW_TOOL",
    "Inbox",
    "RunningServe",
    "env",
    "runs",
    "serve",
    "stored_runs",
    "write_config",
]
