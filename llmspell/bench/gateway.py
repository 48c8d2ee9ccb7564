"""llmspell as an MCP proxy beside FastMCP and mcp-proxy, its built-in throughput, and what the
pipeline costs, in one run: `python -m llmspell.bench gateway [--calls N] [--clients N] [--json]`.

1. Warm `tools/call` latency of the peer's `echo` (conformance/peers/mcp_server.py) with one
   client for every path (the mcp SDK's, Streamable HTTP, handshake era), calls interleaved path
   by path so drift hits all alike. Paths: direct to the peer over HTTP; `llmspell gateway`
   federating it as an HTTP upstream (the same peer process as direct; once more with the lean
   upstream leg switched off, to show what it saves) and as a stdio upstream; the floor, a bare
   forwarder of bytes (_floor.py: uvicorn and httpcore, no MCP), whose added latency is what
   one more Python HTTP hop costs here;
   a FastMCP proxy (`create_proxy`, which opens a fresh backend client per request by default)
   with each upstream transport; mcp-proxy, whose server mode fronts only a stdio command. Each
   third-party proxy is compared with llmspell on the same upstream transport. They run from
   their own virtualenvs under `.bench/`, made on first use; one that cannot be installed or
   started is reported as unavailable and the other paths still run.
2. Requests/s of the built-in `calculator` under `--clients` concurrent clients (wrk, else an
   httpx loop), against a default `llmspell gateway` with sessions and with `--stateless`, and
   of the stock `mcp` SDK server's trivial tool (stateless JSON, `_sdk_server.py`) under the
   same load; then the peer's `echo` direct and through a gateway federating it (both on the
   same cores). The ratios stateless/SDK and proxied/direct are printed.
3. Pipeline overhead in-process (see pipeline.py).

Targets are printed with PASS/MISS, never asserted: the figures are for a quiet machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _load, _thirdparty
from ._procs import (
    Procs,
    clean_env,
    config_file,
    free_port,
    last_line,
    pct,
    peer_command,
    wait_port,
)
from .pipeline import pipeline_overhead, print_overhead

WARMUP = 50
READY_SECONDS = 30.0
BUILTIN_ARGS: dict[str, Any] = {"expression": "6*7"}
BUILTIN_CALL = {"name": "calculator", "arguments": BUILTIN_ARGS}
TARGET_ADDED_MS = 1.0
TARGET_SPEEDUP = 10.0
TARGET_RPS = 1500.0
LEAN_ENV = "LLMSPELL_UPSTREAM_LEAN"
SERVER_LEAN_ENV = "LLMSPELL_SERVER_LEAN"
SDK_LEG_NOTE = (
    f"llmspell (sdk): the same gateway with {LEAN_ENV}=0, every upstream call through the "
    "SDK's client session (what the lean leg saves)"
)
SDK_SERVER_NOTE = (
    f"(sdk srv): the same gateway with {SERVER_LEAN_ENV}=0, every request through the SDK's "
    "Streamable HTTP server machinery (what the lean downstream leg saves)"
)
FLOOR_NOTE = (
    "floor: a raw ASGI app under uvicorn forwarding the bytes over httpcore (_floor.py), no "
    "MCP: what one more Python HTTP hop costs on this machine, the least any proxy here adds"
)
TARGET_VS_SDK = 1.0
TARGET_PROXIED = 0.5


@dataclass
class Route:
    """One way from the client to the peer's `echo`."""

    key: str
    label: str
    upstream: str
    """How the last hop reaches the peer: "-" (direct), "HTTP" or "stdio"."""
    tool: str
    url: str | None = None
    arguments: dict[str, Any] | None = None
    """The call's arguments; None: the peer's `echo` with a message."""
    error: str | None = None
    note: str = ""
    times: list[float] = field(default_factory=list)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _why(exc: BaseException) -> str:
    """The innermost cause, not the task group wrapping it."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"[:300]


def _toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _start_routes(procs: Procs, tmp: str) -> list[Route]:
    """Start every server; one that fails is marked unavailable in its row, not fatal."""
    peer = peer_command()
    direct = Route("direct", "direct", "-", "echo", url=procs.peer_http())
    routes = [
        direct,
        Route("llmspell-http", "llmspell", "HTTP", "peer.echo"),
        Route("llmspell-http-sdk", "llmspell (sdk)", "HTTP", "peer.echo", note=SDK_LEG_NOTE),
        Route("llmspell-http-srv", "llmspell (sdk srv)", "HTTP", "peer.echo", note=SDK_SERVER_NOTE),
        Route("llmspell-stdio", "llmspell", "stdio", "peer.echo"),
        Route("floor-http", "floor", "HTTP", "echo", note=FLOOR_NOTE),
        Route("fastmcp-http", "fastmcp proxy", "HTTP", "echo"),
        Route("fastmcp-stdio", "fastmcp proxy", "stdio", "echo"),
        Route("mcp-proxy-stdio", "mcp-proxy", "stdio", "echo"),
        Route("builtin", "built-in", "-", "calculator", arguments=BUILTIN_ARGS),
        Route(
            "builtin-srv",
            "built-in (sdk srv)",
            "-",
            "calculator",
            arguments=BUILTIN_ARGS,
            note=SDK_SERVER_NOTE,
        ),
    ]
    upstream = {"HTTP": [str(direct.url)], "stdio": peer}
    launchers = {"fastmcp": _thirdparty.fastmcp_command, "mcp-proxy": _thirdparty.mcp_proxy_command}
    venvs = {name: _thirdparty.ensure(name) for name in launchers}
    pending = []  # third-party servers are spawned first, to start while the gateways do
    floor = next(r for r in routes if r.key == "floor-http")
    port = free_port()
    log = Path(tmp, "floor.log")
    command = [sys.executable, "-m", "llmspell.bench._floor", str(port), str(direct.url)]
    pending.append((floor, port, log, procs.spawn(command, log=log)))
    for route in routes:
        name = route.key.rsplit("-", 1)[0]
        if name not in launchers:
            continue
        venv = venvs[name]
        if venv.error:
            route.error = venv.error
            continue
        route.note = f"{name} {_thirdparty.version(venv, name)}: {_thirdparty.NOTES[name]}"
        port, log = free_port(), Path(tmp, f"{route.key}.log")
        cmd = launchers[name](venv, port, upstream[route.upstream])
        pending.append((route, port, log, procs.spawn(cmd, env=clean_env(), log=log)))

    configs = {
        "llmspell-http": f"url = {_toml(str(direct.url))}",
        "llmspell-http-sdk": f"url = {_toml(str(direct.url))}",
        "llmspell-http-srv": f"url = {_toml(str(direct.url))}",
        "llmspell-stdio": f"command = {_toml(peer[0])}\nargs = {json.dumps(peer[1:])}",
    }
    for route in routes:
        if route.key in configs:
            text = f"builtins = false\n[mcpServers.peer]\n{configs[route.key]}\n"
            args: tuple[str, ...] = ("--config", str(config_file(tmp, f"{route.key}.toml", text)))
        elif route.key.startswith("builtin"):
            args = ()  # an empty cwd: no ./llmspell.toml, the defaults (built-ins on)
        else:
            continue
        try:
            with (
                _lean(route.key != "llmspell-http-sdk"),
                _server_lean(not route.key.endswith("srv")),
            ):
                route.url = procs.gateway(*args, cwd=tmp)
        except RuntimeError as exc:
            route.error = str(exc)[-300:]
    for route, port, log, proc in pending:
        try:
            wait_port(port, proc)
            route.url = f"http://127.0.0.1:{port}/mcp"
        except RuntimeError as exc:
            route.error = f"did not start: {exc}; {last_line(log)}"
    return routes


@contextlib.contextmanager
def _switch(name: str, on: bool) -> Iterator[None]:
    saved = os.environ.get(name)
    os.environ[name] = "1" if on else "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


def _lean(on: bool) -> contextlib.AbstractContextManager[None]:
    """The gateway started inside takes the lean upstream leg (protocols/mcp/lean.py) or not."""
    return _switch(LEAN_ENV, on)


def _server_lean(on: bool) -> contextlib.AbstractContextManager[None]:
    """The gateway started inside answers with the lean downstream leg
    (protocols/mcp/lean_server.py) or all through the SDK's server transport."""
    return _switch(SERVER_LEAN_ENV, on)


