"""The `RemoteServers` port with the SDK imported on first use, so `llmspell run hello.lua` and a
gateway without upstreams never pay for the MCP client."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Runtime
from llmspell.runtime.peer import Peer

if TYPE_CHECKING:
    from .federation import Federation
    from .spec import ServerSpec


class LazyFederation:
    def __init__(self, runtime: Runtime, **options: Any) -> None:
        self._runtime = runtime
        self._options = options
        self._federation: Federation | None = None

    @property
    def federation(self) -> Federation:
        if self._federation is None:
            from .federation import Federation

            self._federation = Federation(self._runtime, **self._options)
        return self._federation

    async def start(self, specs: Iterable[ServerSpec]) -> None:
        await self.federation.start(specs)

    async def connect(self, spec: Mapping[str, Any], *, peer: Peer | None = None) -> dict[str, Any]:
        return await self.federation.connect(spec, peer=peer)

    async def disconnect(self, name: str) -> None:
        if self._federation is not None:
            await self._federation.disconnect(name)

    def servers(self) -> list[dict[str, Any]]:
        return self._federation.servers() if self._federation is not None else []

    def tools(self, server: str) -> list[dict[str, Any]]:
        return self.federation.tools(server)

    async def aclose(self) -> None:
        if self._federation is not None:
            await self._federation.aclose()
