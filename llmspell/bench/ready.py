"""The `ready` suite: how long `llmspell gateway` takes from spawn until it answers MCP, over
HTTP and stdio.

Each run spawns a fresh process and times spawn -> a successful `initialize` response (HTTP:
the first POST that gets one; stdio: the reply line). `python -c pass` is measured in the same
interleaved runs as the floor, so the ratio says what the gateway itself costs.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx2 as httpx

from ._load import initialize
from ._procs import GATEWAY_URL
from .startup import llmspell_command

TARGET_MS = 1500.0
INIT = initialize("bench")


@contextlib.contextmanager
def _gateway(
    *args: str, stdout: int, stderr: int, stdin: int | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`llmspell gateway ARGS...`, stopped when the block ends."""
    command = [*llmspell_command(), "gateway", *args]
    proc = subprocess.Popen(command, stdin=stdin, stdout=stdout, stderr=stderr)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait()


def http_ready_ms() -> float:
    started = time.perf_counter()
    with _gateway("--port", "0", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None
        url = None
        while url is None:
            line = proc.stderr.readline()
            if not line:
                raise RuntimeError("gateway exited before announcing its URL")
            found = GATEWAY_URL.search(line)
            url = found.group(1).decode() if found else None
        headers = {"Accept": "application/json, text/event-stream"}
        with httpx.Client(timeout=10) as client:
            while True:
                try:
                    if client.post(url, json=INIT, headers=headers).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.002)
        return (time.perf_counter() - started) * 1000


def stdio_ready_ms() -> float:
    started = time.perf_counter()
    pipe = subprocess.PIPE
    with _gateway("--stdio", "--quiet", stdin=pipe, stdout=pipe, stderr=subprocess.DEVNULL) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(INIT).encode() + b"\n")
        proc.stdin.flush()
        reply = json.loads(proc.stdout.readline())
        assert reply["result"]["serverInfo"]["name"] == "llmspell"
        return (time.perf_counter() - started) * 1000


def python_floor_ms() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return (time.perf_counter() - started) * 1000


def run(runs: int = 15) -> int:
    probes = {
        "python -c pass": python_floor_ms,
        "gateway (HTTP) to initialize": http_ready_ms,
        "gateway --stdio to initialize": stdio_ready_ms,
    }
    times: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(runs + 1):  # the first round warms caches and is dropped
        for name, probe in probes.items():
            times[name].append(probe())
    floor = statistics.median(times["python -c pass"][1:])
    print(f"gateway start-up: spawn until MCP initialize answers, median of {runs} runs")
    print(f"{'command':<32}{'median ms':>10}{'max ms':>9}{'x python':>10}")
    missed = []
    for name, values in times.items():
        median, worst = statistics.median(values[1:]), max(values[1:])
        print(f"{name:<32}{median:>10.1f}{worst:>9.1f}{median / floor:>10.2f}")
        if name.startswith("gateway") and median > TARGET_MS:
            missed.append(f"{name}: {median:.0f} ms")
    print(
        f"\ntarget ≤ {TARGET_MS:g} ms: " + ("met" if not missed else "MISSED: " + "; ".join(missed))
    )
    return 0
