"""`web-scraper`: a page as readable Markdown (readability picks the main content, markdownify
converts it), its links and its metadata. With `render` the page's JavaScript runs first in a
headless Chromium whose requests all go through the network policy."""

from __future__ import annotations

from typing import Any

from llmspell.runtime import Annotations, Component, Result

from .._common import answer, refuse, tool
from ..env import ToolEnv
from . import _browser, _html

NAME = "web-scraper"
MAX_TIMEOUT = 60.0


async def _load(env: ToolEnv, url: str, render: bool, seconds: float) -> dict[str, Any]:
    """The page's HTML (or text) and how it was fetched."""
    from ..sandbox import network

    settings = env.settings_for(NAME)
    limit = _html.max_bytes(settings)
    policy = env.sandbox.network
    if render:
        browser = _browser.find_browser(settings.get("browser"))
        html, final, refused = await _browser.render(
            policy, url, tool_name=NAME, browser=browser, timeout=seconds, limit=limit
        )
        return {"html": html, "final_url": final, "status": None, "rendered": True} | (
            {"refused": refused} if refused else {}
        )
    async with network.client(policy, timeout=seconds) as http:
        page = await _html.fetch(http, url, tool_name=NAME, limit=limit)
    if not (page.is_html or page.is_text):
        raise refuse(
            NAME, f"{page.url} is {page.content_type or 'binary'}, not an HTML or text page"
        )
    found: dict[str, Any] = {
        "final_url": page.url,
        "status": page.status,
        "content_type": page.content_type,
        "rendered": False,
        "body_truncated": page.truncated,
    }
    if page.redirects:
        found["redirects"] = page.redirects
    return found | ({"html": page.text()} if page.is_html else {"plain": page.text()})


def component(env: ToolEnv) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        url = _html.check_url(NAME, args["url"])
        loaded = await _load(env, url, args.get("render", False), float(args.get("timeout", 15)))
        final = loaded.pop("final_url")
        data: dict[str, Any] = {"url": url, "final_url": final}
        found_links: list[dict[str, Any]] = []
        meta: dict[str, Any] = {}
        title: str | None = None
        cut = False
        if "plain" in loaded:
            markdown = loaded.pop("plain").strip()
        else:
            html = loaded.pop("html")
            doc = _html.parse(html, NAME)
            meta = _html.metadata(doc, final)
            found_links, cut = _html.links(doc, final)
            if args.get("content", "article") == "full":
                markdown = _html.visible_markdown(doc, NAME)
                title = meta["title"]
            else:
                title, markdown = _html.readable(html, final, NAME)
                title = meta["title"] or title
                if title and not markdown.lstrip("# ").startswith(title[:40]):
                    markdown = f"# {title}\n\n{markdown}"
        limit = int(args.get("max_chars", 50_000))
        data |= loaded | {
            "title": title or meta.get("title"),
            "markdown": markdown[:limit],
            "truncated": len(markdown) > limit,
            "metadata": meta,
        }
        if args.get("links", True):
            data |= {"links": found_links, "links_truncated": cut}
        status = f" ({data['status']})" if data.get("status") else ""
        head = f"{final}{status}" + (" [rendered]" if data["rendered"] else "")
        return answer(f"{head}\n\n{data['markdown']}", data)

    return tool(
        NAME,
        "Fetches a web page and returns its main content as Markdown (navigation and "
        "boilerplate left out, or the whole page with content = full), its links (absolute, "
        "internal or external) and metadata (title, description, Open Graph, canonical, "
        "language). render = true runs the page's JavaScript in headless Chromium first. "
        "Every request, redirects included, is checked by the network policy.",
        {
            "url": {"type": "string", "minLength": 1, "description": "An http(s) URL"},
            "render": {
                "type": "boolean",
                "default": False,
                "description": "Run the page's JavaScript in headless Chromium before reading",
            },
            "content": {
                "type": "string",
                "enum": ["article", "full"],
                "default": "article",
                "description": "article: the main content only; full: all visible text",
            },
            "links": {"type": "boolean", "default": True, "description": "List the links"},
            "max_chars": {
                "type": "integer",
                "minimum": 100,
                "maximum": 1_000_000,
                "default": 50_000,
                "description": "Characters of Markdown returned; the rest is cut",
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
            read_only=True, destructive=False, idempotent=True, open_world=True
        ),
    )
