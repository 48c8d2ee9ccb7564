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


class RemoteAgents(Protocol):
    """The port scripts reach remote A2A agents through (`A2A.discover`, `A2A.send`...)."""

    async def discover(self, url: str, name: str | None = None) -> dict[str, Any]:
        """Fetch an agent's card and add it to the catalog; returns {name, url, card}."""

    async def send(
        self, agent: str, parts: list[Any], on_update: Any | None = None
    ) -> dict[str, Any]:
        """Send parts to an agent (by name or URL) and follow its task to the end:
        {task_id, context_id, state, text, parts}. `on_update(update)` hears each event."""

    async def get_task(self, agent: str, task_id: str) -> dict[str, Any]: ...
