"""`webhook-caller`: POSTs a JSON payload to a URL, signed with HMAC-SHA256 when a secret is
configured, retrying with backoff when the receiver fails (5xx, 429) or cannot be reached.

    [tools.webhook-caller]
    secret = "..."                        # or LLMSPELL_WEBHOOK_SECRET
    signature_header = "X-Signature-256"  # the default, like GitHub's X-Hub-Signature-256
    signature_prefix = "sha256="

The signature is over the exact bytes sent. The secret never comes from a call and never
appears in a result, a log line or an error message.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from typing import Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result
from llmspell.runtime.invocation import current

from .._common import answer, refuse, tool
from ..env import ToolEnv

NAME = "webhook-caller"
SECRET_VARIABLE = "LLMSPELL_WEBHOOK_SECRET"
MAX_RETRIES = 5
MAX_TIMEOUT = 60.0
MAX_BACKOFF = 10.0
BASE_BACKOFF = 0.5
MAX_ANSWER = 64 * 1024
"""Bytes of the receiver's answer read; the first 2000 characters are returned."""
USER_AGENT = "llmspell-webhook"


def signature(secret: str, body: bytes, prefix: str = "sha256=") -> str:
    return prefix + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def _backoff(attempt: int, retry_after: str | None) -> float:
    """Exponential with jitter; a receiver's Retry-After (seconds) is honoured up to the cap."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_BACKOFF)
    return min(BASE_BACKOFF * 2.0**attempt, MAX_BACKOFF) * random.uniform(0.75, 1.25)


def _time_for(delay: float) -> bool:
    """Whether a retry after `delay` seconds can still start before the call's deadline."""
    inv = current.get()
    left = inv.remaining() if inv is not None else None
    return left is None or left > delay + 0.1


async def _deliver(env: ToolEnv, args: dict[str, Any]) -> dict[str, Any]:
    import httpx

    from ..sandbox import network  # httpx only when a call sends

    url = network.http_url(NAME, args["url"])
    settings = env.settings_for(NAME)
    secret = env.credential(NAME, "secret", SECRET_VARIABLE)
    header = str(settings.get("signature_header", "X-Signature-256"))
    prefix = str(settings.get("signature_prefix", "sha256="))
    sign = args.get("sign", True)
    if sign is True and "sign" in args and not secret:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED,
            f"{NAME}: signing needs a secret: set [tools.{NAME}] secret or {SECRET_VARIABLE}",
        )
    headers = dict(args.get("headers", {}))
    body = json.dumps(args["payload"], separators=(",", ":"), ensure_ascii=False).encode()
    signed = bool(sign and secret)
    if signed:
        assert secret is not None
        if any(name.lower() == header.lower() for name in headers):
            raise refuse(NAME, f"the {header} header is the signature's; do not set it")
        headers[header] = signature(secret, body, prefix)
    headers = {"User-Agent": USER_AGENT, **headers, "Content-Type": "application/json"}
    retries = min(int(args.get("max_retries", 3)), MAX_RETRIES)
    seconds = float(args.get("timeout", 10.0))
    attempts: list[dict[str, Any]] = []
    secrets = [secret]
    async with network.client(env.sandbox.network, timeout=seconds) as http:
        for attempt in range(retries + 1):
            start = time.monotonic()
            record: dict[str, Any] = {"attempt": attempt + 1}
            attempts.append(record)
            try:
                async with (
                    asyncio.timeout(network.seconds_left(seconds)),
                    http.stream("POST", url, content=body, headers=headers) as response,
                ):
                    raw, _ = await network.read_capped(response, MAX_ANSWER)
            except TimeoutError:
                record |= {"error": f"timed out after {seconds}s"}
                retry_after = None
            except LLMSpellError as exc:  # the policy's refusal: retrying changes nothing
                raise network.failure(NAME, exc, secrets) from None
            except httpx.HTTPError as exc:
                error = network.failure(NAME, exc, secrets)
                record |= {"error": error.message.removeprefix(f"{NAME}: ")}
                retry_after = None
            else:
                record["status"] = response.status_code
                if not _retryable(response.status_code):
                    record["ms"] = round((time.monotonic() - start) * 1000, 2)
                    text = network.scrub(raw.decode("utf-8", "replace")[:2000], secrets)
                    return {
                        "url": str(url),
                        "delivered": response.is_success,
                        "status": response.status_code,
                        "response": text,
                        "signed": signed,
                        "signature_header": header if signed else None,
                        "attempts": len(attempts),
                        "history": attempts,
                    }
                retry_after = response.headers.get("retry-after")
            record["ms"] = round((time.monotonic() - start) * 1000, 2)
            if attempt == retries:
                break
            delay = _backoff(attempt, retry_after)
            if not _time_for(delay):
                break
            await asyncio.sleep(delay)
    last = attempts[-1]
    if "status" in last:  # the receiver answered, with a failure each time
        return {
            "url": str(url),
            "delivered": False,
            "status": last["status"],
            "response": None,
            "signed": signed,
            "signature_header": header if signed else None,
            "attempts": len(attempts),
            "history": attempts,
        }
    raise LLMSpellError(
        ErrorCode.UNAVAILABLE,
        f"{NAME}: {url} could not be reached in {len(attempts)} attempt(s): {last['error']}",
        data={"attempts": attempts},
    )


def _summary(found: dict[str, Any]) -> str:
    outcome = "delivered" if found["delivered"] else "NOT delivered"
    signed = ", signed" if found["signed"] else ""
    return (
        f"{outcome}: POST {found['url']} -> {found['status']} after "
        f"{found['attempts']} attempt(s){signed}"
    )


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        found = await _deliver(env, args)
        return answer(_summary(found), found)

    return tool(
        NAME,
        "POSTs a JSON payload to a webhook URL, signed with HMAC-SHA256 when a secret is "
        "configured ([tools.webhook-caller] secret or LLMSPELL_WEBHOOK_SECRET; header "
        "X-Signature-256: sha256=<hex> by default), retrying with exponential backoff on 5xx, "
        "429 and connection failures.",
        {
            "url": {"type": "string", "minLength": 1, "description": "An http:// or https:// URL"},
            "payload": {"description": "The JSON value to send"},
            "headers": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Extra request headers (not the signature's)",
            },
            "sign": {
                "type": "boolean",
                "default": True,
                "description": "Sign with the configured secret (true and no secret is an error "
                "when given explicitly; unsigned when no secret and left out)",
            },
            "max_retries": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_RETRIES,
                "default": 3,
                "description": "Retries after the first attempt, with backoff (0.5 s, 1 s, 2 s...)",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT,
                "default": 10,
                "description": "Seconds for each attempt",
            },
        },
        handle,
        required=["url", "payload"],
        annotations=Annotations(
            read_only=False, destructive=False, idempotent=False, open_world=True
        ),
    )
