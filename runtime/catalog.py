"""The catalog: one namespace of components, fed by providers, announcing its changes."""

from __future__ import annotations

import builtins
import difflib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from .component import Component, Kind
from .errors import ErrorCode, LLMSpellError


@dataclass(frozen=True, slots=True)
class CatalogChange:
    action: Literal["added", "removed", "replaced"]
    name: str
    kind: Kind


Listener = Callable[[CatalogChange], None]


SPREAD = 0.15
"""How much less close than the best a suggestion may be."""


class Catalog:
    def __init__(self) -> None:
        self._components: dict[str, Component] = {}
        self._listeners: list[Listener] = []
        self._held: builtins.list[CatalogChange] | None = None

    def __contains__(self, name: object) -> bool:
        return name in self._components

    def __iter__(self) -> Iterator[Component]:
        return iter(self._components.values())

    def __len__(self) -> int:
        return len(self._components)

    def on_change(self, listener: Listener) -> Callable[[], None]:
        """Subscribe to changes; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def register(self, component: Component, *, replace: bool = False) -> None:
        existing = self._components.get(component.name)
        if existing is not None and not replace:
            raise ValueError(
                f"component {component.name!r} is already registered by {existing.source}"
            )
        self._components[component.name] = component
        self._emit(
            CatalogChange("replaced" if existing else "added", component.name, component.kind)
        )

    def unregister(self, name: str) -> None:
        component = self._components.pop(name, None)
        if component is not None:
            self._emit(CatalogChange("removed", name, component.kind))

    def get(self, name: str) -> Component:
        try:
            return self._components[name]
        except KeyError:
            raise self.unknown(name) from None

    def find(self, name: str) -> Component | None:
        return self._components.get(name)

    def list(self, kind: Kind | None = None) -> builtins.list[Component]:
        return [c for c in self._components.values() if kind is None or c.kind == kind]

    def suggest(
        self, name: str, n: int = 3, among: Iterable[str] | None = None
    ) -> builtins.list[str]:
        """Up to `n` names close to `name` (from `among`, default every name), and only those
        nearly as close as the closest: with dozens of built-ins a typo should get its one or
        two likely meanings, not every name that shares a few letters."""
        names = self._components.keys() if among is None else among
        close = difflib.get_close_matches(name, names, n=n, cutoff=0.5)
        if not close:
            return []
        scores = [difflib.SequenceMatcher(None, name, c).ratio() for c in close]
        return [c for c, score in zip(close, scores, strict=True) if score >= scores[0] - SPREAD]

    def unknown(self, name: str) -> LLMSpellError:
        close = self.suggest(name)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return LLMSpellError(
            ErrorCode.UNKNOWN_COMPONENT,
            f"unknown component {name!r}{hint}",
            data={"name": name, "suggestions": close},
        )

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Hold change announcements until the block ends (a script reload takes its tools
        away and brings them back): listeners then hear every change, in order, at once, so a
        client told `list_changed` lists the finished catalog, not the half-way one."""
        if self._held is not None:
            yield
            return
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            for change in held:
                self._emit(change)

    def _emit(self, change: CatalogChange) -> None:
        if self._held is not None:
            self._held.append(change)
            return
        for listener in list(self._listeners):
            listener(change)
