"""`[builtin_hooks]` and `[[hooks]]` in `llmspell.toml`: the built-in hooks to turn on, and
hooks declared by a script file or a Python entry point. Kept out of config.py, which has a
field for each.

    [builtin_hooks]
    cache = { ttl = 60, max_entries = 1000 }   # or `cache = true` for these defaults
    retry = { max = 2, backoff = 0.2 }
    logging = true
    redact = { secrets = ["${API_KEY}"], patterns = ["sk-[A-Za-z0-9]{20,}"] }
    usage = true

    [[hooks]]
    point = "before_tool"
    script = "audit.lua"          # returns the hook function; or python = "ENTRY-POINT"
    match = "fs_*"
    priority = "high"
"""

from __future__ import annotations

import re
from typing import Any

from llmspell.runtime.hooks import POINTS, PRIORITIES
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CacheHookConfig(_Section):
    ttl: float = Field(default=60.0, gt=0, description="seconds an answer is served again")
    max_entries: int = Field(default=1000, gt=0)


class RetryHookConfig(_Section):
    max: int = Field(default=2, ge=0, le=10, description="attempts after the first")
    backoff: float = Field(default=0.2, ge=0, description="seconds before the first retry")


class RedactHookConfig(_Section):
    secrets: list[str] = []
    """Literal strings to mask (`${NAME}` reads the environment)."""
    patterns: list[str] = []
    """Regular expressions to mask."""
    mask: str = "[REDACTED]"

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns


def _switch(value: Any) -> Any:
    """`true` is the defaults, `false` is off."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


class PriceConfig(_Section):
    input: float = Field(default=0.0, ge=0, description="US dollars per million input tokens")
    output: float = Field(default=0.0, ge=0, description="US dollars per million output tokens")


class UsageHookConfig(_Section):
    prices: dict[str, PriceConfig] = {}
    """By model label (`openai/gpt-4o-mini`): what `llmspell usage` and /metrics count as cost."""


class BuiltinHooksConfig(_Section):
    cache: CacheHookConfig | None = None
    retry: RetryHookConfig | None = None
    logging: bool = False
    redact: RedactHookConfig | None = None
    usage: UsageHookConfig | None = None

    @field_validator("cache", "retry", "redact", "usage", mode="before")
    @classmethod
    def _on(cls, value: Any) -> Any:
        return _switch(value)


class DeclaredHookConfig(_Section):
    point: str
    script: str | None = None
    """A Lua/JS file (relative to the config) whose main chunk returns the hook function."""
    python: str | None = None
    """An entry point in the group `llmspell.hooks` naming an (async) callable."""
    match: str | None = None
    priority: int | str = "normal"
    name: str = ""

    @field_validator("point")
    @classmethod
    def _known_point(cls, point: str) -> str:
        if point not in POINTS:
            raise ValueError(f"unknown hook point {point!r}; known points: {', '.join(POINTS)}")
        return point

    @field_validator("priority")
    @classmethod
    def _known_priority(cls, priority: int | str) -> int | str:
        if isinstance(priority, str) and priority not in PRIORITIES:
            raise ValueError(f"use {', '.join(PRIORITIES)} or a number")
        return priority

    @model_validator(mode="after")
    def _one_source(self) -> DeclaredHookConfig:
        if (self.script is None) == (self.python is None):
            raise ValueError("give either script or python")
        return self