async def _call(route: Route, client: Any, message: str) -> float:
    arguments = route.arguments if route.arguments is not None else {"message": message}
    started = time.perf_counter()
    result = await client.call_tool(route.tool, arguments)
    elapsed = (time.perf_counter() - started) * 1000
    if result.is_error:
        raise RuntimeError(f"{route.tool} returned isError: {result.content}")
    return elapsed


async def _ready(route: Route, client: Any) -> None:
    """Federated tools appear once the upstream is connected; poll until the call succeeds."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            await _call(route, client, "ready?")
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


Request = tuple[str, asyncio.Future[float]] | None


async def _session(
    route: Route, requests: asyncio.Queue[Request], opened: asyncio.Future[None]
) -> None:
    """One route's client in a task of its own: when its transport fails, the client's task
    group cancels this task only, so that route drops out and the others keep going."""
    from mcp import Client

    assert route.url is not None
    async with Client(route.url, mode="legacy", read_timeout_seconds=30) as client:
        await _ready(route, client)
        opened.set_result(None)
        while (request := await requests.get()) is not None:
            message, reply = request
            reply.set_result(await _call(route, client, message))


async def _answer(task: asyncio.Task[None], future: asyncio.Future[Any]) -> Any:
    """`future`'s result, or the error that ended the session task first."""
    await asyncio.wait({future, task}, return_when=asyncio.FIRST_COMPLETED)
    if future.done():
        return future.result()
    if task.cancelled():
        raise RuntimeError("the session was cancelled")
    raise task.exception() or RuntimeError("the session ended")


