"""`environment-reader`: the gateway's environment variables, as far as the policy shows them.
Only allow-listed names are readable, secret-looking values are masked, and a refusal is the
same whether or not the variable exists, so the tool cannot be used to probe for secrets."""

from __future__ import annotations

import os
from typing import Any

from llmspell.runtime import Component, ErrorCode, LLMSpellError, Result
from llmspell.runtime.sandbox import EnvironmentPolicy

from .._common import answer, tool

NAME = "environment-reader"
MASK = "****"


def _shown(policy: EnvironmentPolicy, name: str, value: str) -> dict[str, Any]:
    secret = policy.is_secret(name)
    return {"name": name, "value": MASK if secret else value, "masked": secret}


def component(policy: EnvironmentPolicy) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        if args["operation"] == "list":
            found = [
                _shown(policy, name, value)
                for name, value in sorted(os.environ.items())
                if policy.allows(name)
            ]
            return answer(
                "\n".join(f"{v['name']}={v['value']}" for v in found),
                {"variables": found},
            )
        name: str = args["name"]
        if not policy.allows(name):
            raise LLMSpellError(
                ErrorCode.DENIED,
                f"{NAME}: {name!r} is not on the allow list ({', '.join(policy.allow)}); "
                "add it to [tools.environment] allow in llmspell.toml to read it",
                data={"name": name},
            )
        value = os.environ.get(name)
        if value is None:
            return answer(f"{name} is not set", {"name": name, "set": False, "value": None})
        shown = _shown(policy, name, value) | {"set": True}
        return answer(f"{name}={shown['value']}", shown)

    return tool(
        NAME,
        "Reads the gateway's environment variables: one by name, or the list of those it may "
        "show. Only allow-listed names ([tools.environment] allow) are readable; values of "
        "names that look secret (KEY, TOKEN, PASSWORD...) are masked.",
        {"name": {"type": "string", "minLength": 1, "description": "get: the variable's name"}},
        handle,
        operations={"get": ["name"], "list": []},
    )
