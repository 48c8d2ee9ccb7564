"""`llmspell events tail`: watch a running gateway's events (its `/events` SSE stream), one line
per event, until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from .common import Commands, catalog_options, error, load_config, show_help


def add(commands: Commands) -> None:
    events = commands.add_parser("events", help="watch a running gateway's events")
    actions = events.add_subparsers(title="events commands", metavar="ACTION")
    tail = actions.add_parser(
        "tail", help="print events as they happen (time, topic, data) until Ctrl-C"
    )
    tail.add_argument(
        "--pattern", default="*", help="topics to show, a glob such as 'call.*' (default: all)"
    )
    tail.add_argument(
        "--url", help="the gateway's base URL (default: the config's http host and port)"
    )
    tail.add_argument(
        "--token",
        default=os.environ.get("LLMSPELL_TOKEN"),
        help="a bearer token or API key, when the gateway has auth on (default: $LLMSPELL_TOKEN)",
    )
    catalog_options(tail)
    tail.set_defaults(handler=tail_events)
    events.set_defaults(handler=show_help(events))


def events_url(base: str) -> str:
    """`/events` on the gateway `base` names: a base URL, its MCP URL, or `/events` itself."""
    base = base.rstrip("/")
    if base.endswith("/events"):
        return base
    if base.endswith("/mcp"):
        base = base[: -len("/mcp")]
    return f"{base}/events"


def tail_events(ns: argparse.Namespace) -> int:
    import httpx

    from ..config import ConfigError

    if ns.url:
        base = ns.url
    else:
        try:
            http = load_config(ns).http
        except ConfigError as exc:
            return error(str(exc))
        host = "127.0.0.1" if http.host in ("0.0.0.0", "::", "") else http.host
        base = f"http://[{host}]:{http.port}" if ":" in host else f"http://{host}:{http.port}"
    url = events_url(base)
    headers = {"Accept": "text/event-stream"}
    if ns.token:
        headers["Authorization"] = f"Bearer {ns.token}"
    try:
        with httpx.stream(
            "GET",
            url,
            params={"pattern": ns.pattern},
            headers=headers,
            timeout=httpx.Timeout(10.0, read=None),
        ) as reply:
            if reply.status_code != 200:
                reply.read()
                why = _reason(reply)
                hint = " (give --token)" if reply.status_code in (401, 403) else ""
                return error(f"{url}: HTTP {reply.status_code}: {why}{hint}")
            for topic, data in parse(reply.iter_lines(), on_comment=watching(url, ns.pattern)):
                print(line(topic, data), flush=True)
    except httpx.RemoteProtocolError:
        pass  # the gateway stopped mid-stream
    except httpx.HTTPError as exc:
        return error(f"no event stream from {url}: {exc}")
    return error(f"{url}: the gateway closed the stream")


def watching(url: str, pattern: str) -> Callable[[str], None]:
    """Says on stderr when the gateway has subscribed (its `: subscribed` comment)."""

    def said(comment: str) -> None:
        if comment.startswith("subscribed"):
            print(f"llmspell: watching {url} for {pattern!r} (Ctrl-C to stop)", file=sys.stderr)
            sys.stderr.flush()

    return said


def parse(
    lines: Iterator[str], on_comment: Callable[[str], None] | None = None
) -> Iterator[tuple[str, Any]]:
    """(topic, data) per Server-Sent Event; comments (heartbeats) go to `on_comment`."""
    topic, data = "message", list[str]()
    for text in lines:
        if not text:
            if data:
                body = "\n".join(data)
                try:
                    value = json.loads(body)
                except ValueError:
                    value = body
                yield topic, value
            topic, data = "message", []
        elif text.startswith(":"):
            if on_comment is not None:
                on_comment(text[1:].strip())
        else:
            name, _, value = text.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                topic = value
            elif name == "data":
                data.append(value)


def line(topic: str, data: Any, now: float | None = None) -> str:
    moment = time.time() if now is None else now
    stamp = time.strftime("%H:%M:%S", time.localtime(moment)) + f".{int(moment * 1000) % 1000:03d}"
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{stamp}  {topic}  {body}"


def _reason(reply: Any) -> str:
    try:
        body = reply.json()
        return str(body.get("error_description") or body.get("error") or body)
    except ValueError:
        return str(reply.text.strip()[:200] or reply.reason_phrase)
