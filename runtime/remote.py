"""The port scripts reach remote servers through (`MCP.connect`, `MCP.servers`, `MCP.tools`).

The runtime knows no protocol, so it only names what it needs; the gateway and the CLI plug in
the MCP client's federation. Without one, scripts get a clear NOT_CONFIGURED error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .peer import Peer


class RemoteServers(Protocol):
    async def connect(self, spec: Mapping[str, Any], *, peer: Peer | None = None) -> dict[str, Any]:
        """Connect a server (`{name, command, args, env, cwd}` or `{name, url, headers}`), fold
        its tools into the catalog, and describe it; raises LLMSpellError when it cannot.
        `peer` answers the server's sampling/elicitation when no downstream caller can."""

    async def disconnect(self, name: str) -> None: ...

    def servers(self) -> list[dict[str, Any]]:
        """Each server's name, transport, target, state, last error and tool count."""

    def tools(self, server: str) -> list[dict[str, Any]]:
        """The catalog entries one server contributes: name, description, input_schema."""
