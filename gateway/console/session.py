"""Who is using the console, and that a form post came from the console's own page.

The gateway's `AuthMiddleware` reads credentials from headers, which a browser does not send
by itself; it lets `/ui` through, and `Gate` finishes the job for the console alone: a caller
the middleware already found (headers) is kept, else the credential the login form stored in
the `llmspell_console` cookie (HttpOnly, SameSite=Strict, Secure over https, path `/ui`) is
checked by the same `Authenticator` on every request. A page without either redirects to the
login form; anything else is 401. The cookie is never read outside `/ui`.

Every state-changing request (any method but GET and HEAD) carries a CSRF token: the
double-submit pattern, a random `llmspell_csrf` cookie that the page also puts in its forms
(`csrf` field) and in a meta tag for the script (`X-CSRF-Token` header). The gate compares
them before the endpoint runs, so no form can forget. It holds without auth too: an open
console on loopback is still reachable from any page the browser has open.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

from llmspell.protocols.asgi import caller, read_body, set_caller
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from ..auth import Authenticator

SESSION = "llmspell_console"
CSRF = "llmspell_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
OPEN = ("/login", "/static/")
"""Console paths served without a session (the login form, the stylesheet and script)."""
SAFE = ("GET", "HEAD")
MAX_FORM = 1 << 20
_NEW = "console_csrf"


def route_path(scope: Scope) -> str:
    """The path below the console's mount (`/catalog` for `/ui/catalog`)."""
    path, root = str(scope.get("path", "")), str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


def csrf_token(request: Request) -> str:
    """This browser's token, made on its first visit (`remember_csrf` then sets the cookie)."""
    token = request.cookies.get(CSRF, "")
    if len(token) < 32:
        state = request.scope.setdefault("state", {})
        token = str(state.setdefault(_NEW, secrets.token_urlsafe(32)))
    return token


def remember_csrf(request: Request, response: Response) -> Response:
    new = request.scope.get("state", {}).get(_NEW)
    if new:
        _cookie(request, response, CSRF, new)
    return response


def store_credential(request: Request, response: Response, credential: str) -> None:
    _cookie(request, response, SESSION, credential)


def forget_credential(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION, path=_mount(request), httponly=True, samesite="strict")


def _mount(request: Request) -> str:
    return request.scope.get("root_path", "") or "/"


def _cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=_mount(request),
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


class Gate:
    """The console's session and CSRF check, in front of every console route."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator | None) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = route_path(scope)
        if scope["method"] not in SAFE:
            body = await read_body(receive, MAX_FORM)
            if body.over:
                await Response("the form is too large\n", status_code=413)(scope, receive, send)
                return
            if not _csrf_ok(request, body.data):
                refused = JSONResponse(
                    {"error": {"code": "csrf", "message": "missing or wrong CSRF token"}},
                    status_code=403,
                )
                await refused(scope, receive, send)
                return
            receive = body.replay(receive)
        if self.authenticator is None or path.startswith(OPEN) or caller(scope) is not None:
            await self.app(scope, receive, send)
            return
        credential = request.cookies.get(SESSION, "")
        if credential:
            from ..auth import AuthFailure

            try:
                identity, _ = await self.authenticator.authenticate(
                    {"authorization": f"Bearer {credential}"}
                )
            except AuthFailure:
                pass
            else:
                set_caller(scope, identity)
                await self.app(scope, receive, send)
                return
        if scope["method"] in SAFE and "text/html" in request.headers.get("accept", ""):
            login = f"{_mount(request).rstrip('/')}/login?next={quote(path, safe='/')}"
            await RedirectResponse(login, status_code=303)(scope, receive, send)
            return
        refused = JSONResponse(
            {"error": {"code": "unauthorized", "message": "log in to the console first"}},
            status_code=401,
        )
        await refused(scope, receive, send)


def _csrf_ok(request: Request, body: bytes) -> bool:
    expected = request.cookies.get(CSRF, "")
    if len(expected) < 32:
        return False
    given = request.headers.get(CSRF_HEADER, "")
    if not given and "application/x-www-form-urlencoded" in request.headers.get("content-type", ""):
        values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [""])
        given = values[0]
    return hmac.compare_digest(given.encode(), expected.encode())
