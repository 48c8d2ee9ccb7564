"""`url-analyzer`: what a URL answers: status, each redirect hop, headers, TLS, title, content
type, size and timing. Redirects are followed one hop at a time, each through the network
policy, so a redirect into a private network is refused like a direct request."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result
from llmspell.runtime.sandbox import NetworkPolicy

from .._common import answer, need, tool

NAME = "url-analyzer"
MAX_TIMEOUT = 60.0
MAX_REDIRECTS = 20
MAX_BODY = 5 * 1024 * 1024
USER_AGENT = "Mozilla/5.0 (compatible; llmspell url-analyzer)"


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 2)


def _name(parts: Any) -> str:
    """An X.509 name as getpeercert() gives it, ((('commonName', 'x'),), ...), as CN=x, O=y."""
    short = {"commonName": "CN", "organizationName": "O", "countryName": "C"}
    return ", ".join(f"{short.get(k, k)}={v}" for rdn in parts or () for k, v in rdn)


def _tls(response: Any) -> dict[str, Any] | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    cipher = ssl_object.cipher()
    cert = ssl_object.getpeercert() or {}
    return {
        "version": ssl_object.version(),
        "cipher": cipher[0] if cipher else None,
        "bits": cipher[2] if cipher else None,
        "subject": _name(cert.get("subject")) or None,
        "issuer": _name(cert.get("issuer")) or None,
        "not_before": cert.get("notBefore"),
        "not_after": cert.get("notAfter"),
        "names": [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"],
    }


def _title(body: bytes) -> str | None:
    if not body.strip():
        return None
    lxml_html = need("lxml.html", "web", NAME)
    etree = need("lxml.etree", "web", NAME)
    try:
        document = lxml_html.document_fromstring(body)
    except (ValueError, etree.ParserError):
        return None
    found = document.find(".//title")
    return " ".join(found.text_content().split()) if found is not None else None


async def _analyze(
    policy: NetworkPolicy, url: str, method: str, max_redirects: int, seconds: float
) -> dict[str, Any]:
    import httpx

    from ..sandbox import network  # httpx only when a call runs

    target = network.http_url(NAME, url)
    hops: list[dict[str, Any]] = []
    start = time.monotonic()
    try:
        async with (
            asyncio.timeout(network.seconds_left(seconds)),
            network.client(
                policy,
                timeout=network.seconds_left(seconds),
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            ) as http,
        ):
            request = http.build_request(method, target)
            while True:
                hop_start = time.monotonic()
                response = await http.send(request, stream=True)
                try:
                    next_request = response.next_request
                    if next_request is not None and len(hops) < max_redirects:
                        hops.append(
                            {
                                "url": str(request.url),
                                "status": response.status_code,
                                "location": response.headers.get("location"),
                                "ms": _ms(hop_start),
                            }
                        )
                        request = next_request
                        continue
                    headers_ms = _ms(hop_start)
                    tls = _tls(response)
                    body, more = await network.read_capped(response, MAX_BODY)
                finally:
                    await response.aclose()
                break
    except TimeoutError:
        raise LLMSpellError(
            ErrorCode.TIMEOUT, f"{NAME}: {target} timed out after {seconds}s"
        ) from None
    except (httpx.HTTPError, LLMSpellError) as exc:
        where = f"{hops[-1]['location']} (redirect {len(hops)})" if hops else str(target)
        raise network.failure(NAME, exc, what=f"{where}:") from None
    content_type = response.headers.get("content-type")
    length = response.headers.get("content-length")
    is_html = method == "GET" and "html" in (content_type or "").lower()
    return {
        "url": str(target),
        "final_url": str(request.url),
        "status": response.status_code,
        "reason": response.reason_phrase,
        "http_version": response.http_version,
        "redirects": hops,
        "redirect_limit_reached": response.next_request is not None,
        "headers": dict(response.headers),
        "content_type": content_type,
        "content_length": int(length) if length and length.isdigit() else None,
        "size": len(body),
        "size_complete": not more,
        "title": _title(body) if is_html else None,
        "tls": tls,
        "timing": {"total_ms": _ms(start), "final_headers_ms": headers_ms},
    }


def _summary(found: dict[str, Any]) -> str:
    lines = [f"{found['url']}: {found['status']} {found['reason']}"]
    for hop in found["redirects"]:
        lines.append(f"  {hop['status']} {hop['url']} -> {hop['location']}")
    if found["redirects"]:
        lines.append(f"  final: {found['final_url']}")
    size = f"{found['size']} bytes" + ("" if found["size_complete"] else "+")
    lines.append(f"  {found['content_type'] or 'no content type'}, {size}")
    if found["title"]:
        lines.append(f"  title: {found['title']}")
    if found["tls"]:
        tls = found["tls"]
        lines.append(f"  TLS {tls['version']} {tls['cipher']}; expires {tls['not_after']}")
    lines.append(f"  {found['timing']['total_ms']} ms")
    return "\n".join(lines)


def component(policy: NetworkPolicy) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        found = await _analyze(
            policy,
            args["url"],
            args.get("method", "GET"),
            int(args.get("max_redirects", 10)),
            float(args.get("timeout", 15.0)),
        )
        return answer(_summary(found), found)

    return tool(
        NAME,
        "Analyzes a URL: status, the redirect chain (each hop's status and location), response "
        "headers, TLS (version, cipher, certificate subject, issuer and expiry), page title, "
        "content type, size and timing. Every hop goes through the network policy.",
        {
            "url": {"type": "string", "minLength": 1, "description": "An http:// or https:// URL"},
            "method": {"type": "string", "enum": ["GET", "HEAD"], "default": "GET"},
            "max_redirects": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_REDIRECTS,
                "default": 10,
                "description": "Redirects followed; the last hop is reported when it runs out",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT,
                "default": 15,
                "description": "Seconds for the whole analysis",
            },
        },
        handle,
        required=["url"],
        annotations=Annotations(
            read_only=True, destructive=False, idempotent=True, open_world=True
        ),
    )
