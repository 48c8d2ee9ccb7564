"""The sandbox policy for tools that touch files, processes and the network.

Plain data, decided by the operator (config) and read by the tools' adapter, which does the
mechanics (resolving paths, spawning with resource limits, resolving hosts). Every default is
the closed one: no command is allowed, no private address is reachable, no secret is shown.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ErrorCode, LLMSpellError

MiB = 1024 * 1024
MAX_READ = 10 * MiB
MAX_WRITE = 10 * MiB


@dataclass(frozen=True, slots=True)
class FilePolicy:
    """Where file tools may read and write, and how much."""

    roots: tuple[Path, ...] = ()
    """Resolved directories; empty means the working directory."""
    max_read: int = MAX_READ
    max_write: int = MAX_WRITE


@dataclass(frozen=True, slots=True)
class ProcessPolicy:
    """What `process-executor` may run and the limits set in the child before exec."""

    allow: tuple[str, ...] = ()
    """Command names (or absolute paths) that may run; empty refuses everything."""
    timeout: float = 30.0
    cpu_seconds: int = 30
    memory_bytes: int = 1024 * MiB
    file_size_bytes: int = 64 * MiB
    processes: int = 64
    max_output: int = 1 * MiB
    env: tuple[str, ...] = ("PATH", "LANG", "LC_ALL", "TZ")
    """Variables passed through from the gateway's environment; nothing else is."""

    def allows(self, command: str) -> bool:
        return command in self.allow


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """Outbound connections from tools: host allow/deny lists and the SSRF rule.

    Hosts are names or glob patterns (`*.example.com`), optionally with `:port`. A private,
    loopback, link-local or reserved address is refused unless `allow_private` is set or the
    host is explicitly allowed."""

    allow: tuple[str, ...] = ()
    """Empty: any public host."""
    deny: tuple[str, ...] = ()
    allow_private: bool = False

    def check(self, host: str, port: int, addresses: Sequence[str] = ()) -> None:
        """Refuse `host:port` (resolving to `addresses`) with an error that says why."""
        host = host.lower().strip("[]")
        if _listed(self.deny, host, port):
            raise _denied(f"{host}:{port} is on the deny list")
        listed = _listed(self.allow, host, port)
        if self.allow and not listed:
            raise _denied(f"{host}:{port} is not on the allow list ({', '.join(self.allow)})")
        if self.allow_private or listed:
            return
        for address in (host, *addresses):
            try:
                ip = ipaddress.ip_address(address.split("%", 1)[0])
            except ValueError:
                continue
            if not ip.is_global:
                raise _denied(
                    f"{host} resolves to the private address {ip}; "
                    "allow the host or set allow_private to reach it"
                )


@dataclass(frozen=True, slots=True)
class EnvironmentPolicy:
    """What `environment-reader` may show: allow-listed names; secret-looking values masked."""

    allow: tuple[str, ...] = ("PATH", "HOME", "USER", "LANG", "SHELL", "TZ", "PWD")
    secret_markers: tuple[str, ...] = (
        "KEY",
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
        "PRIVATE",
    )

    def allows(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.allow)

    def is_secret(self, name: str) -> bool:
        upper = name.upper()
        return any(marker in upper for marker in self.secret_markers)


@dataclass(frozen=True, slots=True)
class Sandbox:
    files: FilePolicy = field(default_factory=FilePolicy)
    process: ProcessPolicy = field(default_factory=ProcessPolicy)
    network: NetworkPolicy = field(default_factory=NetworkPolicy)
    environment: EnvironmentPolicy = field(default_factory=EnvironmentPolicy)


def _listed(patterns: Sequence[str], host: str, port: int) -> bool:
    for pattern in patterns:
        name, _, want = pattern.lower().rpartition(":") if _has_port(pattern) else (pattern, "", "")
        if fnmatch.fnmatchcase(host, name.strip("[]")) and (not want or int(want) == port):
            return True
    return False


def _has_port(pattern: str) -> bool:
    head, sep, tail = pattern.rpartition(":")
    return bool(sep) and tail.isdigit() and (not head.count(":") or head.endswith("]"))


def _denied(message: str) -> LLMSpellError:
    return LLMSpellError(ErrorCode.DENIED, f"outbound connection refused: {message}")


__all__ = [
    "EnvironmentPolicy",
    "FilePolicy",
    "NetworkPolicy",
    "ProcessPolicy",
    "Sandbox",
]
