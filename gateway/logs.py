"""Log lines as text or JSON, each tagged with the request id, and one access line per HTTP
request. Never logged: request bodies, tool arguments and results, headers (so no tokens or
API keys), and upstream `env`/`headers` values."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from llmspell.protocols.asgi import caller
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import LoggingConfig

request_id: ContextVar[str | None] = ContextVar("llmspell_request_id", default=None)
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_logger = logging.getLogger("llmspell.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id.get()
        if rid:
            line["request_id"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"llmspell: {record.getMessage()}"
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            shown = getattr(record, "shown", ())
            text += "".join(f" {k}={v}" for k, v in fields.items() if k not in shown)
        rid = request_id.get()
        if rid:
            text += f" request_id={rid}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure(config: LoggingConfig) -> None:
    """The `llmspell` and `uvicorn` loggers to stderr (stdout may be the MCP stdio channel), in
    one format. The access log is on or off by its logger's level, which stays as set here
    (serve.py keeps uvicorn from applying a logging config of its own)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if config.format == "json" else TextFormatter())
    for name, level in (("llmspell", config.level.upper()), ("uvicorn", "WARNING")):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    access_logger.setLevel(logging.INFO if config.access else logging.WARNING)


class AccessLog:
    """Outermost middleware: gives each request an id (a sane incoming `X-Request-Id` is kept),
    returns it in `X-Request-Id`, and logs one line when the response is done."""

    def __init__(self, app: ASGIApp, on_response: Any = None) -> None:
        self.app = app
        self.on_response = on_response
        """Called with (method, status) per response: the metrics counter."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        rid = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            identity = caller(scope)
            if self.on_response is not None:
                self.on_response(scope["method"], status)
            if access_logger.isEnabledFor(logging.INFO):
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                }
                if identity is not None:
                    fields["subject"] = identity.subject
                access_logger.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={"fields": fields, "shown": ("method", "path", "status")},
                )
            request_id.reset(token)
