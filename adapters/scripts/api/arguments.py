"""Checking what a script passed. A wrong type fails as ScriptAPIError with the call's usage, which
the script sees as an ordinary error (`pcall` / `catch`)."""

from __future__ import annotations

from typing import Any, TypeVar

from llmspell.runtime import ErrorCode, LLMSpellError, Part, TextPart
from llmspell.runtime.content import part_from_plain

API_ERROR = ErrorCode.INVALID_ARGUMENTS
T = TypeVar("T")


class ScriptAPIError(LLMSpellError):
    """Misuse of the API from a script (wrong argument types); surfaces as a script error."""


def need(ok: bool, message: str) -> None:
    if not ok:
        raise ScriptAPIError(API_ERROR, message)


def as_object(value: Any, what: str) -> dict[str, Any]:
    """A table/object, where nothing (or Lua's empty table, which reads as a list) is `{}`."""
    if value is None:
        return {}
    if isinstance(value, list) and not value:
        return {}
    need(isinstance(value, dict), f"{what} must be a table/object")
    return dict(value)


def as_list(value: Any, what: str) -> list[Any]:
    if value is None or value == {}:
        return []
    need(isinstance(value, list), f"{what} must be a list")
    return list(value)


def strings(value: Any, what: str) -> list[str]:
    items = as_list(value, what)
    need(all(isinstance(i, str) for i in items), f"{what} must be a list of strings")
    return items


def part(value: Any, what: str) -> Part:
    """A string is a text part; a table/object is read by the runtime's one part reader."""
    if isinstance(value, str):
        return TextPart(value)
    need(isinstance(value, dict), f"{what}: a part is a string or a table/object")
    try:
        return part_from_plain(value)
    except (ValueError, KeyError, TypeError) as exc:
        raise ScriptAPIError(API_ERROR, f"{what}: {exc}") from None


def parts(value: Any, what: str) -> list[Part]:
    """Nothing, one part or a list of them."""
    if value is None:
        return []
    return [part(item, what) for item in (value if isinstance(value, list) else [value])]


def plugged(port: T | None, what: str) -> T:
    """A runtime port (the MCP or A2A client) that the entry point may not have plugged in."""
    if port is None:
        raise LLMSpellError(
            ErrorCode.NOT_CONFIGURED, f"{what}: this runtime has no {what} client plugged in"
        )
    return port
