"""Resources: readable things named by URI, fixed (`file:///notes.md`) or templated
(`notes://{topic}/today`), with subscriptions so readers hear when one changes."""

from __future__ import annotations

import builtins
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .content import ResourcePart
from .errors import ErrorCode, LLMSpellError
from .prompts import Completer

Reader = Callable[[str, dict[str, str]], Awaitable[builtins.list[ResourcePart]]]
"""(uri, template variables) -> contents."""

_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Resource:
    uri: str
    """A URI, or an RFC 6570 level-1 template (`{name}` placeholders) when `is_template`."""
    name: str
    read: Reader
    description: str = ""
    mime_type: str | None = None
    complete: dict[str, Completer] = field(default_factory=dict)
    """Completers for template variables."""
    source: str = "builtin"

    @property
    def is_template(self) -> bool:
        return _VARIABLE.search(self.uri) is not None

    def match(self, uri: str) -> dict[str, str] | None:
        if not self.is_template:
            return {} if uri == self.uri else None
        pattern, pos = [], 0
        for m in _VARIABLE.finditer(self.uri):
            pattern.append(re.escape(self.uri[pos : m.start()]))
            pattern.append(f"(?P<{m.group(1)}>[^/?#]+)")
            pos = m.end()
        pattern.append(re.escape(self.uri[pos:]))
        found = re.fullmatch("".join(pattern), uri)
        return found.groupdict() if found else None


UpdateListener = Callable[[str], None]


@dataclass(slots=True)
class ResourceRegistry:
    _resources: dict[str, Resource] = field(default_factory=dict)
    _listeners: builtins.list[Callable[[], None]] = field(default_factory=builtins.list)
    _update_listeners: builtins.list[UpdateListener] = field(default_factory=builtins.list)

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """The list of resources changed (one added or removed)."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def on_update(self, listener: UpdateListener) -> Callable[[], None]:
        """A resource's contents changed; subscribers should be told."""
        self._update_listeners.append(listener)
        return lambda: self._update_listeners.remove(listener)

    def register(self, resource: Resource, *, replace: bool = False) -> None:
        existing = self._resources.get(resource.uri)
        if existing is not None and not replace:
            raise ValueError(f"resource {resource.uri!r} is already defined by {existing.source}")
        self._resources[resource.uri] = resource
        for listener in builtins.list(self._listeners):
            listener()

    def unregister(self, uri: str) -> None:
        if self._resources.pop(uri, None) is not None:
            for listener in builtins.list(self._listeners):
                listener()

    def updated(self, uri: str) -> None:
        for listener in builtins.list(self._update_listeners):
            listener(uri)

    def list(self) -> builtins.list[Resource]:
        return [r for r in self._resources.values() if not r.is_template]

    def templates(self) -> builtins.list[Resource]:
        return [r for r in self._resources.values() if r.is_template]

    def resolve(self, uri: str) -> tuple[Resource, dict[str, str]]:
        """The fixed resource for `uri`, else the first template that matches it."""
        fixed = self._resources.get(uri)
        if fixed is not None and not fixed.is_template:
            return fixed, {}
        for resource in self.templates():
            params = resource.match(uri)
            if params is not None:
                return resource, params
        raise LLMSpellError(
            ErrorCode.UNKNOWN_COMPONENT, f"unknown resource {uri!r}", data={"uri": uri}
        )

    def template(self, uri_template: str) -> Resource | None:
        found = self._resources.get(uri_template)
        return found if found is not None and found.is_template else None

    async def read(self, uri: str) -> builtins.list[ResourcePart]:
        resource, params = self.resolve(uri)
        return await resource.read(uri, params)
