"""The `cache` built-in: answer a repeated tool call from memory instead of running the tool.

Only tools that say running them twice changes nothing (annotated `read_only` or `idempotent`)
are cached: for any other tool a second run is part of what the caller asked for. The key is
the tool and its arguments as canonical JSON (sorted keys), so `{a=1, b=2}` and `{b=2, a=1}`
share an entry. Entries live `ttl` seconds; past `max_entries` the least recently used goes.

It sits at two points. `before_tool` (late, priority 90, after the hooks that may rewrite the
arguments or cancel) answers a hit with `replace`; `after_tool` (first, priority -100, before
other hooks rewrite the answer) stores a successful result on a miss. A hit goes through the
after-hooks again, so a hook that redacts or logs sees it like any answer. The cache is per
process and shared by every caller the policy lets call the tool.
"""

from __future__ import annotations

import copy
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from llmspell.runtime.catalog import Catalog
from llmspell.runtime.hooks import HookRegistry

BEFORE_PRIORITY = 90
AFTER_PRIORITY = -100


def cacheable(catalog: Catalog, name: str) -> bool:
    """Whether running `name` again would change nothing: annotated read-only or idempotent."""
    component = catalog.find(name)
    if component is None or component.kind != "tool":
        return False
    hints = component.annotations
    return bool(hints.read_only or hints.idempotent)


def cache_key(component: str, arguments: Any) -> str:
    """The tool and its arguments as canonical JSON: key order and spacing do not matter."""
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=repr)
    return f"{component}\x00{canonical}"


class ResultCache:
    def __init__(
        self,
        catalog: Catalog,
        *,
        ttl: float = 60.0,
        max_entries: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.catalog = catalog
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def install(self, hooks: HookRegistry) -> list[int]:
        return [
            hooks.register(
                "before_tool", self.before, priority=BEFORE_PRIORITY, name="builtin:cache"
            ),
            hooks.register("after_tool", self.after, priority=AFTER_PRIORITY, name="builtin:cache"),
        ]

    def _fresh(self, key: str) -> dict[str, Any] | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return found[1]

    async def before(self, ctx: dict[str, Any]) -> dict[str, Any] | None:
        if not cacheable(self.catalog, ctx["component"]):
            return None
        found = self._fresh(cache_key(ctx["component"], ctx["arguments"]))
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        return {"action": "replace", "result": copy.deepcopy(found)}

    async def after(self, ctx: dict[str, Any]) -> None:
        result = ctx.get("result")
        if not isinstance(result, dict) or result.get("is_error"):
            return  # an error may be transient: the next call should try again
        if not cacheable(self.catalog, ctx["component"]):
            return
        key = cache_key(ctx["component"], ctx["arguments"])
        if self._fresh(key) is not None:
            return  # this answer came from the cache: keep the entry's age
        self._entries[key] = (self._clock() + self.ttl, copy.deepcopy(result))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
