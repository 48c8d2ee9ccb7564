"""The one error model: stable codes that every entry point maps to its own wire format."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNKNOWN_COMPONENT = "unknown_component"
    INVALID_ARGUMENTS = "invalid_arguments"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    DENIED = "denied"
    COMPONENT_FAILED = "component_failed"
    SCRIPT_ERROR = "script_error"
    MEMORY_LIMIT = "memory_limit"
    NOT_CONFIGURED = "not_configured"
    PROVIDER_ERROR = "provider_error"
    UNAVAILABLE = "unavailable"
    """A remote server the component lives on is down or unreachable."""
    RATE_LIMITED = "rate_limited"
    """The caller (or the upstream) is over its rate; `data["retry_after"]` says when to retry."""
    TOO_LARGE = "too_large"
    """The result is bigger than the configured cap."""


class LLMSpellError(Exception):
    """A failure with a stable code; `data` carries machine-readable detail (e.g. suggestions)."""

    def __init__(self, code: ErrorCode, message: str, *, data: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data or {}

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "message": self.message,
            **({"data": self.data} if self.data else {}),
        }
