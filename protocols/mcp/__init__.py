"""MCP server side, on the `mcp` SDK's low-level server: the catalog served as tools, prompts
and resources over stdio and Streamable HTTP."""

from .server import McpServer

__all__ = ["McpServer"]
