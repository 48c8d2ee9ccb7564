"""`api-tester`: one HTTP request, any method, with headers, query and a JSON or text body;
answers with the status, headers, timing and body (parsed when it is JSON). Through the network
policy like every outbound request, redirects (when followed) hop by hop."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result
from llmspell.runtime.sandbox import NetworkPolicy

from .._common import answer, refuse, tool

NAME = "api-tester"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
MAX_TIMEOUT = 120.0
MAX_BODY = 10 * 1024 * 1024
"""Bytes read of a response at most; a JSON body over it is shown as truncated text."""
DEFAULT_CHARS = 20_000
MAX_CHARS = 1_000_000
SCALAR = {"type": ["string", "number", "boolean"]}


def _query(args: dict[str, Any]) -> list[tuple[str, str | int | float | bool | None]]:
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in args.get("query", {}).items():
        for item in value if isinstance(value, list) else [value]:
            text = json.dumps(item) if isinstance(item, bool) else str(item)
            pairs.append((key, text))
    return pairs


def _body(raw: bytes, content_type: str, more: bool, chars: int) -> tuple[Any, bool, bool]:
    """(body, is_json, truncated): parsed JSON when it says so and parses, else text."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if not more and (kind == "application/json" or kind.endswith("+json")):
        try:
            return json.loads(raw), True, False
        except ValueError:
            pass
    text = raw.decode("utf-8", "replace")
    return text[:chars], False, more or len(text) > chars


async def _send(policy: NetworkPolicy, args: dict[str, Any]) -> dict[str, Any]:
    import httpx

    from ..sandbox import network  # httpx only when a call runs

    url = network.http_url(NAME, args["url"])
    method = args.get("method", "GET")
    seconds = float(args.get("timeout", 30.0))
    content: dict[str, Any] = {}
    if "json" in args:
        content["json"] = args["json"]
    elif "body" in args:
        content["content"] = args["body"].encode()
    start = time.monotonic()
    try:
        async with (
            asyncio.timeout(network.seconds_left(seconds)),
            network.client(
                policy,
                timeout=network.seconds_left(seconds),
                follow_redirects=bool(args.get("follow_redirects", False)),
            ) as http,
            http.stream(
                method, url, params=_query(args), headers=args.get("headers", {}), **content
            ) as response,
        ):
            headers_ms = round((time.monotonic() - start) * 1000, 2)
            raw, more = await network.read_capped(response, MAX_BODY)
    except TimeoutError:
        raise LLMSpellError(
            ErrorCode.TIMEOUT, f"{NAME}: {method} {url} timed out after {seconds}s"
        ) from None
    except (httpx.HTTPError, LLMSpellError) as exc:
        raise network.failure(NAME, exc, what=f"{method} {url}:") from None
    total_ms = round((time.monotonic() - start) * 1000, 2)
    content_type = response.headers.get("content-type", "")
    chars = int(args.get("max_body_chars", DEFAULT_CHARS))
    body, is_json, truncated = _body(raw, content_type, more, chars)
    sent = (response.history[0] if response.history else response).request.url
    found: dict[str, Any] = {
        "method": method,
        "url": str(sent),
        "final_url": str(response.url),
        "status": response.status_code,
        "reason": response.reason_phrase,
        "ok": response.is_success,
        "headers": dict(response.headers),
        "content_type": content_type or None,
        "size": len(raw),
        "json": is_json,
        "body": body,
        "truncated": truncated,
        "timing": {"total_ms": total_ms, "headers_ms": headers_ms},
        "redirects": len(response.history),
    }
    if "expect_status" in args:
        found["passed"] = response.status_code == args["expect_status"]
    return found


def _summary(found: dict[str, Any]) -> str:
    size = f"{found['size']} bytes" + (", truncated" if found["truncated"] else "")
    kind = found["content_type"] or "no content type"
    line = (
        f"{found['method']} {found['url']} -> {found['status']} {found['reason']} in "
        f"{found['timing']['total_ms']} ms ({kind}, {size})"
    )
    if "passed" in found:
        line += "; expectation " + ("met" if found["passed"] else "NOT met")
    return line


def component(policy: NetworkPolicy) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        if "json" in args and "body" in args:
            raise refuse(NAME, "give 'json' or 'body', not both")
        if args.get("method", "GET") in ("GET", "HEAD") and ("json" in args or "body" in args):
            raise refuse(NAME, f"{args.get('method', 'GET')} requests carry no body")
        found = await _send(policy, args)
        return answer(_summary(found), found)

    return tool(
        NAME,
        "Sends one HTTP request (any method, headers, query, JSON or text body) and reports the "
        "status, response headers, timing and body (parsed when JSON, else text cut to "
        "max_body_chars with a flag), with a one-line summary. Optionally checks the status.",
        {
            "url": {"type": "string", "minLength": 1, "description": "An http:// or https:// URL"},
            "method": {"type": "string", "enum": METHODS, "default": "GET"},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Request headers",
            },
            "query": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [SCALAR, {"type": "array", "items": SCALAR}],
                },
                "description": "Query parameters, added to any already in the URL",
            },
            "json": {"description": "A JSON body (sets Content-Type: application/json)"},
            "body": {"type": "string", "description": "A text body, sent as UTF-8"},
            "follow_redirects": {
                "type": "boolean",
                "default": False,
                "description": "Follow redirects (each hop is checked by the network policy)",
            },
            "expect_status": {
                "type": "integer",
                "minimum": 100,
                "maximum": 599,
                "description": "The status the response should have; the answer says if it did",
            },
            "max_body_chars": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_CHARS,
                "default": DEFAULT_CHARS,
                "description": "Characters of a non-JSON body returned",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT,
                "default": 30,
                "description": "Seconds for the whole request",
            },
        },
        handle,
        required=["url"],
        annotations=Annotations(
            read_only=False, destructive=True, idempotent=False, open_world=True
        ),
    )
