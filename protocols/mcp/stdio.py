"""MCP over stdio, for IDEs that spawn the server as a process."""

from __future__ import annotations

from mcp.server.stdio import stdio_server

from .server import McpServer


async def serve(server: McpServer) -> None:
    async with stdio_server() as (read, write):
        await server.server.run(read, write, server.initialization_options())
