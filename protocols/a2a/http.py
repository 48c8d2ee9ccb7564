"""A2A over HTTP: what the SDK's routes leave to the server. Bodies are checked before the
SDK parses them (JSON, UTF-8, no lone surrogates or NaN: a malformed body is the client's error,
never a 500), and HTTP+JSON answers carry the binding's media type and the status codes of
the spec's error table (section 5.4)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..asgi import read_body


def _content_type(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == b"content-type":
            return str(value.decode("latin-1").partition(";")[0].strip().lower())
    return ""


def _unsupported_media(scope: Scope, jsonrpc: bool) -> JSONResponse | None:
    """A POST whose body says it is not JSON gets ContentTypeNotSupportedError before the body
    is parsed: JSON-RPC code -32005, or HTTP 415 on HTTP+JSON (an absent type is let through)."""
    media = _content_type(scope)
    if scope.get("method") != "POST" or not media:
        return None
    if media == "application/json" or media.endswith("+json"):
        return None
    message = f"Content-Type {media} is not supported: send application/json"
    return _refusal(jsonrpc, -32005, 415, "CONTENT_TYPE_NOT_SUPPORTED", message, rpc_status=415)


async def guarded(app: ASGIApp, jsonrpc: bool, scope: Scope, receive: Receive, send: Send) -> None:
    """Request bodies must be JSON; HTTP+JSON answers as `application/json`, the binding's
    media type (spec section 11.1), with the spec's status codes."""
    refused = _unsupported_media(scope, jsonrpc)
    if refused is not None:
        await refused(scope, receive, send)
        return
    if scope.get("method") in ("POST", "PUT", "PATCH"):
        body = await read_body(receive)
        if body.disconnected:
            return
        problem = malformed(body.data)
        if problem is not None:
            await _bad_body(problem, jsonrpc)(scope, receive, send)
            return
        receive = body.replay(receive)
    await app(scope, receive, send if jsonrpc else _SpecStatus(send))


def malformed(body: bytes) -> str | None:
    """Why a body is not a JSON document the SDK can take, or None. The SDK answers these with
    a 500 (or -32603) today: not UTF-8, NaN or Infinity (which Python's json reads), lone
    surrogates (its replies echo them and then cannot be encoded), nesting or numbers too big
    to parse. An empty body is the SDK's to refuse."""
    if not body.strip():
        return None
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    except RecursionError:
        return "the body is nested too deeply"
    except ValueError as exc:
        return f"the body is not JSON: {exc}"
    if "\\u" in text or "\\U" in text:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return "the body has a lone surrogate (an unpaired \\ud800-\\udfff escape)"
        except (RecursionError, ValueError) as exc:
            return f"the body cannot be read: {exc}"
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _bad_body(problem: str, jsonrpc: bool) -> JSONResponse:
    """JSON-RPC's parse error, or HTTP+JSON's 400 INVALID_ARGUMENT with ErrorInfo."""
    if jsonrpc:
        problem = f"Parse error: {problem}"
    return _refusal(jsonrpc, -32700, 400, "INVALID_REQUEST", problem, rpc_status=200)


def _refusal(
    jsonrpc: bool, code: int, status: int, reason: str, message: str, *, rpc_status: int
) -> JSONResponse:
    """A request refused before the SDK saw it: a JSON-RPC error (`code`, HTTP `rpc_status`),
    or the HTTP+JSON error (AIP-193, HTTP `status`) with the A2A ErrorInfo `reason`."""
    if jsonrpc:
        error: dict[str, Any] = {"code": code, "message": message}
        return JSONResponse({"jsonrpc": "2.0", "id": None, "error": error}, rpc_status)
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "a2a-protocol.org",
        "metadata": {},
    }
    error = {"code": status, "status": "INVALID_ARGUMENT", "message": message, "details": [info]}
    return JSONResponse({"error": error}, status_code=status)


SPEC_HTTP_STATUS = {
    b"TASK_NOT_CANCELABLE": 409,
    b"CONTENT_TYPE_NOT_SUPPORTED": 415,
    b"INVALID_AGENT_RESPONSE": 502,
}
"""HTTP statuses of the spec's error table (section 5.4) where the SDK answers 400 or 500."""


class _SpecStatus:
    """Relabels HTTP+JSON responses: `application/json` for the SDK's `application/a2a+json`,
    and the spec's status for an A2A error (read from its ErrorInfo reason; error bodies are
    small, so they are held until complete)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [
                (k, b"application/json")
                if k == b"content-type" and v.startswith(b"application/a2a+json")
                else (k, v)
                for k, v in message.get("headers", ())
            ]
            if message["status"] in (400, 500):
                self.start = message
                return
        elif message["type"] == "http.response.body" and self.start is not None:
            self.body += message.get("body", b"")
            if message.get("more_body"):
                return
            start, self.start = self.start, None
            reason = next((r for r in SPEC_HTTP_STATUS if b'"%s"' % r in self.body), None)
            if reason is not None:
                start["status"] = SPEC_HTTP_STATUS[reason]
                self.body = _with_code(self.body, start["status"])
                start["headers"] = [
                    (k, str(len(self.body)).encode()) if k == b"content-length" else (k, v)
                    for k, v in start["headers"]
                ]
            await self.send(start)
            message = {**message, "body": self.body}
        await self.send(message)


def _with_code(body: bytes, status: int) -> bytes:
    """The AIP-193 body's `error.code` is the HTTP status: keep them equal when relabelling."""
    try:
        document = json.loads(body)
        document["error"]["code"] = status
    except (ValueError, KeyError, TypeError):
        return body
    return json.dumps(document, separators=(",", ":")).encode()


def with_headers(send: Send, headers: list[tuple[bytes, bytes]]) -> Send:
    async def add(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), *headers]
        await send(message)

    return add
