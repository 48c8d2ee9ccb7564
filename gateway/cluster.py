"""Replicas sharing what they must through Redis (`[cluster] redis = "redis://..."`).

One `Cluster` per gateway process holds the Redis client the shared pieces use (the rate
limiter, and the pieces that follow it), and a heartbeat: every `HEARTBEAT` seconds the replica
writes `{prefix}:replica:{id}` (what it serves, when it started) with a time to live of three
beats, so `/readyz` lists the replicas alive now and a dead one drops out by itself.

redis-py's asyncio client is imported only when a cluster is configured (the `cluster` extra).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from llmspell.runtime import ErrorCode, LLMSpellError

if TYPE_CHECKING:
    import redis.asyncio
    from mcp.server.streamable_http import EventStore

logger = logging.getLogger("llmspell.cluster")

LEASE_KEPT = 3600
"""Seconds a taken tick is remembered."""
HEARTBEAT = 2.0
"""Seconds between a replica's heartbeats; it is listed for three of them after the last."""


class Cluster:
    def __init__(self, url: str, *, prefix: str = "llmspell", replica: str | None = None) -> None:
        try:
            import redis.asyncio
        except ImportError:
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                "[cluster] redis needs the redis client: pip install 'llmspell[cluster]'",
            ) from None
        self.url = url
        self.prefix = prefix
        self.replica = replica or f"{socket.gethostname()}-{os.getpid()}"
        self.redis: redis.asyncio.Redis = redis.asyncio.from_url(
            url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10
        )
        self.info: dict[str, Any] = {"replica": self.replica, "started": time.time()}
        """What the heartbeat says of this replica; `announce` adds where it serves."""
        self._beat: asyncio.Task[None] | None = None

    def key(self, *parts: str) -> str:
        """A key in this deployment's namespace: `{prefix}:{part}:{part}...`."""
        return ":".join((self.prefix, *parts))

    async def start(self) -> None:
        """Reach Redis once (a wrong URL stops the start, with the reason), then beat."""
        try:
            await self.redis.ping()
        except Exception as exc:  # redis-py's ConnectionError, TimeoutError, AuthenticationError
            await self.redis.aclose()
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE, f"[cluster] redis {_shown(self.url)}: {exc}"
            ) from exc
        await self._heartbeat()
        self._beat = asyncio.create_task(self._beating(), name="cluster heartbeat")

    async def announce(self, url: str) -> None:
        """Where this replica serves, for its peers' `/readyz` (said at once)."""
        self.info["url"] = url
        with contextlib.suppress(Exception):  # the next beat says it if Redis is away now
            await self._heartbeat()

    async def _heartbeat(self) -> None:
        value = json.dumps({**self.info, "seen": time.time()})
        await self.redis.set(self.key("replica", self.replica), value, ex=int(HEARTBEAT * 3))

    async def _beating(self) -> None:
        down = False
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self._heartbeat()
            except Exception as exc:
                if not down:
                    logger.warning("cluster: redis %s unreachable: %s", _shown(self.url), exc)
                down = True
            else:
                if down:
                    logger.warning("cluster: redis %s reachable again", _shown(self.url))
                down = False

    def events(self) -> EventStore:
        """The MCP event store every replica reads: a stream resumes wherever it lands."""
        from llmspell.protocols.mcp.redis_events import RedisEventStore

        return RedisEventStore(self.redis, prefix=self.prefix)

    async def lease(self, job: str, due: datetime) -> bool:
        """Take the tick of `job` due at `due` for this replica; False if another took it.
        Every replica computes the same due times (cron, or `every` from the epoch), so the
        first to ask wins; the key stays an hour to outlive any clock skew."""
        key = self.key("lease", job, str(int(due.timestamp() * 1000)))
        return bool(await self.redis.set(key, self.replica, nx=True, ex=LEASE_KEPT))

    async def tell_reloaded(self) -> None:
        """Tell the other replicas this one reloaded its config (`SIGHUP`)."""
        try:
            await self.redis.publish(self.key("reloads"), self.replica)
        except Exception as exc:
            logger.warning("cluster: could not tell the replicas of the reload: %s", exc)

    async def follow_reloads(self, reload: Callable[[str], Awaitable[None]]) -> None:
        """Call `reload(replica)` whenever another replica says it reloaded, until cancelled;
        a lost Redis connection is retried every few seconds."""
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.key("reloads"))
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        sender = _text(message["data"])
                        if sender != self.replica:
                            await reload(sender)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("cluster: reload channel lost (%s); retrying", exc)
                await asyncio.sleep(HEARTBEAT)

    async def peers(self) -> list[dict[str, Any]]:
        """The replicas whose heartbeat is current, this one included, by id."""
        found = []
        async for key in self.redis.scan_iter(match=self.key("replica", "*"), count=100):
            raw = await self.redis.get(key)
            if raw is not None:
                with contextlib.suppress(ValueError):
                    found.append(json.loads(raw))
        return sorted(found, key=lambda p: str(p.get("replica")))

    async def aclose(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
            with contextlib.suppress(Exception):  # leaving: peers need not wait for the TTL
                await self.redis.delete(self.key("replica", self.replica))
        await self.redis.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _shown(url: str) -> str:
    from llmspell.adapters.state.postgres import shown

    return shown(url)
