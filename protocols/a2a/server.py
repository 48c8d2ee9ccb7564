"""Catalog agents over A2A: one agent card per agent or workflow, each with JSON-RPC and
HTTP+JSON bindings under `/a2a/<name>`, and the default agent's card at the well-known path.
The SDK's request handler owns tasks, streaming, resubscription and push notifications; tasks
live in a SQLite store by default, so they outlive a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from a2a.server.request_handlers import DefaultRequestHandlerV2
from a2a.server.routes import (
    create_agent_card_routes,
    create_jsonrpc_routes,
    create_rest_routes,
)
from a2a.server.tasks import (
    BasePushNotificationSender,
    DatabasePushNotificationConfigStore,
    DatabaseTaskStore,
    InMemoryPushNotificationConfigStore,
    InMemoryTaskStore,
    PushNotificationConfigStore,
    TaskStore,
)
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH, PROTOCOL_VERSION_CURRENT
from llmspell.runtime import Component, Runtime
from starlette.routing import BaseRoute, Mount, Router
from starlette.types import Receive, Scope, Send

from .executor import ComponentExecutor

INPUT_MODES = ["text/plain", "text/markdown", "application/json"]
OUTPUT_MODES = ["text/plain", "application/json", "image/png", "application/octet-stream"]


@dataclass(frozen=True, slots=True)
class A2AOptions:
    base_url: str
    """Where the gateway is reached, e.g. http://127.0.0.1:8765; cards carry absolute URLs."""
    database: Path | None = None
    """SQLite file for tasks and push configs; None keeps them in memory."""
    version: str = "0"
    name: str = "llmspell"
    description: str = "An llmspell gateway: its agents, workflows and tools as skills."


def _interfaces(url: str) -> list[AgentInterface]:
    return [
        AgentInterface(
            url=f"{url}/", protocol_binding="JSONRPC", protocol_version=PROTOCOL_VERSION_CURRENT
        ),
        AgentInterface(
            url=url, protocol_binding="HTTP+JSON", protocol_version=PROTOCOL_VERSION_CURRENT
        ),
    ]


def _skill(component: Component) -> AgentSkill:
    return AgentSkill(
        id=component.name,
        name=component.name,
        description=component.description or f"{component.kind} {component.name}",
        tags=[component.kind],
    )


def card(component: Component, options: A2AOptions) -> AgentCard:
    """The card of one component's own endpoint: one skill, itself."""
    return AgentCard(
        name=component.name,
        description=component.description or f"{component.kind} {component.name}",
        version=options.version,
        supported_interfaces=_interfaces(f"{options.base_url}/a2a/{component.name}"),
        capabilities=AgentCapabilities(streaming=True, push_notifications=True),
        default_input_modes=INPUT_MODES,
        default_output_modes=OUTPUT_MODES,
        skills=[_skill(component)],
    )


def gateway_card(components: list[Component], options: A2AOptions) -> AgentCard:
    """The gateway as one agent: every component is a skill, picked by message metadata
    `{"skill": name}` (default: the first agent)."""
    return AgentCard(
        name=options.name,
        description=options.description,
        version=options.version,
        supported_interfaces=_interfaces(f"{options.base_url}/a2a"),
        capabilities=AgentCapabilities(streaming=True, push_notifications=True),
        default_input_modes=INPUT_MODES,
        default_output_modes=OUTPUT_MODES,
        skills=[_skill(c) for c in components],
    )


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    """WAL with synchronous=NORMAL: each task event is one commit, and a full fsync per commit
    cost ~30 ms per task here. Commits still survive a killed process; only a power loss can
    drop the last ones."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class A2AServer:
    """Every catalog component is reachable at `/a2a/<name>` (its own card and endpoint, built
    on first use and dropped when the component changes), and the gateway itself at `/a2a`
    with a card listing every component as a skill. Cards always reflect the current catalog."""

    def __init__(self, runtime: Runtime, options: A2AOptions) -> None:
        self.runtime = runtime
        self.options = options
        self._http = httpx.AsyncClient(timeout=10)
        if options.database is not None:
            from sqlalchemy import event
            from sqlalchemy.ext.asyncio import create_async_engine

            options.database.parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(f"sqlite+aiosqlite:///{options.database}")
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            self.tasks: TaskStore = DatabaseTaskStore(engine)
            self.push_configs: PushNotificationConfigStore = DatabasePushNotificationConfigStore(
                engine
            )
        else:
            self.tasks = InMemoryTaskStore()
            self.push_configs = InMemoryPushNotificationConfigStore()
        self._endpoints: dict[str, Router] = {}
        runtime.catalog.on_change(lambda change: self._endpoints.clear())

    def components(self) -> list[Component]:
        """Agents and workflows first (the default agent is the first of them), then tools."""
        catalog = list(self.runtime.catalog)
        return [c for c in catalog if c.kind != "tool"] + [c for c in catalog if c.kind == "tool"]

    def routes(self) -> list[BaseRoute]:
        async def fresh(_: AgentCard) -> AgentCard:
            return gateway_card(self.components(), self.options)

        return [
            Mount("/a2a", app=self._dispatch),
            *create_agent_card_routes(
                gateway_card(self.components(), self.options),
                card_modifier=fresh,
                card_url=AGENT_CARD_WELL_KNOWN_PATH,
            ),
        ]

    def _endpoint(self, name: str | None) -> Router:
        key = name or ""
        router = self._endpoints.get(key)
        if router is None:
            if name is None:
                components = self.components()
                agent_card = gateway_card(components, self.options)
                default = next((c.name for c in components if c.kind != "tool"), None)
            else:
                agent_card = card(self.runtime.catalog.get(name), self.options)
                default = None
            handler = DefaultRequestHandlerV2(
                agent_executor=ComponentExecutor(self.runtime, name, default),
                task_store=self.tasks,
                agent_card=agent_card,
                push_config_store=self.push_configs,
                push_sender=BasePushNotificationSender(self._http, self.push_configs),
                validate_input_modes=True,
            )
            router = Router(
                routes=[
                    *create_agent_card_routes(agent_card),
                    *create_jsonrpc_routes(handler, "/"),
                    *create_rest_routes(handler),
                ]
            )
            self._endpoints[key] = router
        return router

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`/a2a/<name>/...` goes to that component's endpoint; anything else is the gateway's."""
        path: str = scope.get("path", "")
        root = scope.get("root_path", "")
        rest = path[len(root) :] if path.startswith(root) else path
        first = rest.lstrip("/").partition("/")[0]
        if first and first in self.runtime.catalog:
            scope = {**scope, "root_path": f"{root}/{first}", "path": path}
            await self._endpoint(first)(scope, receive, send)
            return
        await self._endpoint(None)(scope, receive, send)

    async def aclose(self) -> None:
        await self._http.aclose()
