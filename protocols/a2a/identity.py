"""Who is calling, carried from the gateway's auth into the SDK's call context and from there
to the executor, which puts it on the Invocation (where the policy and limits read it)."""

from __future__ import annotations

from contextvars import ContextVar

from a2a.auth.user import User
from a2a.server.context import ServerCallContext
from a2a.server.routes.common import DefaultServerCallContextBuilder
from llmspell.runtime import Identity
from starlette.requests import Request

from .. import asgi

ANONYMOUS = Identity(subject="a2a")
"""Callers when auth is off, or on a public path (cards) without credentials."""
viewer: ContextVar[Identity] = ContextVar("llmspell_a2a_viewer", default=ANONYMOUS)
"""The caller of the request being served: set per HTTP request and per gRPC call."""


class IdentityUser(User):
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    @property
    def is_authenticated(self) -> bool:
        return self.identity is not ANONYMOUS

    @property
    def user_name(self) -> str:
        return self.identity.subject


class IdentityContextBuilder(DefaultServerCallContextBuilder):
    def build_user(self, request: Request) -> User:
        return IdentityUser(asgi.caller(request.scope) or ANONYMOUS)


def caller(context: ServerCallContext | None) -> Identity:
    user = context.user if context is not None else None
    return user.identity if isinstance(user, IdentityUser) else ANONYMOUS