async def _latency(routes: list[Route], calls: int) -> None:
    loop = asyncio.get_running_loop()
    sessions = {}
    for route in routes:
        if route.error is None and route.url is not None:
            requests: asyncio.Queue[Request] = asyncio.Queue()
            opened: asyncio.Future[None] = loop.create_future()
            task = asyncio.create_task(_session(route, requests, opened))
            sessions[route.key] = (route, requests, task, opened)
    live = []
    for route, requests, task, opened in sessions.values():
        try:
            await _answer(task, opened)
            live.append((route, requests, task))
        except Exception as exc:
            route.error = f"no working session: {_why(exc)}"
    try:
        for i in range(WARMUP + calls):
            for route, requests, task in list(live):
                reply: asyncio.Future[float] = loop.create_future()
                requests.put_nowait((str(i), reply))
                try:
                    elapsed = await _answer(task, reply)
                except Exception as exc:
                    route.error = f"failed at call {i}: {_why(exc)}"
                    route.times.clear()
                    live.remove((route, requests, task))
                    continue
                if i >= WARMUP:
                    route.times.append(elapsed)
    finally:
        for _, requests, _task, _ in sessions.values():
            requests.put_nowait(None)
        tasks = [task for _, _, task, _ in sessions.values()]
        await asyncio.gather(*tasks, return_exceptions=True)


