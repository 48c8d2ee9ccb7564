"""Resumable Streamable HTTP across replicas: the SDK's EventStore port on Redis streams.

Each SSE stream is one Redis stream (`{prefix}:events:{stream id}`), capped at `capacity`
entries and expiring `ttl` seconds after its last event, so nothing grows without end. An event
id is `{stream id}/{Redis entry id}`: any replica that receives `Last-Event-ID` finds the stream
and replays what came after it, in order.
"""

from __future__ import annotations

from typing import Any

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage, jsonrpc_message_adapter

PRIMING = b""
"""What a priming event (no message) is stored as."""


class RedisEventStore(EventStore):
    def __init__(
        self, redis: Any, *, prefix: str = "llmspell", capacity: int = 1000, ttl: int = 3600
    ) -> None:
        self.redis = redis
        """A `redis.asyncio.Redis` client (the cluster's)."""
        self.prefix = prefix
        self.capacity = capacity
        self.ttl = ttl

    def _key(self, stream_id: StreamId) -> str:
        return f"{self.prefix}:events:{stream_id}"

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        data = PRIMING if message is None else _dump(message)
        key = self._key(stream_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(key, {"m": data}, maxlen=self.capacity, approximate=True)
            pipe.expire(key, self.ttl)
            entry, _ = await pipe.execute()
        return f"{stream_id}/{_text(entry)}"

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        stream_id, slash, entry = last_event_id.rpartition("/")
        if not slash or not stream_id:
            return None
        key = self._key(stream_id)
        try:
            found = await self.redis.xrange(key, min=entry, max=entry)
        except Exception:  # a malformed id from the client: redis-py's ResponseError
            return None
        if not found:
            return None  # expired or trimmed: the client starts over
        cursor = entry
        while True:
            batch = await self.redis.xrange(key, min=f"({cursor}", max="+", count=100)
            if not batch:
                return stream_id
            for entry_id, fields in batch:
                cursor = _text(entry_id)
                data = fields.get(b"m", fields.get("m", PRIMING))
                if data not in (PRIMING, ""):
                    message = jsonrpc_message_adapter.validate_json(data)
                    await send_callback(EventMessage(message, f"{stream_id}/{cursor}"))


def _dump(message: JSONRPCMessage) -> bytes:
    return jsonrpc_message_adapter.dump_json(message, by_alias=True, exclude_unset=True)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
