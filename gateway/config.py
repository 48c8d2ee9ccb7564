"""`llmspell.toml`: what the gateway serves and how. Parsed into pydantic models so a typo or a
wrong type is reported with its key path instead of being silently ignored."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_FILE = "llmspell.toml"
DEFAULT_AGENT = {
    "name": "assistant",
    "model": "offline/demo",
    "description": "A demo agent on the offline provider: answers locally, no API key needed.",
}


class ConfigError(ValueError):
    """The config file is missing, is not TOML, or does not match the schema."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    path: str = "/mcp"
    stateless: bool = False
    max_body: int = Field(default=4 * 1024 * 1024, gt=0, description="bytes; more gets 413")
    allowed_hosts: list[str] = []


class LimitsConfig(_Section):
    timeout: float = Field(default=30.0, ge=0, description="seconds per script call; 0: none")
    memory_mb: int = Field(default=256, gt=0)


class AgentConfig(BaseModel):
    """Passed to AgentSpec as it is, so the keys are the script API's (`model`, `tools`...)."""

    model_config = ConfigDict(extra="allow")
    name: str
    model: str | dict[str, Any]


class GatewayConfig(_Section):
    name: str = "llmspell"
    instructions: str | None = None
    scripts: list[str] = []
    """Lua/JS files that define tools, agents, prompts and resources."""
    builtins: bool = True
    roots: list[str] = []
    """Directories file tools and agent images may use; default the config's directory."""
    agents: list[AgentConfig] = []
    http: HttpConfig = HttpConfig()
    limits: LimitsConfig = LimitsConfig()
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)

    def script_paths(self) -> list[Path]:
        return [self._resolve(s) for s in self.scripts]

    def root_paths(self) -> list[Path]:
        return [self._resolve(r) for r in self.roots] or [self.base_dir]

    def _resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def default() -> GatewayConfig:
    """No config file: the built-in tools and the offline demo agent."""
    return GatewayConfig(agents=[AgentConfig.model_validate(DEFAULT_AGENT)])


def load(path: str | Path | None) -> GatewayConfig:
    """`path`, else `./llmspell.toml` when present, else the defaults."""
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            return default()
        path = DEFAULT_FILE
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {str(file)!r} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    try:
        return GatewayConfig.model_validate({**data, "base_dir": file.resolve().parent})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{file}: {problems}") from None
