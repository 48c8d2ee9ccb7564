"""`llmspell mcp login|logout SERVER`: the one authorization an `auth = "oauth"` upstream needs a
person for, and its undoing. Tokens go to the state store sealed (`[oauth]`), where the gateway
finds them (a running gateway picks a login up within a second); `mcp status` reads them back
as `authorized, expires in N s` or `needs login`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from .common import Commands, catalog_options, error, load_config

if TYPE_CHECKING:
    from llmspell.protocols.mcp.spec import ServerSpec
    from llmspell.protocols.mcp.token_store import TokenVault

    from ..config import GatewayConfig


class _Refused(Exception):
    """A one-line reason the command cannot go on."""


def add(actions: Commands) -> None:
    login = actions.add_parser(
        "login",
        help='authorize an `auth = "oauth"` server: prints the URL to open, stores the tokens',
        description="Runs the OAuth authorization once: prints the authorization URL to open "
        "in a browser, receives the redirect on a loopback port, and stores the tokens "
        "(encrypted) in the state store for the gateway to use and refresh.",
    )
    login.add_argument("server", metavar="SERVER", help="the mcpServers entry's name")
    catalog_options(login)
    login.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the redirect (300)"
    )
    login.add_argument(
        "--force", action="store_true", help="log in again even when the stored tokens work"
    )
    login.set_defaults(handler=_login)
    logout = actions.add_parser(
        "logout", help="forget a server's stored OAuth tokens and client registration"
    )
    logout.add_argument("server", metavar="SERVER", help="the mcpServers entry's name")
    catalog_options(logout)
    logout.set_defaults(handler=_logout)


@asynccontextmanager
async def _vault(config: GatewayConfig) -> AsyncIterator[TokenVault]:
    """The token vault over the config's state store, closed afterwards."""
    from llmspell.adapters.state import store_at

    from ..oauth_config import vault_for

    target = config.state_target()
    if target is None:
        raise _Refused(
            '[state] backend = "memory" keeps no tokens across processes; '
            "a login needs the SQLite or PostgreSQL store"
        )
    store = store_at(target)
    try:
        yield await vault_for(config, store)
    finally:
        await store.aclose()


def _oauth_spec(config: GatewayConfig, name: str) -> ServerSpec:
    specs = {s.name: s for s in config.server_specs()}
    spec = specs.get(name)
    if spec is None:
        raise _Refused(f"no MCP server named {name!r}; configured: {', '.join(specs) or 'none'}")
    if spec.auth != "oauth":
        raise _Refused(f'MCP server {name!r} has auth = "{spec.auth}", not "oauth"')
    return spec


def _run(ns: argparse.Namespace, work: Any) -> int:
    from llmspell.protocols.mcp.token_store import TokenKeyError

    from ..config import ConfigError

    try:
        config = load_config(ns)
        return int(asyncio.run(work(config, _oauth_spec(config, ns.server))))
    except (ConfigError, TokenKeyError, _Refused) as exc:
        return error(str(exc))


def _login(ns: argparse.Namespace) -> int:
    return _run(ns, lambda config, spec: _authorize(config, spec, ns.timeout, ns.force))


async def _authorize(config: GatewayConfig, spec: ServerSpec, wait: float, force: bool) -> int:
    """Open one MCP session through the interactive flow: the server's 401 starts discovery,
    registration and the authorization; the session's own listing proves the tokens work."""
    from llmspell.protocols.mcp import transport
    from llmspell.protocols.mcp.client import CLIENT_INFO
    from llmspell.protocols.mcp.oauth import OAuthSettings, oauth_auth
    from llmspell.protocols.mcp.token_store import TokenKeyError
    from mcp.client.client import Client

    async with _vault(config) as vault:
        storage = vault.storage(spec.name)
        try:
            await vault.read(spec.name)
        except TokenKeyError:  # sealed with another key: unusable, so logged in afresh
            await vault.forget(spec.name)
        if force:
            await storage.clear_tokens()
        settings = spec.oauth or OAuthSettings()
        assert spec.url is not None
        auth = oauth_auth(spec.url, settings, storage, redirect="interactive", timeout=wait)
        client = Client(
            transport.connect(spec, lambda how, why: None, auth),
            mode="legacy",
            cache=None,
            client_info=CLIENT_INFO,
            read_timeout_seconds=spec.connect_timeout,
        )
        try:
            async with asyncio.timeout(wait + spec.connect_timeout), client:
                tools = await client.list_tools()
        except Exception as exc:  # the flow's errors come wrapped in the SDK's task groups
            raise _Refused(f"login to {spec.name!r} failed: {_describe(exc)}") from None
        status = await vault.status(spec.name)
    print(f"{spec.name}: {status.describe()} ({len(tools.tools)} tools)")
    return 0


def _logout(ns: argparse.Namespace) -> int:
    async def forget(config: GatewayConfig, spec: ServerSpec) -> int:
        async with _vault(config) as vault:
            had = await vault.forget(spec.name)
        print(f"{spec.name}: {'tokens forgotten' if had else 'no tokens were stored'}")
        return 0

    return _run(ns, forget)


async def auth_states(config: GatewayConfig, servers: list[dict[str, Any]]) -> None:
    """Add `auth_state` to each server's row: its auth kind, and for `auth = "oauth"` what the
    stored tokens say (`authorized, expires in N s`, `needs login`)."""
    from llmspell.protocols.mcp.token_store import TokenKeyError

    kinds = {s.name: s.auth for s in config.server_specs()}
    oauth = [s for s in servers if kinds.get(s["name"]) == "oauth"]
    for s in servers:
        s["auth_state"] = kinds.get(s["name"], s.get("auth", "service"))
    if not oauth or config.state_target() is None:
        return
    async with _vault(config) as vault:
        for s in oauth:
            try:
                s["auth_state"] = f"oauth: {(await vault.status(s['name'])).describe()}"
            except TokenKeyError as exc:
                s["auth_state"] = f"oauth: {exc}"


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return str(exc) or type(exc).__name__
