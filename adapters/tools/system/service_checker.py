"""`service-checker`: is a TCP port open, does a URL answer, does a name resolve. Every target
goes through the network policy first, so the tool cannot be used to map private networks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result
from llmspell.runtime.sandbox import NetworkPolicy

from .._common import answer, refuse, tool

NAME = "service-checker"
MAX_TIMEOUT = 30.0


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 2)


def _down(data: dict[str, Any], error: str) -> dict[str, Any]:
    return data | {"up": False, "error": error}


async def _tcp(policy: NetworkPolicy, host: str, port: int, seconds: float) -> dict[str, Any]:
    from ..sandbox import network  # httpx only when a probe runs

    data: dict[str, Any] = {"check": "tcp", "host": host, "port": port}
    start = time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            address = (await network.checked(policy, host, port))[0]
            _, writer = await asyncio.open_connection(address, port)
    except TimeoutError:
        return _down(data, f"timed out after {seconds}s")
    except OSError as exc:
        return _down(data, exc.strerror or str(exc))
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return data | {"up": True, "address": address, "latency_ms": _ms(start)}


def _tls_version(response: Any) -> str | None:
    try:
        ssl_object = response.extensions["network_stream"].get_extra_info("ssl_object")
        return str(ssl_object.version()) if ssl_object else None
    except (KeyError, AttributeError):
        return None


async def _http(
    policy: NetworkPolicy, url: str, seconds: float, method: str, follow: bool
) -> dict[str, Any]:
    import httpx

    from ..sandbox import network  # httpx only when a probe runs

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise refuse(NAME, f"{url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise refuse(NAME, f"{url!r} is not an http:// or https:// URL")
    data: dict[str, Any] = {"check": "http", "url": url, "tls": parsed.scheme == "https"}
    start = time.monotonic()
    try:
        async with (
            network.client(policy, timeout=seconds, follow_redirects=follow) as http,
            http.stream(method, parsed) as response,
        ):
            latency = _ms(start)
            final = response.url
            return data | {
                "up": response.status_code < 500,
                "status": response.status_code,
                "reason": response.reason_phrase,
                "latency_ms": latency,
                "http_version": response.http_version,
                "tls": final.scheme == "https",
                "tls_version": _tls_version(response),
                "final_url": str(final),
                "redirects": len(response.history),
            }
    except httpx.TimeoutException:
        return _down(data, f"timed out after {seconds}s")
    except httpx.HTTPError as exc:
        return _down(data, str(exc) or type(exc).__name__)


async def _dns(policy: NetworkPolicy, host: str, port: int, seconds: float) -> dict[str, Any]:
    from ..sandbox import network  # httpx only when a probe runs

    data: dict[str, Any] = {"check": "dns", "host": host}
    start = time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            addresses = await network.checked(policy, host, port)
    except TimeoutError:
        return data | {"resolved": False, "error": f"timed out after {seconds}s"}
    return data | {
        "resolved": True,
        "a": [a for a in addresses if ":" not in a],
        "aaaa": [a for a in addresses if ":" in a],
        "latency_ms": _ms(start),
    }


def _summary(found: dict[str, Any]) -> str:
    check = found["check"]
    if check == "dns":
        if not found["resolved"]:
            return f"dns {found['host']}: not resolved ({found['error']})"
        return f"dns {found['host']}: {', '.join(found['a'] + found['aaaa'])}"
    target = found["url"] if check == "http" else f"{found['host']}:{found['port']}"
    if not found["up"]:
        return f"{check} {target}: down ({found['error']})"
    status = f" {found['status']} {found['reason']}" if check == "http" else ""
    return f"{check} {target}: up{status} ({found['latency_ms']} ms)"


def component(policy: NetworkPolicy) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        op = args["operation"]
        timeout = float(args.get("timeout", 5.0))
        try:
            if op == "tcp":
                found = await _tcp(policy, args["host"], args["port"], timeout)
            elif op == "http":
                method = args.get("method", "GET")
                found = await _http(policy, args["url"], timeout, method, args.get("follow", False))
            else:
                found = await _dns(policy, args["host"], args.get("port", 0), timeout)
        except LLMSpellError as exc:
            if exc.code != ErrorCode.UNAVAILABLE:  # a refusal by the policy is the caller's
                raise LLMSpellError(exc.code, f"{NAME}: {exc.message}", data=exc.data) from None
            key = "resolved" if op == "dns" else "up"
            found = {"check": op, **{k: args[k] for k in ("host", "port", "url") if k in args}}
            found |= {key: False, "error": exc.message}
        return answer(_summary(found), found)

    return tool(
        NAME,
        "Checks a service: a TCP port accepts connections, a URL answers (status, latency, TLS), "
        "or a name resolves (A/AAAA). Private and loopback addresses are refused unless the "
        "network policy allows them.",
        {
            "host": {"type": "string", "minLength": 1, "description": "tcp, dns: the host"},
            "port": {
                "type": "integer",
                "minimum": 0,
                "maximum": 65535,
                "description": "tcp: the port; dns: the port the name is meant for, if any "
                "(port-specific allow entries)",
            },
            "url": {"type": "string", "minLength": 1, "description": "http: the URL"},
            "method": {"type": "string", "enum": ["GET", "HEAD"], "default": "GET"},
            "follow": {
                "type": "boolean",
                "default": False,
                "description": "http: follow redirects (each hop is checked by the policy)",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT,
                "default": 5,
                "description": "Seconds for the whole check",
            },
        },
        handle,
        operations={"tcp": ["host", "port"], "http": ["url"], "dns": ["host"]},
        annotations=Annotations(
            read_only=True, destructive=False, idempotent=True, open_world=True
        ),
    )
