"""The runtime's `Peer` for a call that came in over MCP: sampling and elicitation go back to the
client on the request's own stream, logs become `notifications/message` in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import mcp_types as types
from llmspell.runtime.peer import LOG_LEVELS, ElicitReply, Feature, SamplingReply, SamplingRequest
from mcp.server.connection import allowed_log_levels
from mcp.server.context import ServerRequestContext
from mcp.shared.message import ServerMessageMetadata
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from . import translate

logger = logging.getLogger(__name__)


class McpPeer:
    def __init__(self, ctx: ServerRequestContext[Any, Any], level: Callable[[], str]) -> None:
        self._ctx = ctx
        self._level = level
        self._allowed = allowed_log_levels(ctx.protocol_version, (ctx.params or {}).get("_meta"))
        # From 2026-07-28 the request's own `_meta` opt-in sets the level; before, the
        # connection's logging/setLevel does.
        self._modern = ctx.protocol_version in MODERN_PROTOCOL_VERSIONS
        self._sending: asyncio.Future[None] | None = None

    def supports(self, feature: Feature) -> bool:
        """Sampling and elicitation need a client that offers them and a channel to ask on
        (2026-07-28 requests have none: they would need a multi-round-trip retry)."""
        caps = self._ctx.session.client_capabilities
        if feature != "logging" and not self._ctx.session.can_send_request:
            return False
        if feature == "sampling":
            return caps is not None and caps.sampling is not None
        if feature == "elicitation":
            return caps is not None and caps.elicitation is not None
        return True

    async def sample(self, request: SamplingRequest) -> SamplingReply:
        result = await self._ctx.session.send_request(
            types.CreateMessageRequest(params=translate.sampling_params(request)),
            types.CreateMessageResult,
            metadata=ServerMessageMetadata(related_request_id=self._ctx.request_id),
        )
        return translate.sampling_reply(result)

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitReply:
        result = await self._ctx.session.send_request(
            types.ElicitRequest(
                params=types.ElicitRequestFormParams(
                    message=message,
                    requested_schema=schema,
                )
            ),
            types.ElicitResult,
            metadata=ServerMessageMetadata(related_request_id=self._ctx.request_id),
        )
        return translate.elicit_reply(result)

    def log(self, level: str, data: Any, logger_name: str | None = None) -> None:
        if level not in self._allowed:
            return
        if not self._modern and _rank(level) < _rank(self._level()):
            return
        note = types.LoggingMessageNotification(
            params=types.LoggingMessageNotificationParams(
                level=level,
                data=data,
                logger=logger_name,
            )
        )
        # Chained so messages leave in the order the script logged them.
        self._sending = asyncio.ensure_future(self._send_after(self._sending, note))

    async def _send_after(
        self, previous: asyncio.Future[None] | None, note: types.LoggingMessageNotification
    ) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        try:
            await self._ctx.session.send_notification(note, related_request_id=self._ctx.request_id)
        except Exception as exc:  # the client went away: logs are advisory
            logger.debug("log notification dropped: %s", exc)

    async def flush(self) -> None:
        """Wait until queued logs are sent, so they reach the client before the result."""
        if self._sending is not None:
            with contextlib.suppress(Exception):
                await self._sending


def _rank(level: str) -> int:
    return LOG_LEVELS.index(level) if level in LOG_LEVELS else 1
