"""The built-in tools' listing without their code: name, description, schemas, annotations and
category of each tool are read from `catalog.json`, and a tool's category module is imported
(and its components built) on the tool's first call. `llmspell run hello.lua` registers 54
tools and imports none of them.

`catalog.json` is generated from the tool modules themselves (`python -m
llmspell.adapters.tools`); tests/test_startup.py fails when it is stale. The listing
depends on the tool environment in one place only, the process allow list (it names the allowed
commands in `process-executor`'s schema): a category whose listing may differ from the file, or
whose tools have `[tools.NAME]` settings (so a bad setting still fails at start), is built at
once, as before.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.runtime.component import Annotations, Component, Skill

if TYPE_CHECKING:
    from llmspell.runtime.invocation import Invocation

    from ...runtime.content import Result
    from .env import ToolEnv

CATEGORIES: dict[str, str] = {
    name: f"llmspell.adapters.tools.{name}"
    for name in (
        "files",
        "data",
        "utilities",
        "system",
        "media",
        "web",
        "messaging",
        "charts",
        "code",
        "ai",
        "knowledge",
    )
}
"""Each category and its module, in listing order."""

CATALOG_FILE = Path(__file__).with_name("catalog.json")


def build(category: str, env: ToolEnv) -> list[Component]:
    """A category's components with their code: its module imported, its tools built."""
    module = import_module(CATEGORIES[category])
    return [replace(c, category=category) for c in module.components(env)]


def eager(env: ToolEnv) -> list[Component]:
    """Every built-in with its code, in listing order (what `catalog.json` is made from)."""
    return [c for category in CATEGORIES for c in build(category, env)]


def tools(env: ToolEnv) -> list[Component]:
    """Every built-in, in listing order: from `catalog.json` where its listing holds for this
    environment, each handler building its category on first call; built at once otherwise."""
    loader, listing = _Loader(env), _entries()
    out: list[Component] = []
    for category in CATEGORIES:
        entries = listing[category]
        if _static(category, entries, env):
            out.extend(loader.lazy(category, entry) for entry in entries)
        else:
            out.extend(loader.built(category))
    return out


def _static(category: str, entries: list[dict[str, Any]], env: ToolEnv) -> bool:
    if any(entry["name"] in env.settings for entry in entries):
        return False
    if category == "system":
        from llmspell.runtime.sandbox import ProcessPolicy

        return env.sandbox.process.allow == ProcessPolicy().allow
    return True


class _Loader:
    """Builds a category once, on the first call of one of its tools."""

    def __init__(self, env: ToolEnv) -> None:
        self.env = env
        self._built: dict[str, dict[str, Component]] = {}

    def built(self, category: str) -> list[Component]:
        if category not in self._built:
            self._built[category] = {c.name: c for c in build(category, self.env)}
        return list(self._built[category].values())

    def lazy(self, category: str, entry: dict[str, Any]) -> Component:
        name = entry["name"]

        async def call(inv: Invocation) -> Result:
            real = self._built.get(category)
            if real is None:
                self.built(category)
                real = self._built[category]
            return await real[name].handler(inv)

        return _component(entry, call, category)


def _component(entry: dict[str, Any], handler: Any, category: str) -> Component:
    plain = dict(entry)
    plain["annotations"] = Annotations(**plain.get("annotations", {}))
    if "skills" in plain:
        plain["skills"] = tuple(Skill(**s) for s in plain["skills"])
    for key in ("input_modes", "output_modes"):
        if key in plain:
            plain[key] = tuple(plain[key])
    return Component(handler=handler, category=category, **plain)


def _entries() -> dict[str, list[dict[str, Any]]]:
    """Parsed per call: each runtime gets its own schema objects, as a build gives it."""
    data: dict[str, list[dict[str, Any]]] = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return data


def entry(component: Component) -> dict[str, Any]:
    """A component's listing as `catalog.json` keeps it: the fields that differ from the
    defaults, the handler and category left out."""
    default = Component(name=component.name, handler=component.handler)
    out: dict[str, Any] = {}
    for f in fields(Component):
        value = getattr(component, f.name)
        if f.name in ("handler", "category") or (
            f.name != "name" and value == getattr(default, f.name)
        ):
            continue
        if f.name == "annotations":
            value = {k.name: getattr(value, k.name) for k in fields(Annotations)}
            value = {k: v for k, v in value.items() if v is not None}
        elif f.name == "skills":
            value = [_plain(s) for s in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def _plain(skill: Skill) -> dict[str, Any]:
    values = {k.name: getattr(skill, k.name) for k in fields(Skill)}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def generate() -> dict[str, list[dict[str, Any]]]:
    """`catalog.json` as the tool modules describe themselves in the default environment."""
    from .env import ToolEnv

    env = ToolEnv()
    return {category: [entry(c) for c in build(category, env)] for category in CATEGORIES}


def dump(data: dict[str, list[dict[str, Any]]]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
