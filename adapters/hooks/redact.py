"""The `redact` built-in: mask configured secrets and patterns in what calls answer.

A tool that reads a file or an environment, or an agent that repeats its prompt, can hand a
secret to whoever called it. This hook rewrites the answers of tools, agents and workflows at
their `after_*` points (priority 100, after other hooks have had their say) with `modify`:
every text part, and every string inside a data part, has each configured secret (a literal
string) and each pattern (a regular expression) replaced by the mask. The `logging` built-in
passes its lines through the same redactor, so a failure's message is masked in the call log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from llmspell.runtime.hooks import HookRegistry

POINTS = ("after_tool", "after_agent", "after_workflow")
PRIORITY = 100
MASK = "[REDACTED]"


class Redactor:
    def __init__(
        self, secrets: Iterable[str] = (), patterns: Iterable[str] = (), mask: str = MASK
    ) -> None:
        literals = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first
        alternatives = [re.escape(s) for s in literals] + list(patterns)
        self._pattern = (
            re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None
        )
        self.mask = mask

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        return self._pattern.sub(self.mask, value)

    def value(self, value: Any) -> Any:
        """Strings masked anywhere inside lists and dicts (keys are left alone)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def result(self, plain: dict[str, Any]) -> dict[str, Any]:
        """A result's plain form (`Result.to_plain`) with its text and data parts masked."""
        parts = []
        for part in plain.get("parts") or []:
            if isinstance(part, dict) and part.get("type") == "text":
                part = {**part, "text": self.text(str(part.get("text", "")))}
            elif isinstance(part, dict) and part.get("type") == "data":
                part = {**part, "data": self.value(part.get("data"))}
            parts.append(part)
        return {**plain, "parts": parts}

    def install(self, hooks: HookRegistry) -> list[int]:
        return [
            hooks.register(point, self.after, priority=PRIORITY, name="builtin:redact")
            for point in POINTS
        ]

    async def after(self, ctx: dict[str, Any]) -> dict[str, Any] | None:
        result = ctx.get("result")
        if self._pattern is None or not isinstance(result, dict):
            return None
        masked = self.result(result)
        if masked == result:
            return None  # nothing to hide: no rebuilding of the result
        return {"action": "modify", "result": masked}
