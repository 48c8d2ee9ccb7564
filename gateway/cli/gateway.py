"""`llmspell gateway` and `llmspell mcp stdio`: serve the catalog over MCP (Streamable HTTP or
stdio) and A2A."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from .common import Commands, catalog_options, error, load_config

if TYPE_CHECKING:
    from ..config import GatewayConfig


def add(commands: Commands) -> None:
    gateway = commands.add_parser(
        "gateway",
        help="serve the catalog over MCP (Streamable HTTP, or stdio with --stdio) and A2A",
    )
    http_options(gateway)
    gateway.add_argument("--stdio", action="store_true", help="serve MCP over stdin/stdout instead")
    gateway.set_defaults(handler=serve)


def http_options(parser: argparse.ArgumentParser) -> None:
    """The options of serving over HTTP, shared by `gateway` and `serve`."""
    _serve_options(parser)
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8765; 0 picks one)")
    parser.add_argument(
        "--stateless",
        action="store_true",
        help="JSON responses and no sessions, for replicas behind a load balancer",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="allow listening beyond loopback without [auth] (anyone who reaches it may call)",
    )
    parser.add_argument("--log-format", choices=["text", "json"], help="log lines as text or JSON")


def add_stdio(actions: Commands) -> None:
    """`mcp stdio`: the gateway over stdio, for IDEs that start it."""
    stdio = actions.add_parser("stdio", help="serve the catalog over MCP stdio (for IDEs)")
    _serve_options(stdio)
    stdio.set_defaults(handler=serve, stdio=True)


def _serve_options(parser: argparse.ArgumentParser) -> None:
    catalog_options(parser)
    parser.add_argument(
        "--reload", action="store_true", help="reload scripts when their files change"
    )
    parser.add_argument("--quiet", action="store_true", help="no start-up summary")


def serve(ns: argparse.Namespace) -> int:
    from llmspell.runtime import LLMSpellError

    from ..config import ConfigError
    from ..serve import ServeOptions
    from ..serve import serve as serve_config

    try:
        config = configured(ns)
    except ConfigError as exc:
        return error(str(exc))
    given = vars(ns)
    options = ServeOptions(
        stdio=ns.stdio, reload=ns.reload, quiet=ns.quiet, insecure=given.get("insecure", False)
    )
    try:
        run_loop(serve_config(config, options))
    except LLMSpellError as exc:
        return error(exc.message)
    except (OSError, ConfigError) as exc:
        return error(str(exc))
    return 0


def configured(ns: argparse.Namespace) -> GatewayConfig:
    """The config with the command line's HTTP and logging options over it; ConfigError."""
    config = load_config(ns)
    given = vars(ns)  # `mcp stdio` has none of the HTTP options
    if given.get("host"):
        config.http.host = given["host"]
    if given.get("port") is not None:
        config.http.port = given["port"]
    if given.get("stateless"):
        config.http.stateless = True
    if given.get("log_format"):
        config.logging.format = given["log_format"]
    return config


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """On uvloop when it is installed (a dependency on Linux and macOS): it serves more
    requests per core than the plain asyncio loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)
