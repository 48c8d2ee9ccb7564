"""Who may call what, from `[policy]`: rules on identity subject, scopes and component name
globs; the first rule that matches decides. The pipeline asks it before every call, and the MCP
and A2A servers ask it when listing, so a denied component is not even shown."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from llmspell.runtime import Component, Identity

from .config import PolicyConfig, PolicyRule


@dataclass(frozen=True, slots=True)
class Rule:
    allow: bool
    components: tuple[str, ...]
    subjects: tuple[str, ...]
    scopes: frozenset[str]

    @classmethod
    def of(cls, rule: PolicyRule) -> Rule:
        return cls(
            rule.effect == "allow",
            tuple(rule.components),
            tuple(rule.subjects),
            frozenset(rule.scopes),
        )

    def matches(self, caller: Identity, component: Component) -> bool:
        return (
            self.scopes <= caller.scopes
            and any(fnmatchcase(caller.subject, s) for s in self.subjects)
            and any(fnmatchcase(component.name, c) for c in self.components)
        )


@dataclass(frozen=True, slots=True)
class RulePolicy:
    rules: tuple[Rule, ...]
    default: bool

    @classmethod
    def of(cls, config: PolicyConfig) -> RulePolicy | None:
        """None when there is nothing to decide (no rules, default allow): no cost per call."""
        if not config.rules and config.default == "allow":
            return None
        return cls(tuple(Rule.of(r) for r in config.rules), config.default == "allow")

    def allows(self, caller: Identity, component: Component) -> bool:
        for rule in self.rules:
            if rule.matches(caller, component):
                return rule.allow
        return self.default
