"""Two gateway replicas behind HAProxy (deploy/haproxy.cfg), 20 concurrent MCP SDK clients
calling tools for 30 s, while replica A is SIGKILLed and started again on the same port.

- Stateless clients (the 2026-07-28 era: no session) go to any replica: each sees at most one
  failed call (one in flight on A when it died) and then goes on succeeding.
- Session clients are routed back to the replica that opened their session. Those on A get a
  clear error (the balancer's 502, or the spec's 404 "session not found" from B once their
  requests are redispatched) and open a new session, which works.
- No call hangs (each has a deadline far above any normal call), and the test prints counts.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from haproxy_server import running_haproxy
from mcp import Client
from mcpserver.conftest import HttpPeer, free_port

CLIENTS = 20
RUN = 30.0
KILL_AT, RESTART_AT = 8.0, 12.0
DEADLINE = 20.0
"""Seconds a call may take before it counts as a hang."""


@dataclass
class Seen:
    ok: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    reopened: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    hangs: list[str] = field(default_factory=list)
    last_ok: dict[str, float] = field(default_factory=dict)


def replica(tmp: Path, name: str) -> HttpPeer:
    folder = tmp / name
    folder.mkdir()
    (folder / "llmspell.toml").write_text("[a2a]\nenabled = false\n")
    port = free_port()
    command = [sys.executable, "-m", "llmspell", "gateway", "--config",
               str(folder / "llmspell.toml"), "--port", str(port), "--quiet"]  # fmt: skip
    return HttpPeer(command, port, {})


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, HttpPeer, HttpPeer]]:
    a, b = replica(tmp_path, "a"), replica(tmp_path, "b")
    try:
        a.start()
        b.start()
        addresses = (f"127.0.0.1:{a.port}", f"127.0.0.1:{b.port}")
        with running_haproxy(free_port(), *addresses, log=tmp_path / "haproxy.log") as base:
            yield f"{base}/mcp", a, b
    finally:
        a.kill()
        b.kill()


def kind(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {str(exc)[:80]}"


async def client(url: str, name: str, stateless: bool, stop: asyncio.Event, seen: Seen) -> None:
    n = 0
    while not stop.is_set():
        try:
            mode = "auto" if stateless else "legacy"
            async with Client(url, mode=mode) as session:
                while not stop.is_set():
                    n += 1
                    try:
                        result = await asyncio.wait_for(
                            session.call_tool("calculator", {"expression": f"{n} * 2"}), DEADLINE
                        )
                    except TimeoutError:
                        seen.hangs.append(f"{name} call {n}")
                        raise
                    text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
                    assert not result.is_error and text == str(n * 2), text
                    seen.ok[name] += 1
                    seen.last_ok[name] = time.monotonic()
                    await asyncio.sleep(0.02)
        except (Exception, ExceptionGroup) as exc:
            if isinstance(exc, AssertionError):
                raise
            seen.failed[name] += 1
            seen.errors[kind(exc)] += 1
            if not stateless:
                seen.reopened[name] += 1
            await asyncio.sleep(0.1)


async def flap(url: str, a: HttpPeer) -> Seen:
    seen, stop = Seen(), asyncio.Event()
    names = [f"{'stateless' if i % 2 else 'session'}-{i}" for i in range(CLIENTS)]
    tasks = [
        asyncio.create_task(client(url, name, name.startswith("stateless"), stop, seen))
        for name in names
    ]
    started = time.monotonic()
    await asyncio.sleep(KILL_AT)
    a.kill()  # SIGKILL: no shutdown, sessions gone
    await asyncio.sleep(RESTART_AT - KILL_AT)
    await asyncio.to_thread(a.start)
    await asyncio.sleep(RUN - (time.monotonic() - started))
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE + 10)
    seen.last_ok = {k: v - started for k, v in seen.last_ok.items()}
    return seen


def test_replicas_behind_haproxy_survive_a_sigkill(cluster: tuple[str, HttpPeer, HttpPeer]) -> None:
    url, a, _ = cluster
    seen = asyncio.run(flap(url, a))
    stateless = {k: v for k, v in seen.ok.items() if k.startswith("stateless")}
    sessions = {k: v for k, v in seen.ok.items() if k.startswith("session")}
    print(f"\ncalls ok: stateless {sum(stateless.values())}, sessions {sum(sessions.values())}")
    print(f"failed calls: {dict(seen.failed)}; sessions reopened: {dict(seen.reopened)}")
    print(f"errors: {dict(seen.errors)}")
    assert not seen.hangs, seen.hangs
    assert len(seen.ok) == CLIENTS  # every client got calls through
    for name in seen.ok:
        if name.startswith("stateless"):
            assert seen.failed[name] <= 1, (name, seen.failed[name])
        assert seen.last_ok[name] > RUN - 3, (name, seen.last_ok[name])  # still working at the end
    assert sum(seen.reopened.values()) >= 1, "no session was on the killed replica"
