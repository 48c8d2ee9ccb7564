"""What an upstream MCP server offers (tools, prompts, resources, templates), as its wire types,
and how it is fetched: the four listings at once, each followed through its pages."""

from __future__ import annotations

import asyncio
from typing import Any

import mcp_types as types
from mcp.client.client import Client
from pydantic import BaseModel


class Listing(BaseModel):
    """What an upstream offers, as its wire types."""

    tools: list[types.Tool] = []
    prompts: list[types.Prompt] = []
    resources: list[types.Resource] = []
    templates: list[types.ResourceTemplate] = []


async def fetch_listing(client: Client) -> Listing:
    """The four listings, asked for at once: one round trip's wait instead of four."""
    caps = client.server_capabilities
    wanted = {
        "tools": client.list_tools if caps.tools is not None else None,
        "prompts": client.list_prompts if caps.prompts is not None else None,
        "resources": client.list_resources if caps.resources is not None else None,
        "templates": client.list_resource_templates if caps.resources is not None else None,
    }
    asked = {field: fetch for field, fetch in wanted.items() if fetch is not None}
    pages = await asyncio.gather(*(_pages(fetch) for fetch in asked.values()))
    return Listing(**dict(zip(asked, pages, strict=True)))


async def _pages(fetch: Any) -> list[Any]:
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        page = await fetch(cursor=cursor)
        for field in ("tools", "prompts", "resources", "resource_templates"):
            if hasattr(page, field):
                items.extend(getattr(page, field))
                break
        cursor = page.next_cursor
        if not cursor:
            break
    return items
