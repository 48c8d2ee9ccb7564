"""Hooks: interception points around every call, ordered by declared priority (as pluggy does).

A hook receives a plain dict context and may return None (continue), or a dict with
`action` = "continue" | "modify" | "cancel" | "replace". "modify" replaces `arguments`
(before) or `result` (after); "cancel" stops the call with `reason`; "replace" (before) skips
the call and answers with `result` (the after-hooks still see it).
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

HookFn = Callable[[dict[str, Any]], Awaitable[Any]]

POINTS = (
    "before_tool",
    "after_tool",
    "before_agent",
    "after_agent",
    "before_workflow",
    "after_workflow",
)
PRIORITIES = {"first": -100, "high": -10, "normal": 0, "low": 10, "last": 100}


@dataclass(order=True, slots=True)
class Hook:
    priority: int
    seq: int
    point: str = field(compare=False)
    fn: HookFn = field(compare=False)
    match: str | None = field(compare=False, default=None)
    name: str = field(compare=False, default="")
    id: int = field(compare=False, default=0)

    def applies(self, component: str) -> bool:
        return self.match is None or fnmatch.fnmatchcase(component, self.match)


class HookRegistry:
    def __init__(self) -> None:
        self._by_point: dict[str, list[Hook]] = {}
        self._seq = itertools.count(1)

    def register(
        self,
        point: str,
        fn: HookFn,
        *,
        priority: int | str = "normal",
        match: str | None = None,
        name: str = "",
    ) -> int:
        """Register and return an id for `unregister`. Unknown points are refused, not ignored."""
        if point not in POINTS:
            raise ValueError(f"unknown hook point {point!r}; known points: {', '.join(POINTS)}")
        if isinstance(priority, str):
            if priority not in PRIORITIES:
                raise ValueError(
                    f"unknown hook priority {priority!r}; use {', '.join(PRIORITIES)} or a number"
                )
            priority = PRIORITIES[priority]
        seq = next(self._seq)
        hooks = self._by_point.setdefault(point, [])
        hooks.append(Hook(int(priority), seq, point, fn, match, name or f"hook#{seq}", seq))
        hooks.sort()
        return seq

    def unregister(self, hook_id: int) -> bool:
        for hooks in self._by_point.values():
            for hook in hooks:
                if hook.id == hook_id:
                    hooks.remove(hook)
                    return True
        return False

    def for_point(self, point: str, component: str) -> list[Hook]:
        hooks = self._by_point.get(point)
        if not hooks:
            return []
        return [h for h in hooks if h.applies(component)]
