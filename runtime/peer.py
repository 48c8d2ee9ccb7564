"""What a running call may ask of whoever called it: the caller's *peer*.

An MCP client can answer sampling and elicitation requests and receives log messages; a CLI or a
script caller cannot. Components reach it through `Invocation.peer`, so a tool written once can ask
the connected client for an LLM completion without knowing which protocol carried the call.
Requests and answers are runtime types; the protocol side translates them to its wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .content import Part
from .errors import ErrorCode, LLMSpellError
from .prompts import PromptMessage

Feature = Literal["sampling", "elicitation", "logging"]

LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


@dataclass(frozen=True, slots=True)
class SamplingRequest:
    messages: list[PromptMessage]
    max_tokens: int = 1000
    system_prompt: str | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class SamplingReply:
    content: Part
    model: str | None = None
    stop_reason: str | None = None
    role: str = "assistant"


@dataclass(frozen=True, slots=True)
class ElicitReply:
    action: Literal["accept", "decline", "cancel"]
    content: dict[str, Any] | None = None


class Peer(Protocol):
    def supports(self, feature: Feature) -> bool: ...

    async def sample(self, request: SamplingRequest) -> SamplingReply:
        """Ask the caller's LLM for a completion (MCP `sampling/createMessage`)."""

    async def elicit(self, message: str, schema: dict[str, Any]) -> ElicitReply:
        """Ask the caller's user to fill in `schema` (MCP `elicitation/create`)."""

    def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Queue a log message for the caller; never blocks, delivered in order."""


def unsupported(feature: Feature) -> LLMSpellError:
    return LLMSpellError(
        ErrorCode.NOT_CONFIGURED,
        f"the caller cannot answer {feature} requests: it is not an MCP client session "
        f"that offers {feature}",
        data={"feature": feature},
    )
