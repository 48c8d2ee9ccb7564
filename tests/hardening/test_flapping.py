"""A flapping upstream under load: a gateway federating the Python MCP peer over HTTP (its tools
as `peer.*`) plus the built-ins, while 20 concurrent SDK clients call `peer.echo` and
`calculator` for about 20 s and the peer is SIGKILLed and started again on the same port, four
times.

Every `calculator` call succeeds; every `peer.echo` call succeeds or is a clean tool error that
names the upstream (unavailable, connection lost, circuit open), never a protocol error, a hang
or a 5xx; the gateway is alive and its RSS did not balloon; once the peer stays up, `peer.echo`
works again within a few seconds (the breaker kicks the reconnect when it refuses a call).
One run, in a module fixture, feeds both tests."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import mcp_types as types
import pytest
from mcp import Client
from mcpserver.conftest import HttpPeer, RunningGateway, free_port, gateway, peers, py_peer

from .conftest import assert_serving, rss_mb, write_config

CLIENTS = 20
FLAPS = 4
DOWN = 1.0
"""Seconds the peer stays dead each time."""
UP = 3.0
"""Seconds it runs between restarts."""
CALL_TIMEOUT = 20.0
"""Longer than any call may take (upstream timeout 5 s, connect timeout 2 s): past it, a hang."""
RECOVERY = 5.0
"""Seconds after the last restart by which `peer.echo` should work again."""
EVENTUALLY = 40.0
"""...and by which it must: past the breaker's reset (30 s) and the longest backoff (30 s)."""
RSS_GROWTH_MB = 20.0
"""A warm gateway is about 85 MiB. What may grow during the run is bounded: the handshake-era
clients' event store fills up (10,000 events of about 1.3 KB: ~13 MiB, see test_load.py), and
each reconnect replaces the one upstream session. Keeping anything per failed call (about 10,000
a run) would show on top of that."""
CLEAN = re.compile(
    r"^upstream 'peer'( is unavailable: | lost the connection during 'echo' |: circuit )"
)


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningGateway, HttpPeer]]:
    tmp = tmp_path_factory.mktemp("flapping")
    with peers(py_peer(free_port())) as (peer,):
        config = f"""
[a2a]
enabled = false
[federation]
startup_wait = 30
[mcpServers.peer]
url = "{peer.url}"
timeout = 5
connect_timeout = 2
"""
        with gateway(config=write_config(tmp, config), cwd=tmp, timeout=60) as running:
            yield running, peer


@dataclass
class Run:
    """What one flapping run saw, checked by the tests below."""

    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    echoed_at: list[float] = field(default_factory=list)
    restarted_at: float = 0.0
    recovered_after: float | None = None
    """Seconds from the last restart to a working `peer.echo`, polled for up to `EVENTUALLY`
    once the clients stopped."""
    rss: tuple[float, float] = (0.0, 0.0)

    @property
    def first_echo(self) -> float | None:
        """Seconds from the last restart to the clients' first working `peer.echo`."""
        return next((t - self.restarted_at for t in self.echoed_at if t > self.restarted_at), None)


async def flap(running: RunningGateway, peer: HttpPeer) -> Run:
    run = Run()
    stop = asyncio.Event()

    async def client(index: int) -> None:
        n = 0
        try:
            async with Client(running.url, mode="legacy" if index % 2 else "auto") as session:
                while not stop.is_set():
                    n += 1
                    expression = f"{index} + {n}"
                    calc = await asyncio.wait_for(
                        session.call_tool("calculator", {"expression": expression}),
                        CALL_TIMEOUT,
                    )
                    expected = {"result": index + n, "expression": expression}
                    if calc.is_error or calc.structured_content != expected:
                        run.failures.append(f"calculator: {text(calc)}")
                    run.outcomes["calculator ok"] += 1
                    message = f"{index}-{n}"
                    echo = await asyncio.wait_for(
                        session.call_tool("peer.echo", {"message": message}), CALL_TIMEOUT
                    )
                    if not echo.is_error and text(echo) == f"Echo: {message}":
                        run.outcomes["echo ok"] += 1
                        run.echoed_at.append(time.monotonic())
                    elif echo.is_error and CLEAN.match(text(echo)):
                        run.outcomes["echo clean error"] += 1
                        run.errors[re.sub(r"\d+(\.\d+)?", "N", text(echo))[:110]] += 1
                    else:
                        run.failures.append(f"peer.echo: {echo}")
                    await asyncio.sleep(0.02)
        except Exception as exc:  # a protocol error, a 5xx, a hang: all failures
            run.failures.append(f"client {index}, call {n}: {exc!r}")

    pid = running.process.pid
    tasks = [asyncio.create_task(client(i)) for i in range(CLIENTS)]
    await asyncio.sleep(2.0)
    before = rss_mb(pid)
    for _ in range(FLAPS):
        peer.kill()
        await asyncio.sleep(DOWN)
        await asyncio.to_thread(peer.start)
        run.restarted_at = time.monotonic()
        await asyncio.sleep(UP)
    await asyncio.sleep(RECOVERY - UP + 1.0)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), CALL_TIMEOUT + 5)
    run.rss = (before, rss_mb(pid))

    async with Client(running.url) as session:
        while time.monotonic() - run.restarted_at < EVENTUALLY:
            final = await session.call_tool("peer.echo", {"message": "steady"})
            if not final.is_error and text(final) == "Echo: steady":
                run.recovered_after = time.monotonic() - run.restarted_at
                break
            await asyncio.sleep(0.5)
    return run


@pytest.fixture(scope="module")
def flapped(setup: tuple[RunningGateway, HttpPeer]) -> Run:
    run = asyncio.run(flap(*setup))
    print(f"\n{dict(run.outcomes)}; RSS {run.rss[0]:.1f} -> {run.rss[1]:.1f} MiB")
    print("clean errors seen:", dict(run.errors.most_common()))
    print(f"after the last restart: first echo under load at {run.first_echo} s;")
    print(f"  once the clients stopped, peer.echo worked at {run.recovered_after} s")
    return run


def test_calls_through_a_flapping_upstream(
    setup: tuple[RunningGateway, HttpPeer], flapped: Run
) -> None:
    running, _ = setup
    assert not flapped.failures, flapped.failures[:10]
    assert flapped.outcomes["echo clean error"] > 0, "the peer was never seen down"
    assert flapped.outcomes["echo ok"] > 0
    assert flapped.recovered_after is not None, f"peer.echo still failing {EVENTUALLY} s after"
    assert running.process.poll() is None
    before, after = flapped.rss
    assert after - before < RSS_GROWTH_MB, flapped.rss
    assert_serving(running.url)


def test_upstream_works_again_soon_after_the_flapping(flapped: Run) -> None:
    first = flapped.first_echo
    assert first is not None and first < RECOVERY, f"first echo {first} s after the last restart"
