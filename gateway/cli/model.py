"""`llmspell model list`: the LLM providers, how they are reached, what they can do."""

from __future__ import annotations

import argparse
import json

from .common import Commands, show_help


def add(commands: Commands) -> None:
    model = commands.add_parser("model", help="LLM providers")
    actions = model.add_subparsers(title="model commands", metavar="ACTION")
    listing = actions.add_parser(
        "list", help="known providers, how they are reached, what they can do"
    )
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=list_models)
    model.set_defaults(handler=show_help(model))


def list_models(ns: argparse.Namespace) -> int:
    from llmspell.adapters.llm.registry import describe_providers

    rows = describe_providers()
    if ns.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'provider':<12}{'wire':<11}{'key':<20}{'ready':<7}capabilities")
    for r in rows:
        caps = ",".join(k for k, v in r["capabilities"].items() if v)
        ready = "yes" if r["configured"] else "no"
        print(f"{r['provider']:<12}{r['wire']:<11}{r['key'] or '-':<20}{ready:<7}{caps}")
    return 0