def latency_section(calls: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, Procs() as procs:
        routes = _start_routes(procs, tmp)
        _log(f"latency: {WARMUP} warm-up + {calls} interleaved calls per path")
        asyncio.run(_latency(routes, calls))
    direct = next(r for r in routes if r.key == "direct")
    if not direct.times:
        raise RuntimeError(f"the direct path failed: {direct.error}")
    d50, d99 = pct(direct.times, 0.5), pct(direct.times, 0.99)
    paths = []
    for r in routes:
        row: dict[str, Any] = {"path": r.key, "label": r.label, "upstream": r.upstream}
        if r.note:
            row["note"] = r.note
        if not r.times:
            row["error"] = r.error or "no samples"
            paths.append(row)
            continue
        p50, p99 = pct(r.times, 0.5), pct(r.times, 0.99)
        row.update(
            p50_ms=p50,
            p99_ms=p99,
            mean_ms=statistics.fmean(r.times),
            added_p50_ms=p50 - d50,
            added_p99_ms=p99 - d99,
            x_direct=p50 / d50,
        )
        paths.append(row)
    measured = {row["path"]: row for row in paths if "p50_ms" in row}
    versus = []  # each third-party proxy against llmspell on the same upstream transport
    for key, row in measured.items():
        own = f"llmspell-{row['upstream'].lower()}"
        if key.startswith("llmspell") or key == "direct" or own not in measured:
            continue
        versus.append(
            {
                "proxy": key,
                "llmspell": own,
                "upstream": row["upstream"],
                "x_llmspell": row["p50_ms"] / measured[own]["p50_ms"],
            }
        )
    return {
        "calls": calls,
        "warmup": WARMUP,
        "client": "mcp SDK Client, Streamable HTTP, handshake-era (mode='legacy')",
        "tool": "echo",
        "paths": paths,
        "versus_llmspell": versus,
    }


def throughput_section(clients: int, seconds: float) -> dict[str, Any]:
    """One process (or pair) at a time under the same wrk load: the gateway's built-in tool with
    sessions and stateless, the stock SDK server's trivial tool (stateless JSON), then the peer's
    `echo` direct and through a gateway federating it (both sharing the cores)."""
    modes = []
    for mode, args in (
        ("sessions", ()),
        ("stateless", ("--stateless",)),
        ("sessions (sdk srv)", ()),
        ("stateless (sdk srv)", ("--stateless",)),
    ):
        _log(f"throughput: {mode}, {clients} clients, {seconds:g} s")
        # One gateway at a time; an empty cwd means no ./llmspell.toml, so the defaults.
        with tempfile.TemporaryDirectory() as tmp, Procs() as procs:
            with _server_lean(not mode.endswith("(sdk srv)")):
                url = procs.gateway(*args, cwd=tmp)
            stateful = mode.startswith("sessions")
            figures = _load.load(
                url, BUILTIN_CALL, clients=clients, seconds=seconds, stateful=stateful
            )
        modes.append({"mode": mode, **figures})
    others: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("sdk stateless", lambda: _sdk_server(clients, seconds)),
        ("peer direct", lambda: _peer(clients, seconds, proxied=False)),
        ("peer proxied", lambda: _peer(clients, seconds, proxied=True)),
        ("proxied (sdk)", lambda: _peer(clients, seconds, proxied=True, lean=False)),
        ("proxied (sdk srv)", lambda: _peer(clients, seconds, proxied=True, server_lean=False)),
    ]
    for mode, measure in others:
        _log(f"throughput: {mode}, {clients} clients, {seconds:g} s")
        try:
            modes.append({"mode": mode, **measure()})
        except Exception as exc:  # one that cannot run is reported, the others still are
            modes.append({"mode": mode, "error": _why(exc)})
    section: dict[str, Any] = {
        "tool": "calculator",
        "arguments": BUILTIN_CALL["arguments"],
        "clients": clients,
        "seconds": seconds,
        "modes": modes,
        "ratios": _ratios({m["mode"]: m.get("rps") for m in modes}),
    }
    if _load.wrk_path() is None:
        section["note"] = _load.INSTALL_HINT
    return section


def _ratios(rps: dict[str, float | None]) -> dict[str, float]:
    pairs = {
        "stateless_vs_sdk": ("stateless", "sdk stateless"),
        "proxied_vs_direct": ("peer proxied", "peer direct"),
        "sessions_lean_vs_sdk_srv": ("sessions", "sessions (sdk srv)"),
        "stateless_lean_vs_sdk_srv": ("stateless", "stateless (sdk srv)"),
        "proxied_lean_vs_sdk_srv": ("peer proxied", "proxied (sdk srv)"),
    }
    return {
        name: float(rps[a]) / float(rps[b])  # type: ignore[arg-type]
        for name, (a, b) in pairs.items()
        if rps.get(a) and rps.get(b)
    }


def _sdk_server(clients: int, seconds: float) -> dict[str, Any]:
    """The stock SDK server (`_sdk_server.py`: stateless JSON, uvicorn) with its `calculator`."""
    with Procs() as procs:
        port = free_port()
        proc = procs.spawn([sys.executable, "-m", "llmspell.bench._sdk_server", str(port)])
        wait_port(port, proc)
        url = f"http://127.0.0.1:{port}/mcp"
        return _load.load(url, BUILTIN_CALL, clients=clients, seconds=seconds, stateful=False)


