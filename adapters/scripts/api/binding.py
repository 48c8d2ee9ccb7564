"""How a namespace module offers its functions: each binds plain callables to one host."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..engine import HostFunction


def sync(fn: Callable[..., Any]) -> HostFunction:
    return HostFunction(fn)


def async_(fn: Callable[..., Any]) -> HostFunction:
    """Suspends the script until `fn`'s coroutine is done (a Lua yield, a JS Promise)."""
    return HostFunction(fn, is_async=True)


def notify(fn: Callable[..., Any]) -> HostFunction:
    """Fire-and-forget (print, Log): an engine may deliver it later, in order."""
    return HostFunction(fn, notify=True)
