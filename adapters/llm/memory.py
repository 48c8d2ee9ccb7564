"""Agent memory: an agent's conversation kept in the runtime's state store, so that a later call,
or another process that creates the same agent on the same store, continues it.

The conversation lives under scope `memory:NAME`, key `messages`, as a list of plain messages
(user, assistant with its tool calls, tool results; never the system prompt, which comes from
the agent's spec). A turn is one user message and everything that followed it. Only the last
`turns` turns are kept, and so sent to the model. Saving appends a finished turn through
`StateStore.update`, so two calls running at once both keep their turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llmspell.runtime.state import StateStore

from .types import ImageInput, Message, Role, ToolCall

KEY = "messages"
_ROLES: dict[str, Role] = {
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "system": "system",
}


def scope_of(name: str) -> str:
    return f"memory:{name}"


class Memory:
    """One agent's conversation in `store`, bounded to the last `turns` turns."""

    def __init__(self, store: StateStore, name: str, turns: int) -> None:
        self.store = store
        self.scope = scope_of(name)
        self.turns = turns

    async def load(self) -> list[Message]:
        """The kept conversation, oldest first, at most `turns` turns."""
        stored = await self.store.get(self.scope, KEY)
        messages = [from_plain(m) for m in stored or [] if isinstance(m, dict)]
        return window(messages, self.turns)

    async def append(self, turn: Sequence[Message]) -> None:
        """Add one finished turn to what is stored now (not to what `load` returned: another call
        may have saved its turn since), and drop turns beyond the window."""
        added = [to_plain(m) for m in turn]

        async def grow(current: Any) -> list[dict[str, Any]]:
            kept = list(current) if isinstance(current, list) else []
            return window(kept + added, self.turns, role=lambda m: m.get("role"))

        await self.store.update(self.scope, KEY, grow)

    async def clear(self) -> None:
        await self.store.delete(self.scope, KEY)


def window(messages: list[Any], turns: int, role: Callable[[Any], Any] | None = None) -> list[Any]:
    """The last `turns` turns of `messages` (each starts at a user message); anything before the
    first user message is dropped with the turns it belongs to."""
    role_of = role or (lambda m: m.role)
    starts = [i for i, m in enumerate(messages) if role_of(m) == "user"]
    if not starts or turns <= 0:
        return []
    if len(starts) <= turns:
        return messages[starts[0] :]
    return messages[starts[-turns] :]


def to_plain(message: Message) -> dict[str, Any]:
    """A message as the state store keeps it (JSON-like data; image bytes stay bytes)."""
    plain: dict[str, Any] = {"role": message.role, "text": message.text}
    if message.images:
        plain["images"] = [
            {k: v for k, v in (("mime_type", i.mime_type), ("data", i.data), ("url", i.url)) if v}
            for i in message.images
        ]
    if message.tool_calls:
        plain["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        plain["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        plain["name"] = message.name
    return plain


def from_plain(plain: dict[str, Any]) -> Message:
    role: Role = _ROLES.get(str(plain.get("role")), "user")
    return Message(
        role,
        str(plain.get("text") or ""),
        images=tuple(
            ImageInput(str(i.get("mime_type") or "image/png"), i.get("data"), i.get("url"))
            for i in plain.get("images") or []
            if isinstance(i, dict)
        ),
        tool_calls=tuple(
            ToolCall(str(c.get("id")), str(c.get("name")), dict(c.get("arguments") or {}))
            for c in plain.get("tool_calls") or []
            if isinstance(c, dict)
        ),
        tool_call_id=plain.get("tool_call_id"),
        name=plain.get("name"),
    )
