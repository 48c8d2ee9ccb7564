"""`offline/...`: a deterministic, network-free model for demos, examples and tests.

It is what its name says, and it is only used when asked for by name:
- `offline/echo` answers `echo: <the last user message>`;
- `offline/demo` behaves like a small tool-using assistant: offered a `calculator` and asked
  something with arithmetic in it, it calls the tool and then answers with the result;
- `offline/<file>.json` replays a recorded transcript: a list of turns, each
  `{"text": ...}` or `{"tool_calls": [{"name": ..., "arguments": {...}}]}`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from .provider import WIRE_CAPABILITIES, provider_error, require
from .spec import ModelSpec
from .types import ChatRequest, Completion, Done, StreamEvent, TextDelta, ToolCall, Usage

_ARITHMETIC = re.compile(r"[-+*/().\d\s^%]*\d[-+*/().\d\s^%]*[-+*/^%][-+*/().\d\s^%]*\d[)\s]*")


def _tokens(text: str) -> int:
    return max(1, len(text.split()))


class Offline:
    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.capabilities = WIRE_CAPABILITIES["offline"]
        self._turns: list[dict[str, Any]] | None = None
        self._next = 0
        if spec.model.endswith(".json"):
            try:
                turns = json.loads(Path(spec.model).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise provider_error(spec, f"cannot read transcript: {exc}") from None
            if not isinstance(turns, list):
                raise provider_error(spec, "a transcript is a JSON list of turns")
            self._turns = turns
        elif spec.model not in ("echo", "demo"):
            raise provider_error(
                spec, "offline models are 'echo', 'demo' or a transcript path ending in .json"
            )

    async def aclose(self) -> None:
        return None

    async def complete(self, request: ChatRequest) -> Completion:
        require(self.spec, self.capabilities, request)
        completion = self._answer(request)
        prompt = sum(_tokens(m.text) for m in request.messages)
        completion.usage = Usage(
            prompt, _tokens(completion.text) if completion.text else len(completion.tool_calls)
        )
        return completion

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        completion = await self.complete(request)
        words = completion.text.split(" ")
        for i, word in enumerate(words):
            yield TextDelta(word if i == len(words) - 1 else word + " ")
        yield Done(completion)

    def _answer(self, request: ChatRequest) -> Completion:
        if self._turns is not None:
            if self._next >= len(self._turns):
                raise provider_error(self.spec, f"transcript has only {len(self._turns)} turns")
            turn = self._turns[self._next]
            self._next += 1
            calls = [
                ToolCall(f"call_{self._next}_{i}", c["name"], dict(c.get("arguments") or {}))
                for i, c in enumerate(turn.get("tool_calls") or [])
            ]
            return Completion(
                text=str(turn.get("text", "")),
                tool_calls=calls,
                finish_reason="tool_calls" if calls else "stop",
            )
        last = request.messages[-1] if request.messages else None
        user = next((m.text for m in reversed(request.messages) if m.role == "user"), "")
        if self.spec.model == "echo":
            return Completion(text=f"echo: {user}", finish_reason="stop")
        # demo: use the calculator when it is offered and the question has arithmetic in it
        if last is not None and last.role == "tool":
            return Completion(text=f"The answer is {last.text}.", finish_reason="stop")
        offered = {t.name for t in request.tools}
        match = _ARITHMETIC.search(user)
        if "calculator" in offered and match:
            expression = match.group(0).strip().replace("^", "**")
            return Completion(
                tool_calls=[ToolCall("call_1", "calculator", {"expression": expression})],
                finish_reason="tool_calls",
            )
        return Completion(text=f"(offline demo model) You asked: {user}", finish_reason="stop")
