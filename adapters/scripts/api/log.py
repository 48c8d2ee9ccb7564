"""`print` and `Log`: a script's output. `print` goes to the host's stdout; `Log.*` goes to stderr
at or above the host's level, and to the caller of the call in progress when it listens (an MCP
client's `notifications/message`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Invocation
from llmspell.runtime.invocation import current
from llmspell.runtime.peer import LOG_LEVELS

from ..engine import HostFunction, ScriptFunction
from .binding import notify

if TYPE_CHECKING:
    from .host import ScriptHost

Writer = Callable[[str], None]

_LABEL = {"warning": "WARN"}
_LEVEL_NUMBER = dict(zip(LOG_LEVELS, (10, 20, 25, 30, 40, 50, 50, 50), strict=True))


def to_stdout(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def to_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    def at(level: str) -> HostFunction:
        return notify(lambda *parts: log(host, level, parts, current.get()))

    return {"debug": at("debug"), "info": at("info"), "warn": at("warning"), "error": at("error")}


def print_(host: ScriptHost, *parts: Any) -> None:
    host.stdout("\t".join(display(p) for p in parts) + "\n")


def log(host: ScriptHost, level: str, parts: tuple[Any, ...], inv: Invocation | None) -> None:
    """To stderr at or above the host's `log_level`, and to the caller of `inv` when it listens."""
    text = " ".join(display(p) for p in parts)
    if _LEVEL_NUMBER[level] >= host.log_level:
        host.stderr(f"[{_LABEL.get(level, level.upper())}] {text}\n")
    if inv is not None and inv.peer is not None:
        inv.peer.log(level, text, host.source)


def display(value: Any) -> str:
    """A value as `print` shows it, the same in every language: nil, true, 3 (not 3.0), JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(
            value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_shown
        )
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _shown(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "<function>" if isinstance(value, ScriptFunction) else f"<{type(value).__name__}>"
