"""The operator console at `/ui`: server-rendered pages (Jinja2) over the gateway's own APIs,
with one small script for what a page cannot do without it. Every asset is a file of this
package; nothing is fetched from elsewhere.

`mount` gives the route to add to the gateway's app and the `Gateway` handle that the app
binds to its routes once built (the console reaches the control API, `/readyz` and `/events`
through them, in process)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import Mount, Router

from .internal import Gateway
from .pages import routes
from .session import Gate

if TYPE_CHECKING:
    from ..assembly import Assembly
    from ..auth import Authenticator

__all__ = ["PATH", "Gateway", "mount"]

PATH = "/ui"


def mount(gateway: Assembly, authenticator: Authenticator | None) -> tuple[Mount, Gateway]:
    """The console's `Mount` at `/ui` and the handle to bind to the gateway's routes."""
    handle = Gateway()
    router = Router(routes(gateway.runtime, handle, authenticator, gateway.config.name))
    return Mount(PATH, app=Gate(router, authenticator)), handle
