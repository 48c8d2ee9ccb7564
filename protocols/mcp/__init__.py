"""MCP on the `mcp` SDK: the catalog served as tools, prompts and resources (server side), and
remote servers folded into the catalog (client side). Imported lazily, so `llmspell run` pays
for the SDK only when a script uses MCP."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .federation import Federation
    from .server import McpServer

__all__ = ["Federation", "McpServer"]


def __getattr__(name: str) -> Any:
    if name == "McpServer":
        from .server import McpServer

        return McpServer
    if name == "Federation":
        from .federation import Federation

        return Federation
    raise AttributeError(name)