PEER_CALL = {"name": "echo", "arguments": {"message": "hi"}}


def _peer(
    clients: int, seconds: float, *, proxied: bool, lean: bool = True, server_lean: bool = True
) -> dict[str, Any]:
    """The Python peer's `echo` (sessions, event-stream replies), straight or through a
    gateway (with sessions) that federates it over HTTP; both on this machine's cores."""
    with tempfile.TemporaryDirectory() as tmp, Procs() as procs:
        url = procs.peer_http()
        call = PEER_CALL
        if proxied:
            text = f"builtins = false\n[mcpServers.peer]\nurl = {_toml(url)}\n"
            with _lean(lean), _server_lean(server_lean):
                url = procs.gateway("--config", str(config_file(tmp, "peer.toml", text)), cwd=tmp)
            call = {**PEER_CALL, "name": "peer.echo"}
        return _load.load(url, call, clients=clients, seconds=seconds, stateful=True)


def _targets(report: dict[str, Any]) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []

    def add(target: str, value: float | None, ok: bool, shown: str) -> None:
        status = "n/a" if value is None else ("PASS" if ok else "MISS")
        rows.append(
            {"target": target, "value": shown if value is not None else "-", "status": status}
        )

    paths = {p["path"]: p for p in report.get("latency", {}).get("paths", [])}
    for key, upstream in (("llmspell-http", "HTTP"), ("llmspell-stdio", "stdio")):
        added = paths.get(key, {}).get("added_p50_ms")
        add(
            f"proxied tools/call adds ≤ {TARGET_ADDED_MS:g} ms p50 over direct "
            f"(llmspell, {upstream} upstream)",
            added,
            added is not None and added <= TARGET_ADDED_MS,
            f"+{added:.2f} ms" if added is not None else "",
        )
    # Over an HTTP upstream, as the issue compares them.
    ours = paths.get("llmspell-http", {}).get("added_p50_ms")
    least = paths.get("floor-http", {}).get("added_p50_ms")
    if ours is not None and least:
        rows.append(
            {
                "target": "added p50 over the floor's, HTTP upstream (reported: the floor is "
                "what any Python proxy adds on this machine)",
                "value": f"{ours / least:.2f}x (+{ours:.2f} vs +{least:.2f} ms)",
                "status": "info",
            }
        )
    theirs = paths.get("fastmcp-http", {}).get("added_p50_ms")
    less = theirs / ours if ours and theirs is not None and ours > 0 else None
    add(
        f"llmspell adds ≥ {TARGET_SPEEDUP:g}x less p50 than the fastmcp proxy (HTTP upstream)",
        less,
        less is not None and less >= TARGET_SPEEDUP,
        f"{less:.2f}x less (+{ours:.2f} vs +{theirs:.2f} ms)" if less is not None else "",
    )
    ratios = report.get("throughput", {}).get("ratios", {})
    for key, floor, what in (
        ("stateless_vs_sdk", TARGET_VS_SDK, "stateless gateway vs the stock SDK server"),
        ("proxied_vs_direct", TARGET_PROXIED, "proxied vs direct throughput, HTTP upstream"),
    ):
        ratio = ratios.get(key)
        add(
            f"{what} ≥ {floor:g}x",
            ratio,
            ratio is not None and ratio >= floor,
            f"{ratio:.2f}x" if ratio is not None else "",
        )
    for mode in report.get("throughput", {}).get("modes", []) or [{"mode": "?"}]:
        if mode["mode"] not in ("sessions", "stateless", "?"):
            continue
        rps = mode.get("rps")
        add(
            f"≥ {TARGET_RPS:g} req/s, built-in tool over Streamable HTTP ({mode['mode']})",
            rps,
            rps is not None and rps >= TARGET_RPS,
            f"{rps:.0f} req/s" if rps is not None else "",
        )
    return rows


