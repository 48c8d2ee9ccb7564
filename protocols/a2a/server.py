"""Catalog agents over A2A: one agent card per agent or workflow, each with JSON-RPC and
HTTP+JSON bindings under `/a2a/<name>`, and the default agent's card at the well-known path.
The SDK's request handler owns tasks, streaming, resubscription and push notifications; tasks
live in a SQLite store by default, so they outlive a restart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
from a2a.server.request_handlers import DefaultRequestHandlerV2, RequestHandler
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
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
    APIKeySecurityScheme,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import AGENT_CARD_WELL_KNOWN_PATH, PROTOCOL_VERSION_CURRENT
from llmspell.runtime import Component, Invocation, Runtime, Skill
from starlette.responses import JSONResponse
from starlette.routing import Mount, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import asgi
from . import http
from .executor import ComponentExecutor, stop
from .identity import ANONYMOUS, IdentityContextBuilder, viewer

CARD_MAX_AGE = 60
"""Seconds a client may cache a card before revalidating it (with its ETag)."""
INPUT_MODES = ["text/plain", "text/markdown", "application/json"]
OUTPUT_MODES = ["text/plain", "application/json", "image/png", "application/octet-stream"]


@dataclass(frozen=True, slots=True)
class A2AOptions:
    base_url: str
    """Where the gateway is reached, e.g. http://127.0.0.1:8765; cards carry absolute URLs."""
    database: Path | str | None = None
    """The SQLite file or PostgreSQL URL of the task and push-config stores; None: memory."""
    version: str = "0"
    name: str = "llmspell"
    description: str = "An llmspell gateway: its agents, workflows and tools as skills."
    jwt: bool = False
    """Bearer JWTs are required: the cards declare an HTTP bearer scheme."""
    api_keys: bool = False
    """API keys are accepted: the cards declare an `X-API-Key` header scheme."""


def _security(options: A2AOptions) -> dict[str, Any]:
    """The card fields that say how to authenticate; any one declared scheme will do."""
    schemes: dict[str, SecurityScheme] = {}
    if options.jwt:
        schemes["bearer"] = SecurityScheme(
            http_auth_security_scheme=HTTPAuthSecurityScheme(scheme="Bearer", bearer_format="JWT")
        )
    if options.api_keys:
        schemes["apiKey"] = SecurityScheme(
            api_key_security_scheme=APIKeySecurityScheme(location="header", name="X-API-Key")
        )
    if not schemes:
        return {}
    return {
        "security_schemes": schemes,
        "security_requirements": [
            SecurityRequirement(schemes={name: StringList()}) for name in schemes
        ],
    }


def _interfaces(url: str, grpc: str | None, tenant: str) -> list[AgentInterface]:
    """Every binding served: JSON-RPC and HTTP+JSON at `url`, and gRPC when it is up (one
    server for all endpoints, told apart by the tenant)."""
    interfaces = [
        AgentInterface(
            url=f"{url}/", protocol_binding="JSONRPC", protocol_version=PROTOCOL_VERSION_CURRENT
        ),
        AgentInterface(
            url=url, protocol_binding="HTTP+JSON", protocol_version=PROTOCOL_VERSION_CURRENT
        ),
    ]
    if grpc is not None:
        interfaces.append(
            AgentInterface(
                url=grpc,
                protocol_binding="GRPC",
                tenant=tenant,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            )
        )
    return interfaces


def _skills(component: Component) -> list[AgentSkill]:
    """What an agent declares (`Agent.define{skills=...}`), else the component as one skill."""
    declared = component.skills or (
        Skill(
            component.name,
            component.name,
            component.description or f"{component.kind} {component.name}",
            (component.kind,),
        ),
    )
    return [
        AgentSkill(
            id=s.id,
            name=s.name,
            description=s.description or component.description or s.name,
            tags=list(s.tags) or [component.kind],
            examples=list(s.examples),
            input_modes=list(component.input_modes),
            output_modes=list(component.output_modes),
        )
        for s in declared
    ]


def _modes(components: list[Component], attr: str, default: list[str]) -> list[str]:
    """The union of what the components declare, in order; a component that declares nothing
    takes the default."""
    modes: list[str] = []
    for c in components:
        for mode in getattr(c, attr) or default:
            if mode not in modes:
                modes.append(mode)
    return modes or list(default)


