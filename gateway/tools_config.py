"""`[tools]` in `llmspell.toml`: the sandbox the built-in tools run in. Every default is the
closed one (no command allowed, no private address reachable).

    [tools]
    max_read_mb = 10
    max_write_mb = 10

    [tools.process]
    allow = ["git", "ls"]          # empty: process-executor refuses every command
    timeout = 30
    cpu_seconds = 30
    memory_mb = 1024
    file_size_mb = 64
    processes = 64
    max_output_kb = 1024
    env = ["PATH", "LANG"]         # passed through; nothing else is

    [tools.network]
    allow = ["api.example.com", "127.0.0.1:8080"]   # empty: any public host
    deny = ["*.internal"]
    allow_private = false
    rate = {"api.github.com" = "60/minute", "*" = "10/second"}   # per host; a burst waits

    [tools.environment]
    allow = ["PATH", "HOME", "APP_*"]

Other `[tools.NAME]` tables carry one tool's own settings (credentials, providers).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from llmspell.runtime.guard import checked_rate, parse_rate
from llmspell.runtime.sandbox import (
    EnvironmentPolicy,
    FilePolicy,
    NetworkPolicy,
    ProcessPolicy,
    Sandbox,
)
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

MiB = 1024 * 1024


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProcessConfig(_Section):
    allow: list[str] = []
    timeout: PositiveFloat = 30.0
    cpu_seconds: PositiveInt = 30
    memory_mb: PositiveInt = 1024
    file_size_mb: PositiveInt = 64
    processes: PositiveInt = 64
    max_output_kb: PositiveInt = 1024
    env: list[str] = list(ProcessPolicy().env)


def _whole_rate(value: str) -> str:
    """A rate of at least one request per period (a request is never split)."""
    checked_rate(value)
    if parse_rate(value)[0] < 1:
        raise ValueError(f"rate {value!r}: at least 1 request per period (e.g. 1/2 seconds)")
    return value


class NetworkConfig(_Section):
    allow: list[str] = []
    deny: list[str] = []
    allow_private: bool = False
    rate: dict[str, Annotated[str, AfterValidator(_whole_rate)]] = {}
    """Host pattern -> "N/second|minute|hour": each matching host gets that budget."""

    def rates(self) -> tuple[tuple[str, float, float], ...]:
        return tuple((pattern, *parse_rate(text)) for pattern, text in self.rate.items())


class EnvironmentConfig(_Section):
    allow: list[str] = list(EnvironmentPolicy().allow)


class ToolsConfig(BaseModel):
    model_config = ConfigDict(extra="allow")  # [tools.NAME]: a tool's own settings

    max_read_mb: PositiveFloat = 10
    max_write_mb: PositiveFloat = 10
    process: ProcessConfig = ProcessConfig()
    network: NetworkConfig = NetworkConfig()
    environment: EnvironmentConfig = EnvironmentConfig()

    @model_validator(mode="after")
    def _tables_only(self) -> ToolsConfig:
        """Besides the sandbox keys, only `[tools.NAME]` tables: a misspelt key is an error."""
        for key, value in (self.model_extra or {}).items():
            if not isinstance(value, dict):
                raise ValueError(
                    f"unknown key {key!r} (tools takes max_read_mb, max_write_mb, "
                    "[tools.process], [tools.network], [tools.environment] and [tools.NAME] tables)"
                )
        return self

    def sandbox(self, roots: Sequence[Path]) -> Sandbox:
        p = self.process
        return Sandbox(
            files=FilePolicy(
                tuple(roots), int(self.max_read_mb * MiB), int(self.max_write_mb * MiB)
            ),
            process=ProcessPolicy(
                allow=tuple(p.allow),
                timeout=p.timeout,
                cpu_seconds=p.cpu_seconds,
                memory_bytes=p.memory_mb * MiB,
                file_size_bytes=p.file_size_mb * MiB,
                processes=p.processes,
                max_output=p.max_output_kb * 1024,
                env=tuple(p.env),
            ),
            network=NetworkPolicy(
                tuple(self.network.allow),
                tuple(self.network.deny),
                self.network.allow_private,
                self.network.rates(),
            ),
            environment=EnvironmentPolicy(allow=tuple(self.environment.allow)),
        )

    def settings_tables(self) -> dict[str, dict[str, Any]]:
        """`[tools.NAME]`: each tool's own table, by tool name, with `${ENV}` expanded. An
        unset variable reads as empty, so the tool says at call time what is missing rather
        than the gateway refusing to start."""
        from llmspell.protocols.mcp.spec import expand_env

        blank = _Unset(os.environ)  # every extra is a table: `_tables_only` saw to it
        return {name: expand_env(table, blank) for name, table in (self.model_extra or {}).items()}


class _Unset(dict[str, str]):
    """The environment, where an unset variable is the empty string."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return ""
