"""A2A over gRPC, with the `llmspell[grpc]` extra: one grpc.aio server for every endpoint.

A request's `tenant` names the component, as its card's gRPC interface says; no tenant is the
gateway itself. The SDK's GrpcHandler does the wire work; this only picks which one.

Every import of grpc and of the A2A SDK is inside a function: `available()` is asked at
start-up, where importing the SDK would delay the gateway's readiness for MCP clients too.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable
from typing import Any

UNARY = (
    "SendMessage",
    "GetTask",
    "ListTasks",
    "CancelTask",
    "CreateTaskPushNotificationConfig",
    "GetTaskPushNotificationConfig",
    "ListTaskPushNotificationConfigs",
    "DeleteTaskPushNotificationConfig",
    "GetExtendedAgentCard",
)
STREAMING = ("SendStreamingMessage", "SubscribeToTask")


def available() -> bool:
    """Whether grpcio is installed (the `grpc` extra); without it A2A is JSON-RPC and HTTP+JSON."""
    return importlib.util.find_spec("grpc") is not None


def _unary(name: str) -> Callable[..., Any]:
    async def method(self: TenantRouter, request: Any, context: Any) -> Any:
        handler = await self.handler(request, context)
        return await getattr(handler, name)(request, context)

    method.__name__ = name
    return method


def _streaming(name: str) -> Callable[..., Any]:
    async def method(self: TenantRouter, request: Any, context: Any) -> AsyncIterator[Any]:
        handler = await self.handler(request, context)
        async for item in getattr(handler, name)(request, context):
            yield item

    method.__name__ = name
    return method


class TenantRouter:
    """The A2AService servicer: each RPC goes to the GrpcHandler of the request's tenant, once
    the caller is authenticated (when the gateway asks for it) and the `a2a-version` metadata
    (when sent) names a version this server speaks."""

    def __init__(self, handler_for: Callable[[str], Any], authenticator: Any = None) -> None:
        self._handler_for = handler_for
        self._authenticator = authenticator

    async def handler(self, request: Any, context: Any) -> Any:
        import grpc
        from a2a.utils.constants import PROTOCOL_VERSION_CURRENT

        from .identity import ANONYMOUS, viewer

        metadata = {
            k.lower(): v.decode() if isinstance(v, bytes) else v
            for k, v in context.invocation_metadata() or ()
        }
        viewer.set(ANONYMOUS)
        if self._authenticator is not None:
            try:
                identity, _ = await self._authenticator.authenticate(metadata)
            except Exception as exc:
                status = getattr(exc, "status", None)  # the gateway's AuthFailure carries one
                if status is None:
                    raise
                code = (
                    grpc.StatusCode.PERMISSION_DENIED
                    if status == 403
                    else grpc.StatusCode.UNAUTHENTICATED
                )
                await context.abort(code, getattr(exc, "description", str(exc)))
            viewer.set(identity)
        version = metadata.get("a2a-version")
        if version is not None and _major(version) != _major(PROTOCOL_VERSION_CURRENT):
            await abort(
                context,
                grpc.StatusCode.UNIMPLEMENTED,
                "VERSION_NOT_SUPPORTED",
                f"A2A version {version} is not supported; this agent speaks "
                f"{PROTOCOL_VERSION_CURRENT}",
            )
        tenant: str = getattr(request, "tenant", "")
        handler = self._handler_for(tenant)
        if handler is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no agent named {tenant!r} here")
        return handler


def _major(version: str | bytes) -> str:
    text = version.decode() if isinstance(version, bytes) else version
    return text.strip().partition(".")[0]


async def abort(context: Any, code: Any, reason: str, message: str) -> None:
    """End the call with `code` and a google.rpc.ErrorInfo naming the A2A error, as the SDK
    does for the errors it maps itself."""
    from a2a.utils.grpc_status import status_to_grpc
    from google.protobuf import any_pb2
    from google.rpc import error_details_pb2, status_pb2

    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="a2a-protocol.org"))
    status = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    rich = status_to_grpc(status)
    context.set_trailing_metadata(tuple(rich.trailing_metadata))
    await context.abort(rich.code, rich.details)


def spec_handler(request_handler: Any) -> Any:
    """The SDK's GrpcHandler, with the status codes of the spec's table (section 5.4) where the
    SDK differs: the "not supported" errors are UNIMPLEMENTED, not FAILED_PRECONDITION."""
    import grpc
    from a2a import types
    from a2a.server.request_handlers.grpc_handler import (
        DefaultGrpcServerCallContextBuilder,
        GrpcHandler,
    )
    from a2a.utils.errors import A2A_ERROR_REASONS

    from .identity import IdentityUser, viewer

    unimplemented = (
        types.UnsupportedOperationError,
        types.PushNotificationNotSupportedError,
        types.VersionNotSupportedError,
    )

    class Builder(DefaultGrpcServerCallContextBuilder):
        def build_user(self, context: Any) -> Any:
            return IdentityUser(viewer.get())  # set by TenantRouter, in this same task

    class SpecGrpcHandler(GrpcHandler):
        async def abort_context(self, error: Any, context: Any) -> None:
            if isinstance(error, unimplemented):
                reason = A2A_ERROR_REASONS.get(type(error), "UNKNOWN_ERROR")
                message = getattr(error, "message", None) or str(error)
                await abort(context, grpc.StatusCode.UNIMPLEMENTED, reason, message)
                return
            await super().abort_context(error, context)

    return SpecGrpcHandler(request_handler, context_builder=Builder())


for _name in UNARY:
    setattr(TenantRouter, _name, _unary(_name))
for _name in STREAMING:
    setattr(TenantRouter, _name, _streaming(_name))


async def serve(router: TenantRouter, host: str, port: int) -> tuple[Any, str]:
    """Start a grpc.aio server for `router`; returns it and its target (`host:port`)."""
    import grpc.aio
    from a2a.types import a2a_pb2_grpc

    server = grpc.aio.server()
    a2a_pb2_grpc.add_A2AServiceServicer_to_server(router, server)  # type: ignore[no-untyped-call]
    shown = f"[{host}]" if ":" in host else host
    bound = server.add_insecure_port(f"{shown}:{port}")
    if not bound:
        raise OSError(f"cannot listen for gRPC on {shown}:{port}")
    await server.start()
    return server, f"{shown}:{bound}"