def _print(report: dict[str, Any]) -> None:
    lat = report["latency"]
    if "error" in lat:
        print(f"tools/call latency: FAILED: {lat['error']}")
    else:
        print(
            f"tools/call latency of `echo`, {lat['calls']} interleaved calls per path after "
            f"{lat['warmup']} warm-up\nclient: {lat['client']}"
        )
        print(
            f"{'path':<20}{'upstream':<10}{'p50 ms':>8}{'p99 ms':>8}{'+p50 ms':>9}{'x direct':>9}"
        )
        notes = []
        for p in lat["paths"]:
            start = f"{p['label']:<20}{p['upstream']:<10}"
            if p.get("note") and p["note"] not in notes:
                notes.append(p["note"])
            if "error" in p:
                print(f"{start}unavailable: {p['error']}")
                continue
            bare = p["path"] == "direct" or p["path"].startswith("builtin")  # nothing to add to
            added = "" if bare else f"{p['added_p50_ms']:+.2f}"
            print(f"{start}{p['p50_ms']:>8.2f}{p['p99_ms']:>8.2f}{added:>9}{p['x_direct']:>9.2f}")
        for note in notes:
            print(f"  {note}")
        for v in lat["versus_llmspell"]:
            x, name = v["x_llmspell"], v["proxy"].rsplit("-", 1)[0]
            verdict = (
                f"llmspell is {x:.2f}x faster than {name}"
                if x >= 1
                else f"{name} is {1 / x:.2f}x faster than llmspell"
            )
            print(f"{verdict} (p50, both with a {v['upstream']} upstream)")

    thr = report["throughput"]
    print()
    if "error" in thr:
        print(f"throughput: FAILED: {thr['error']}")
    else:
        print(
            f"throughput: `calculator` {json.dumps(thr['arguments'])} over Streamable HTTP, "
            f"{thr['clients']} concurrent clients, {thr['seconds']:g} s per mode"
        )
        if "note" in thr:
            print(thr["note"])
        print(
            f"{'gateway mode':<21}{'req/s':>8}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}"
            f"{'errors':>8}  load generator"
        )
        for m in thr["modes"]:
            if "error" in m:
                print(f"{m['mode']:<21}unavailable: {m['error']}")
                continue
            print(
                f"{m['mode']:<21}{m['rps']:>8.0f}{m['p50_ms']:>8.2f}{m['p90_ms']:>8.2f}"
                f"{m['p99_ms']:>8.2f}{m['errors']:>8}  {m['generator']}"
            )

        labels = {
            "stateless_vs_sdk": "stateless gateway / stock SDK server (calculator)",
            "proxied_vs_direct": "peer echo through the gateway / direct (HTTP upstream)",
            "sessions_lean_vs_sdk_srv": "sessions, lean downstream leg on / off",
            "stateless_lean_vs_sdk_srv": "stateless, lean downstream leg on / off",
            "proxied_lean_vs_sdk_srv": "proxied, lean downstream leg on / off",
        }
        for key, ratio in thr.get("ratios", {}).items():
            print(f"  {labels[key]}: {ratio:.2f}x")

    print()
    pipe = report["pipeline"]
    if isinstance(pipe, dict):
        print(f"pipeline overhead: FAILED: {pipe['error']}")
    else:
        print_overhead(pipe)

    print("\ntargets (reported, not asserted)")
    for t in report["targets"]:
        print(f"  {t['status']:<5} {t['target']}: {t['value']}")


def run(
    runs: int = 15,
    calls: int = 500,
    clients: int = 32,
    duration: float = 10.0,
    json_output: bool = False,
) -> int:
    report: dict[str, Any] = {
        "suite": "gateway",
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    sections = (
        ("latency", lambda: latency_section(calls)),
        ("throughput", lambda: throughput_section(clients, duration)),
        ("pipeline", lambda: pipeline_overhead(runs)),
    )
    failed = False
    for name, measure in sections:
        try:
            report[name] = measure()
        except Exception as exc:
            failed = True
            report[name] = {"error": _why(exc)}
    report["targets"] = _targets(report)
    if json_output:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        _print(report)
    return 1 if failed else 0
