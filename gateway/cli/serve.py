"""`llmspell serve`: the gateway as a service: the HTTP gateway plus the `[[schedule]]` jobs,
a graceful stop on SIGTERM (exit 0) and a config reload on SIGHUP."""

from __future__ import annotations

import argparse

from .common import Commands, error
from .gateway import configured, http_options, run_loop

DEFAULT_GRACE = 30.0


def add(commands: Commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="the gateway plus scheduled jobs, for running as a service",
        description="Serve the catalog over MCP and A2A like `llmspell gateway`, run the "
        "config's [[schedule]] jobs, stop gracefully on SIGTERM and reload the config on SIGHUP.",
    )
    http_options(serve)
    serve.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE,
        metavar="SECONDS",
        help=f"on SIGTERM, how long in-flight calls and job runs may finish (default "
        f"{DEFAULT_GRACE:g})",
    )
    serve.set_defaults(handler=handle)


def handle(ns: argparse.Namespace) -> int:
    from llmspell.runtime import LLMSpellError

    from ..config import ConfigError
    from ..serve import ServeOptions, serve

    try:
        config = configured(ns)
    except ConfigError as exc:
        return error(str(exc))
    if ns.grace < 0:
        return error("--grace must be 0 or more seconds")
    options = ServeOptions(
        reload=ns.reload,
        quiet=ns.quiet,
        insecure=ns.insecure,
        service=True,
        grace=ns.grace,
        reread=lambda: configured(ns),
    )
    try:
        run_loop(serve(config, options))
    except LLMSpellError as exc:
        return error(exc.message)
    except (OSError, ConfigError) as exc:
        return error(str(exc))
    return 0
