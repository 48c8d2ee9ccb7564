"""A2A tasks across gateway replicas, through Redis (`[cluster] redis`).

The SDK's request handler already knows about replicas: it takes a `TaskEventStream`, to which
the replica running a task publishes every event it applies, and from which a replica without
the task serves a resubscription (the stored task, then the stream until the task ends).
`TaskEvents` is that stream on Redis pub/sub, so the SDK keeps owning resubscription.

What the SDK does not do is stop the call: its cancel of a task running elsewhere only writes
`canceled` to the store, and the running replica would notice at its next write (a quiet call
runs on, then overwrites the task as completed). So `ReplicaRequestHandler` publishes such a
cancel on `{prefix}:cancel`; every replica listens (one subscriber per process, `Replicas.start`)
and cancels the invocation it runs for that task, which the executor then ends `canceled` as
the task's owner: the store, the owner's streams and its push notifications (sent by the owner
only, so once) all see it. The asking replica answers when the store shows the end, or, when no
replica stopped the task within `CANCEL_WAIT`, falls back to the SDK's write.

The Redis client is the gateway's (`Cluster.redis`); nothing here imports redis-py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from a2a.server.agent_execution.active_task import TERMINAL_TASK_STATES
from a2a.server.cluster import TaskEventStream, TaskVersion, VersionedEvent
from a2a.server.context import ServerCallContext
from a2a.server.request_handlers import DefaultRequestHandlerV2
from a2a.types import CancelTaskRequest, StreamResponse, Task, TaskState, TaskStatusUpdateEvent
from a2a.utils.errors import TaskNotCancelableError
from a2a.utils.proto_utils import to_stream_response
from google.protobuf.json_format import MessageToJson, Parse

if TYPE_CHECKING:
    import redis.asyncio
    from a2a.server.events import Event

logger = logging.getLogger("llmspell.a2a.replicas")

CANCEL_WAIT = 5.0
"""Seconds a cancel waits for the replica running the task to end it in the store."""
POLL = 0.05
"""Seconds between store reads while it waits."""
RETRY = 2.0
"""Seconds before the cancel listener resubscribes after losing Redis."""
ENDED_KEPT = 600
"""Seconds a task's terminal event stays readable for a resubscriber that came just too late."""
OUTBOX = 10_000
"""Task events waiting to be published, at most; more are dropped (Redis is away)."""
BATCH = 100
"""Events sent in one pipeline, at most."""


def _event(payload: bytes | str) -> Event:
    """An SDK event from the JSON of its `StreamResponse`."""
    response = Parse(payload, StreamResponse())
    which = response.WhichOneof("payload")
    if which is None:
        raise ValueError("a task event with no payload")
    event: Event = getattr(response, which)
    return event


def _ends(event: Event) -> bool:
    return (
        isinstance(event, Task | TaskStatusUpdateEvent)
        and event.status.state in TERMINAL_TASK_STATES
    )


