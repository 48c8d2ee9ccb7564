"""Where the gateway keeps what outlives a process or is shared by replicas: `[state]` (the
key-value store), `[a2a]` (with its task store), and `[cluster]` (Redis). Each backend is an
embedded default (SQLite, memory) or a server URL (`postgresql://`, `redis://`) whose
`${ENV}` references are expanded when it is used, so secrets stay in the environment."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def store_backend(value: str) -> str:
    if value in ("sqlite", "memory") or value.startswith(POSTGRES_SCHEMES):
        return value
    raise ValueError(f"expected sqlite, memory or a postgresql:// URL, not {value!r}")


class A2AConfig(_Section):
    """Agents and workflows served over A2A at `/a2a/<name>` (cards, tasks, streaming)."""

    enabled: bool = True
    task_store: str = "sqlite"
    """`sqlite` (the file at `database`), `memory`, or a PostgreSQL URL (`${ENV}` expanded)
    that replicas share: the SDK's database task and push-config stores, on asyncpg."""
    database: str = ".llmspell/a2a.db"
    """SQLite file for tasks and push-notification configs, relative to the config file."""

    @field_validator("task_store")
    @classmethod
    def _task_store(cls, value: str) -> str:
        return store_backend(value)

    grpc: bool | Literal["auto"] = "auto"
    """The gRPC binding (the `llmspell[grpc]` extra): "auto" serves it when grpcio is there."""
    grpc_port: int = Field(default=0, ge=0, le=65535)
    """0 picks a free port; the agent cards say which."""


class StateConfig(_Section):
    """The key-value store scripts (`State`), agents' memory and workflows use."""

    backend: str = "sqlite"
    """`sqlite` (the file at `path`), `memory` (gone when the process ends), or a PostgreSQL
    URL (`postgresql://user:${PGPASSWORD}@host/db`, `${ENV}` expanded) that replicas share."""
    path: str = ".llmspell/state.db"
    """The SQLite file, relative to the config file."""

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        return store_backend(value)


class ClusterConfig(_Section):
    """Replicas behind a load balancer share rate limits (and more) through Redis."""

    redis: str | None = None
    """`redis://[:password@]host:port/db` (`${ENV}` expanded); unset: one process, no sharing."""
    prefix: str = "llmspell"
    """The start of every key this deployment writes, so several can share one Redis."""
    replica: str | None = None
    """This replica's name in `/readyz`; default host name and process id."""

    @field_validator("redis")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value is None or value.startswith(("redis://", "rediss://", "unix://")):
            return value
        raise ValueError(f"expected a redis:// URL, not {value!r}")

    def url(self) -> str | None:
        return None if self.redis is None else expanded(self.redis, "[cluster] redis")


def expanded(url: str, where: str) -> str:
    """A store URL with its `${ENV}` filled in."""
    from llmspell.protocols.mcp.spec import expand_env

    try:
        return str(expand_env(url))
    except KeyError as exc:
        from .config import ConfigError

        raise ConfigError(f"{where}: environment variable {exc} is not set") from None
