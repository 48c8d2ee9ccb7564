"""`webpage-monitor`: fetch a page, reduce it to its readable text and compare it with the
previous fetch kept in the state store (scope `tool:webpage-monitor`, key: the URL), so a
script or agent asks "did it change?" and gets a unified diff."""

from __future__ import annotations

import difflib
import hashlib
from datetime import UTC, datetime
from typing import Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result
from llmspell.runtime.state import MemoryStateStore, StateStore

from .._common import answer, tool
from ..env import ToolEnv
from . import _browser, _html

NAME = "webpage-monitor"
SCOPE = f"tool:{NAME}"
MAX_TIMEOUT = 60.0
MAX_KEPT = 1024 * 1024
"""Characters of a snapshot's text kept in the store."""
MAX_DIFF_LINES = 500


async def _text(env: ToolEnv, url: str, args: dict[str, Any]) -> tuple[str, str]:
    """The page's readable text and the URL it ended at."""
    from ..sandbox import network

    settings = env.settings_for(NAME)
    limit = _html.max_bytes(settings)
    timeout = float(args.get("timeout", 15))
    if args.get("render", False):
        browser = _browser.find_browser(settings.get("browser"))
        html, final, _ = await _browser.render(
            env.sandbox.network, url, tool_name=NAME, browser=browser, timeout=timeout, limit=limit
        )
    else:
        async with network.client(env.sandbox.network, timeout=timeout) as http:
            page = await _html.fetch(http, url, tool_name=NAME, limit=limit)
        if page.status >= 400:
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"{NAME}: {page.url} answered {page.status} {page.reason}; no snapshot taken",
                data={"url": page.url, "status": page.status},
            )
        final = page.url
        if not page.is_html:
            return page.text().strip(), final
        html = page.text()
    if args.get("extract", "text") == "article":
        return _html.readable(html, final, NAME)[1], final
    return _html.visible_markdown(_html.parse(html, NAME), NAME), final


def component(env: ToolEnv) -> Component:
    fallback: StateStore = MemoryStateStore()

    async def handle(args: dict[str, Any]) -> Result:
        url = _html.check_url(NAME, args["url"])
        text, final = await _text(env, url, args)
        text = text[:MAX_KEPT]
        digest = hashlib.sha256(text.encode()).hexdigest()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        store = env.state if env.state is not None else fallback
        previous: dict[str, Any] = {}

        async def swap(old: Any) -> dict[str, Any]:
            previous.update(old if isinstance(old, dict) else {})
            changed = previous.get("hash") != digest
            return {
                "url": url,
                "final_url": final,
                "hash": digest,
                "text": text,
                "fetched_at": now,
                "changed_at": now if changed else previous.get("changed_at", now),
            }

        await store.update(SCOPE, url, swap)
        data: dict[str, Any] = {"url": url, "final_url": final, "fetched_at": now, "hash": digest}
        if not previous:
            data |= {"first_snapshot": True, "changed": False, "last_seen": None, "diff": ""}
            summary = f"{url}: first snapshot ({len(text.splitlines())} lines)"
            return answer(summary, data)
        changed = previous.get("hash") != digest
        lines = list(
            difflib.unified_diff(
                str(previous.get("text", "")).splitlines(),
                text.splitlines(),
                fromfile=f"{url} @ {previous.get('fetched_at')}",
                tofile=f"{url} @ {now}",
                n=int(args.get("context_lines", 3)),
                lineterm="",
            )
        )
        data |= {
            "first_snapshot": False,
            "changed": changed,
            "last_seen": previous.get("fetched_at"),
            "last_changed": previous.get("changed_at"),
            "diff": "\n".join(lines[:MAX_DIFF_LINES]),
            "diff_truncated": len(lines) > MAX_DIFF_LINES,
            "added": sum(1 for x in lines if x.startswith("+") and not x.startswith("+++")),
            "removed": sum(1 for x in lines if x.startswith("-") and not x.startswith("---")),
        }
        if not changed:
            summary = f"{url}: no change since {data['last_seen']}"
        else:
            summary = (
                f"{url}: changed since {data['last_seen']} "
                f"(+{data['added']} -{data['removed']} lines)\n\n{data['diff']}"
            )
        return answer(summary, data)

    return tool(
        NAME,
        "Checks a web page for changes: fetches it, extracts its readable text and compares "
        "it with the previous check of the same URL (kept in the state store), returning "
        "whether it changed, a unified diff and when it was last seen. The first check of a "
        "URL records a first snapshot. Every request is checked by the network policy.",
        {
            "url": {"type": "string", "minLength": 1, "description": "An http(s) URL"},
            "extract": {
                "type": "string",
                "enum": ["text", "article"],
                "default": "text",
                "description": "text: all visible text; article: the main content only",
            },
            "render": {
                "type": "boolean",
                "default": False,
                "description": "Run the page's JavaScript in headless Chromium before reading",
            },
            "context_lines": {
                "type": "integer",
                "minimum": 0,
                "maximum": 20,
                "default": 3,
                "description": "Unchanged lines shown around each change in the diff",
            },
            "timeout": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_TIMEOUT,
                "default": 15,
                "description": "Seconds for the fetch (or the browser)",
            },
        },
        handle,
        required=["url"],
        annotations=Annotations(
            read_only=False, destructive=False, idempotent=False, open_world=True
        ),
    )