class TaskEvents(TaskEventStream):
    """A task's events on `{prefix}:task:{id}`, as the JSON of the SDK's `StreamResponse`.

    Pub/sub keeps nothing, and the SDK reads its snapshot before it subscribes; so a terminal
    event is also kept (`…:end`, `ENDED_KEPT` seconds) and a subscriber reads it once its
    subscription stands: a task that ended in between still ends the stream. The store is not
    versioned, so events carry `TaskVersion.MISSING` (which the SDK passes through).

    Publishing is off the task's path: the SDK awaits `publish` before it takes the next event,
    so events go through an outbox that one sender drains in order, a pipeline per batch.
    """

    def __init__(self, redis: redis.asyncio.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._outbox: asyncio.Queue[tuple[str, str, bool]] = asyncio.Queue(OUTBOX)
        self._sender: asyncio.Task[None] | None = None

    def channel(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}"

    async def publish(self, task_id: str, event: VersionedEvent) -> None:
        """Best effort: Redis being away or slow must not fail or slow the task running here
        (a full outbox drops the event, and says so)."""
        payload = MessageToJson(to_stream_response(event.event), indent=None)
        if self._sender is None:
            self._sender = asyncio.create_task(self._send(), name="a2a task events")
        try:
            self._outbox.put_nowait((self.channel(task_id), payload, _ends(event.event)))
        except asyncio.QueueFull:
            logger.warning("a2a: task %s event not published: the outbox is full", task_id)

    async def _send(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < BATCH:
                batch.append(self._outbox.get_nowait())
            try:
                if len(batch) == 1 and not batch[0][2]:  # the common case: one plain PUBLISH
                    await self.redis.publish(batch[0][0], batch[0][1])
                    continue
                async with self.redis.pipeline(transaction=False) as pipe:
                    for channel, payload, ends in batch:
                        if ends:  # before the publish: see the class docstring
                            pipe.set(f"{channel}:end", payload, ex=ENDED_KEPT)
                        pipe.publish(channel, payload)
                    await pipe.execute()
            except Exception as exc:  # redis-py's ConnectionError, TimeoutError
                logger.warning("a2a: %d task events not published: %s", len(batch), exc)
            finally:
                for _ in batch:
                    self._outbox.task_done()

    async def subscribe(
        self, task_id: str, *, after: TaskVersion
    ) -> AsyncGenerator[VersionedEvent, None]:
        channel = self.channel(task_id)
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(channel)
            async for message in pubsub.listen():  # the confirmation: the subscription stands
                if message.get("type") == "subscribe":
                    break
            ended = await self.redis.get(f"{channel}:end")
            if ended is not None:
                yield VersionedEvent(_event(ended), TaskVersion.MISSING)
                return
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield VersionedEvent(_event(message["data"]), TaskVersion.MISSING)

    async def destroy(self, task_id: str) -> None:
        """Nothing to release: a channel lives while someone listens, the end key expires."""

    async def aclose(self) -> None:
        """Send what is waiting (briefly), then stop the sender."""
        if self._sender is None:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1):
                await self._outbox.join()
        self._sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._sender
        self._sender = None


class Replicas:
    """This process's part in the replicas' A2A: the event stream its handlers share, the
    cancel channel, and the one listener on it."""

    def __init__(self, redis: redis.asyncio.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.events = TaskEvents(redis, prefix)
        self._listener: asyncio.Task[None] | None = None

    @property
    def cancels(self) -> str:
        return f"{self.prefix}:cancel"

    def handler(self, **kwargs: Any) -> ReplicaRequestHandler:
        """The SDK's handler for one endpoint, with the shared event stream."""
        return ReplicaRequestHandler(replicas=self, event_stream=self.events, **kwargs)

    def start(self, stop: Callable[[str], object]) -> None:
        """Listen for cancels from every replica: `stop(task_id)` for each (a task not running
        here is simply not found)."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._follow(stop), name="a2a cancel listener")

    async def ask_cancel(self, task_id: str) -> None:
        await self.redis.publish(self.cancels, task_id)

    async def _follow(self, stop: Callable[[str], object]) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.cancels)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            data = message["data"]
                            stop(data.decode() if isinstance(data, bytes) else str(data))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("a2a: cancel channel lost (%s); retrying", exc)
                await asyncio.sleep(RETRY)

    async def aclose(self) -> None:
        """Stop listening and publishing; the Redis client is the gateway's and stays open."""
        await self.events.aclose()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None


class ReplicaRequestHandler(DefaultRequestHandlerV2):
    """The SDK's handler, but a cancel for a task this endpoint does not hold reaches the
    replica (or endpoint) that runs it, through Redis."""

    def __init__(self, *, replicas: Replicas, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.replicas = replicas

    async def on_cancel_task(
        self, params: CancelTaskRequest, context: ServerCallContext
    ) -> Task | None:
        if not await self._held_here(params.id, context):
            ended = await self._cancel_elsewhere(params.id, context)
            if ended is not None:
                return ended
        # Held here (the SDK's local cancel), unknown or ended (the SDK's errors), or no
        # replica ran it (it waits for input, or its replica is gone: the SDK's store write).
        task: Task | None = await super().on_cancel_task(params, context)
        return task

    async def _held_here(self, task_id: str, context: ServerCallContext) -> bool:
        """True when the SDK should answer alone: this endpoint holds the task, or the store
        (owner-scoped, as the SDK reads it) has no task to cancel."""
        if await self._active_task_registry.get(task_id) is not None:
            return True
        stored = await self._versioned_store.get(task_id, context)
        return stored is None or stored.task.status.state in TERMINAL_TASK_STATES

    async def _cancel_elsewhere(self, task_id: str, context: ServerCallContext) -> Task | None:
        """Ask every replica to stop the task; its end as the store shows it, or None when no
        replica stopped it in time."""
        try:
            await self.replicas.ask_cancel(task_id)
        except Exception as exc:
            logger.warning("a2a: cancel of %s not published: %s", task_id, exc)
            return None
        ended = await self._ended(task_id, context)
        if ended is not None and ended.status.state != TaskState.TASK_STATE_CANCELED:
            raise TaskNotCancelableError  # it finished first
        return ended

    async def _ended(self, task_id: str, context: ServerCallContext) -> Task | None:
        """The task once the store shows it ended, or None after `CANCEL_WAIT`."""
        deadline = time.monotonic() + CANCEL_WAIT
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL)
            stored = await self._versioned_store.get(task_id, context)
            if stored is not None and stored.task.status.state in TERMINAL_TASK_STATES:
                return stored.task
        return None
