"""Stopping the real servers tests start, the same way everywhere: SIGTERM, a grace period,
then SIGKILL, so a server that hangs on shutdown cannot hang the test run."""

from __future__ import annotations

import subprocess
from typing import Any


def stop(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