def card(component: Component, options: A2AOptions, grpc: str | None = None) -> AgentCard:
    """The card of one component's own endpoint: its skills (itself, unless it declares some)."""
    return AgentCard(
        name=component.name,
        description=component.description or f"{component.kind} {component.name}",
        version=options.version,
        supported_interfaces=_interfaces(
            f"{options.base_url}/a2a/{component.name}", grpc, component.name
        ),
        capabilities=AgentCapabilities(streaming=True, push_notifications=True),
        default_input_modes=list(component.input_modes) or INPUT_MODES,
        default_output_modes=list(component.output_modes) or OUTPUT_MODES,
        skills=_skills(component),
        **_security(options),
    )


def gateway_card(
    components: list[Component], options: A2AOptions, grpc: str | None = None
) -> AgentCard:
    """The gateway as one agent: every component's skills, the component picked by message
    metadata `{"skill": name}` (default: the first agent)."""
    return AgentCard(
        name=options.name,
        description=options.description,
        version=options.version,
        supported_interfaces=_interfaces(f"{options.base_url}/a2a", grpc, ""),
        capabilities=AgentCapabilities(streaming=True, push_notifications=True),
        default_input_modes=_modes(components, "input_modes", INPUT_MODES),
        default_output_modes=_modes(components, "output_modes", OUTPUT_MODES),
        skills=[skill for c in components for skill in _skills(c)],
        **_security(options),
    )


