"""Resumable Streamable HTTP: the SDK defines the EventStore port and leaves storage to us.

Kept in memory and bounded: a client that reconnects within the last `capacity` events resumes
where it left off (SEP-1699 polling), older streams are forgotten rather than grow without end.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp_types import JSONRPCMessage


class MemoryEventStore(EventStore):
    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._ids = itertools.count(1)
        self._events: OrderedDict[int, tuple[StreamId, JSONRPCMessage | None]] = OrderedDict()

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = next(self._ids)
        self._events[event_id] = (stream_id, message)
        while len(self._events) > self.capacity:
            self._events.popitem(last=False)
        return str(event_id)

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        try:
            after = int(last_event_id)
        except ValueError:
            return None
        found = self._events.get(after)
        if found is None:
            return None
        stream_id = found[0]
        for event_id, (stream, message) in list(self._events.items()):
            if event_id > after and stream == stream_id and message is not None:
                await send_callback(EventMessage(message, str(event_id)))
        return stream_id
