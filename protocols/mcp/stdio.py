"""MCP over stdio, for IDEs that spawn the server as a process."""

from __future__ import annotations

from mcp.server.stdio import stdio_server

from .server import McpServer
from .sessions import session_hook

SESSION = "stdio"
"""A stdio server has one session, its process's: `mcp_session_open` / `_close` name it so."""


async def serve(server: McpServer) -> None:
    hooks = server.runtime.hooks
    async with stdio_server() as (read, write):
        await session_hook(
            hooks, "mcp_session_open", {"session": SESSION, "client": "", "caller": "local"}
        )
        try:
            await server.server.run(read, write, server.initialization_options())
        finally:
            await session_hook(hooks, "mcp_session_close", {"session": SESSION, "caller": "local"})
