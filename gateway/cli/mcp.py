"""`llmspell mcp list|status|stdio|login|logout`: the configured upstream MCP servers, the
gateway over stdio (gateway.py), and OAuth logins (mcp_login.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from . import gateway, mcp_login
from .common import Commands, catalog_options, error, load_config, show_help


def add(commands: Commands) -> None:
    mcp = commands.add_parser(
        "mcp", help="MCP commands: serve over stdio, inspect upstream servers"
    )
    actions = mcp.add_subparsers(title="mcp commands", metavar="ACTION")
    gateway.add_stdio(actions)
    listing = actions.add_parser(
        "list", help="connect the configured MCP servers; list their tools"
    )
    catalog_options(listing)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_servers, tools=True)
    status = actions.add_parser(
        "status", help="each upstream's state: from the running gateway, else by connecting"
    )
    catalog_options(status)
    status.add_argument("--url", help="the gateway to ask (default: the config's http address)")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=status_of_servers)
    mcp_login.add(actions)
    mcp.set_defaults(handler=show_help(mcp))


def list_servers(ns: argparse.Namespace) -> int:
    from ..assembly import Mode, assemble
    from ..config import ConfigError

    async def go() -> list[dict[str, Any]]:
        config = load_config(ns)
        async with assemble(config, Mode.catalog()) as parts:
            federation = parts.federation
            assert federation is not None
            servers = [
                {**s, "tool_list": federation.tools(s["name"]) if ns.tools else []}
                for s in federation.servers()
            ]
        await mcp_login.auth_states(config, servers)
        return servers

    try:
        servers = asyncio.run(go())
    except ConfigError as exc:
        return error(str(exc))
    if not servers:
        return error("no MCP servers configured: give --config or --mcp-config")
    print_servers(servers, ns.json)
    return 0 if all(s["state"] == "ready" for s in servers) else 1


def status_of_servers(ns: argparse.Namespace) -> int:
    """Ask the running gateway (`/readyz`); when none answers, connect and report directly."""
    import urllib.error
    import urllib.request

    from ..config import ConfigError

    try:
        config = load_config(ns)
    except ConfigError as exc:
        return error(str(exc))
    url = ns.url or f"http://{config.http.host}:{config.http.port}"
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/readyz", timeout=5) as reply:
            body = json.loads(reply.read())
    except urllib.error.HTTPError as exc:  # 503: degraded, still a status
        body = json.loads(exc.read() or b"{}")
    except (urllib.error.URLError, OSError):
        if not ns.json:
            print(f"no gateway answers at {url}; connecting to the servers directly")
        ns.tools = False
        return list_servers(ns)
    servers = [{**s, "tool_list": []} for s in body.get("upstreams", [])]
    asyncio.run(mcp_login.auth_states(config, servers))
    if not ns.json:
        print(f"gateway at {url}: {body.get('status')}")
    print_servers(servers, ns.json)
    return 0 if body.get("status") == "ready" else 1


def print_servers(servers: list[dict[str, Any]], as_json: bool) -> None:
    """One row per server, its tools below it; every column as wide as its longest entry."""
    if as_json:
        print(json.dumps(servers, indent=2))
        return
    name, state, transport = (
        max((len(str(s[key])) for s in servers), default=0)
        for key in ("name", "state", "transport")
    )
    tools = [t for s in servers for t in s.get("tool_list", [])]
    tool_width = max((len(t["name"]) for t in tools), default=0)
    for s in servers:
        print(
            f"{s['name']:<{name}}  {s['state']:<{state}}  {s['transport']:<{transport}}  "
            f"{s['tools']:>3} tools  {s['target']}"
        )
        if s.get("error"):
            print(f"{'':<{name}}  error: {s['error']}")
        if s.get("auth_state", "service") != "service":
            print(f"{'':<{name}}  auth: {s['auth_state']}")
        for tool in s.get("tool_list", []):
            summary = (tool["description"] or "").splitlines()[0] if tool["description"] else ""
            print(f"    {tool['name']:<{tool_width}}  {summary[:70]}".rstrip())
