"""`python -m llmspell.bench replicas`: what scaling out costs and buys, measured in one run.

1. Stateless `tools/call` throughput of the built-in `calculator` (wrk, `--clients` connections,
   `--duration` seconds each): straight to one replica, through HAProxy (deploy/haproxy.cfg) to
   that one replica, and through HAProxy to two. Ratios are against the direct figure. On two
   cores, two replicas, HAProxy and wrk share the same CPUs: the second replica adds a process,
   not a core, so expect the ratio to show the balancer's cost rather than a doubling.
2. A2A `message:send` latency to an offline echo agent with the task store in SQLite and in
   PostgreSQL (a throw-away server, fsync on, asynchronous commit as SQLite's WAL with
   synchronous=NORMAL), the two gateways called alternately so that both see the same machine.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx2 as httpx

from . import _load
from ._postgres import running_postgres
from ._procs import Procs, config_file, free_port, wait_port

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"
CALL = {"name": "calculator", "arguments": {"expression": "6 * 7"}}
GATEWAY = """
[[agents]]
name = "echoer"
model = "offline/echo"
description = "Repeats what it is told"
"""


def _log(message: str) -> None:
    print(f"[bench replicas] {message}", flush=True)


def _haproxy(procs: Procs, tmp: str, a: str, b: str) -> str:
    """HAProxy from deploy/haproxy.cfg in front of `a` and `b` (host:port); its MCP URL."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    port = free_port()
    env = dict(os.environ, LLMSPELL_LB_BIND=f"127.0.0.1:{port}", LLMSPELL_A=a, LLMSPELL_B=b)
    proc = procs.spawn([binary, "-db", "-f", str(CONFIG)], env=env, log=Path(tmp) / "lb.log")
    wait_port(port, proc)
    time.sleep(1.2)  # two health checks (inter 500ms, rise 2) before both servers take traffic
    return f"http://127.0.0.1:{port}/mcp"


def _address(url: str) -> str:
    return url.removeprefix("http://").split("/", 1)[0]


def throughput(clients: int, seconds: float) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Procs() as procs:
        first = procs.gateway("--stateless", cwd=tmp)
        second = procs.gateway("--stateless", cwd=tmp)
        a, b = _address(first), _address(second)
        paths = [
            ("direct, 1 replica", first),
            ("HAProxy, 1 replica", _haproxy(procs, tmp, a, a)),
            ("HAProxy, 2 replicas", _haproxy(procs, tmp, a, b)),
        ]
        for name, url in paths:
            _log(f"throughput: {name}, {clients} clients, {seconds:g} s")
            figures = _load.load(url, CALL, clients=clients, seconds=seconds, stateful=False)
            rows.append({"path": name, **figures})
    base = rows[0]["rps"] or 1.0
    for row in rows:
        row["ratio"] = row["rps"] / base
    return rows


def _send(http: httpx.Client, base: str) -> float:
    message = {"messageId": uuid.uuid4().hex, "role": "ROLE_USER", "parts": [{"text": "hi"}]}
    started = time.perf_counter()
    reply = http.post(
        f"{base}/a2a/echoer/message:send",
        json={"message": message},
        headers={"A2A-Version": "1.0"},
    )
    elapsed = (time.perf_counter() - started) * 1000
    if reply.status_code != 200 or "echo: hi" not in reply.text:
        raise RuntimeError(f"A2A send failed: {reply.status_code} {reply.text[:200]}")
    return elapsed


def task_store_latency(calls: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_postgres(durable=True) as pg,
        Procs() as procs,
    ):
        url = f"postgresql://{pg.user}:{pg.password}@{pg.host}:{pg.port}/{pg.database}"
        stores = {"sqlite": "sqlite", "postgresql": url}
        bases = {}
        for name, store in stores.items():
            folder = Path(tmp) / name
            folder.mkdir()
            config = config_file(
                str(folder), "llmspell.toml", GATEWAY + f'[a2a]\ntask_store = "{store}"\n'
            )
            bases[name] = procs.gateway("--config", str(config), cwd=str(folder))[: -len("/mcp")]
        times: dict[str, list[float]] = {name: [] for name in stores}
        with httpx.Client(timeout=30) as http:
            for name in stores:  # warm: the A2A stack is built on first use, tables created
                for _ in range(20):
                    _send(http, bases[name])
            _log(f"A2A send: {calls} calls per store, alternating")
            for _ in range(calls):
                for name in stores:
                    times[name].append(_send(http, bases[name]))
    p50 = {name: statistics.median(values) for name, values in times.items()}
    return {
        "calls": calls,
        "p50_ms": p50,
        "p90_ms": {n: sorted(v)[int(len(v) * 0.9)] for n, v in times.items()},
        "added_p50_ms": p50["postgresql"] - p50["sqlite"],
    }


def run(
    clients: int = 32, duration: float = 10.0, calls: int = 200, json_output: bool = False
) -> int:
    if _load.wrk_path() is None:
        _log(_load.INSTALL_HINT)
    if not (shutil.which("haproxy") or Path("/usr/sbin/haproxy").is_file()):
        _log("haproxy not found: apt-get install haproxy")
        return 1
    if not CONFIG.is_file():
        _log(f"{CONFIG} not found: run this suite from a checkout of the repository")
        return 1
    report: dict[str, Any] = {
        "throughput": throughput(clients, duration),
        "a2a_task_store": task_store_latency(calls),
        "cores": os.cpu_count(),
    }
    if json_output:
        print(json.dumps(report, indent=2))
        return 0
    print(f"\nstateless tools/call (calculator), {clients} clients, {duration:g} s each, wrk")
    print(f"{'path':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'x direct':>10}")
    for row in report["throughput"]:
        print(
            f"{row['path']:<24}{row['rps']:>10.0f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}"
            f"{row['errors']:>8}{row['ratio']:>10.2f}"
        )
    store = report["a2a_task_store"]
    print(f"\nA2A message:send to an echo agent, {store['calls']} calls per store, alternating")
    for name in ("sqlite", "postgresql"):
        p50, p90 = store["p50_ms"][name], store["p90_ms"][name]
        print(f"  {name:<12} p50 {p50:6.2f} ms   p90 {p90:6.2f} ms")
    print(f"  PostgreSQL adds {store['added_p50_ms']:+.2f} ms p50 per send")
    print(f"\n({report['cores']} cores: replicas, HAProxy and wrk share them)")
    return 0


__all__ = ["run"]