@dataclass(slots=True)
class _Endpoint:
    """One agent endpoint: the SDK request handler and its HTTP routes."""

    handler: RequestHandler
    router: Router
    grpc: Any = field(default=None)
    """The SDK's GrpcHandler over `handler`, made on the first gRPC request."""


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    """WAL with synchronous=NORMAL: each task event is one commit, and a full fsync per commit
    would slow every task down. Commits still survive a killed process; only a power loss can
    drop the last ones."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _engine(database: Path | str) -> Any:
    """SQLAlchemy's async engine on the SQLite file (WAL), or on PostgreSQL through asyncpg
    (a `postgresql://` URL, which replicas share)."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    if isinstance(database, str):
        rest = database.partition("://")[2]
        return create_async_engine(f"postgresql+asyncpg://{rest}", pool_pre_ping=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(f"sqlite+aiosqlite:///{database}")
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class A2AServer:
    """Every catalog component is reachable at `/a2a/<name>` (its own card and endpoint, built
    on first use and dropped when the component changes), and the gateway itself at `/a2a`
    with a card listing every component as a skill. Cards always reflect the current catalog."""

    def __init__(
        self,
        runtime: Runtime,
        options: A2AOptions,
        authenticator: Any = None,
        *,
        redis: Any = None,
        prefix: str = "llmspell:a2a",
    ) -> None:
        """`redis` (the gateway's `Cluster.redis`) makes tasks reach across replicas: cancels
        and resubscriptions (`replicas.py`), with its keys and channels under `prefix`. It
        needs a running loop: the cancel listener starts here."""
        self.runtime = runtime
        self.options = options
        self.authenticator = authenticator
        """The gateway's, for gRPC (HTTP requests are checked by its middleware)."""
        self._http = httpx.AsyncClient(timeout=10)
        if options.database is not None:
            engine = _engine(options.database)
            self.tasks: TaskStore = DatabaseTaskStore(engine)
            self.push_configs: PushNotificationConfigStore = DatabasePushNotificationConfigStore(
                engine
            )
        else:
            self.tasks = InMemoryTaskStore()
            self.push_configs = InMemoryPushNotificationConfigStore()
        self._endpoints: dict[str, _Endpoint] = {}
        self._running: dict[str, Invocation] = {}
        """Every endpoint's running calls, by task id."""
        self.replicas: Any = None
        if redis is not None:
            from .replicas import Replicas

            self.replicas = Replicas(redis, prefix)
            self.replicas.start(lambda task_id: stop(self._running, task_id))
        self._grpc: Any = None
        self.grpc_target: str | None = None
        """`host:port` of the gRPC binding once it is up; cards list it from then on."""
        self._changed_at = time.time()
        runtime.catalog.on_change(lambda change: self._changed())

    def _changed(self) -> None:
        self._endpoints.clear()
        self._changed_at = time.time()

    def components(self) -> list[Component]:
        """What the current caller may call: agents and workflows first (the default agent is
        the first of them), then tools."""
        caller, allows = viewer.get(), self.runtime.pipeline.allows
        catalog = [c for c in self.runtime.catalog if allows(caller, c)]
        return [c for c in catalog if c.kind != "tool"] + [c for c in catalog if c.kind == "tool"]

    def app(self) -> ASGIApp:
        """`/a2a/...` and the gateway's card at the well-known path. Cards may be cached for
        a short while (Cache-Control, Last-Modified: the last catalog change) and revalidated
        with the SDK's ETag."""

        async def fresh(_: AgentCard) -> AgentCard:
            return gateway_card(self.components(), self.options, self.grpc_target)

        router = Router(
            routes=[
                Mount("/a2a", app=self._dispatch),
                *create_agent_card_routes(
                    gateway_card(self.components(), self.options, self.grpc_target),
                    card_modifier=fresh,
                    card_url=AGENT_CARD_WELL_KNOWN_PATH,
                ),
            ]
        )

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            viewer.set(asgi.caller(scope) or ANONYMOUS)
            if scope["type"] == "http" and scope["path"].endswith(AGENT_CARD_WELL_KNOWN_PATH):
                cache = [
                    (b"cache-control", f"public, max-age={CARD_MAX_AGE}".encode()),
                    (b"last-modified", formatdate(self._changed_at, usegmt=True).encode()),
                ]
                send = http.with_headers(send, cache)
            await router(scope, receive, send)

        return serve

    def _reachable(self, name: str) -> bool:
        """A component this request's caller may see (the policy hides the rest)."""
        component = self.runtime.catalog.find(name)
        return component is not None and self.runtime.pipeline.allows(viewer.get(), component)

    def _endpoint(self, name: str | None) -> _Endpoint:
        key = name or ""
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            if name is None:
                components = self.components()
                agent_card = gateway_card(components, self.options, self.grpc_target)
                default = next((c.name for c in components if c.kind != "tool"), None)
            else:
                agent_card = card(self.runtime.catalog.get(name), self.options, self.grpc_target)
                default = None
            builder = IdentityContextBuilder()
            make = DefaultRequestHandlerV2 if self.replicas is None else self.replicas.handler
            handler = make(
                agent_executor=ComponentExecutor(self.runtime, name, default, self._running),
                task_store=self.tasks,
                agent_card=agent_card,
                push_config_store=self.push_configs,
                push_sender=BasePushNotificationSender(self._http, self.push_configs),
                validate_input_modes=True,
            )
            router = Router(
                routes=[
                    *create_agent_card_routes(agent_card),
                    *create_jsonrpc_routes(handler, "/", context_builder=builder),
                    *create_rest_routes(handler, context_builder=builder),
                ]
            )
            endpoint = self._endpoints[key] = _Endpoint(handler, router)
        return endpoint

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`/a2a/<name>/...` goes to that component's endpoint; anything else is the gateway's."""
        path: str = scope.get("path", "")
        root = scope.get("root_path", "")
        rest = path[len(root) :] if path.startswith(root) else path
        first, _, sub = rest.lstrip("/").partition("/")
        if first and first in self.runtime.catalog:
            if not self._reachable(first):
                await JSONResponse({"error": f"no agent {first!r} here"}, 404)(scope, receive, send)
                return
            scope = {**scope, "root_path": f"{root}/{first}", "path": path}
            endpoint = self._endpoint(first)
        else:
            endpoint, sub = self._endpoint(None), rest.lstrip("/")
        jsonrpc = sub == "" and scope.get("method") == "POST"
        await http.guarded(endpoint.router, jsonrpc, scope, receive, send)

    # -- gRPC ------------------------------------------------------------------------------------

    async def start_grpc(self, host: str, port: int) -> str:
        """Serve every endpoint over gRPC too (needs the `grpc` extra); returns `host:port`."""
        from . import grpc_server

        self._grpc, self.grpc_target = await grpc_server.serve(
            grpc_server.TenantRouter(self._grpc_handler, self.authenticator), host, port
        )
        self._endpoints.clear()  # cards made before now do not list gRPC
        return self.grpc_target

    def _grpc_handler(self, tenant: str) -> Any:
        if tenant and not self._reachable(tenant):
            return None
        endpoint = self._endpoint(tenant or None)
        if endpoint.grpc is None:
            from .grpc_server import spec_handler

            endpoint.grpc = spec_handler(endpoint.handler)
        return endpoint.grpc

    async def aclose(self) -> None:
        if self.replicas is not None:
            await self.replicas.aclose()
        if self._grpc is not None:
            await self._grpc.stop(1)
        await self._http.aclose()
