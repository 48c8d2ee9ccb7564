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
    """What `process-executor` may run and the limits set in the child before exec.

    Allowing an interpreter or a launcher (`sh`, `python3`, `env`, `xargs`, `find`) allows
    whatever it can start: the allow list is only as narrow as its widest entry."""

    allow: tuple[str, ...] = ()
    """Command names (or absolute paths) that may run, matched exactly; empty refuses all."""
    timeout: float = 30.0
    """Wall-clock seconds; the whole process group is killed when it runs out."""
    cpu_seconds: int = 30
    memory_bytes: int = 1024 * MiB
    """RLIMIT_AS: address space, so runtimes that reserve large virtual ranges need more."""
    file_size_bytes: int = 64 * MiB
    processes: int = 64
    """RLIMIT_NPROC: counted per user, not per command, and not enforced for root."""
    max_output: int = 1 * MiB
    """Bytes kept of stdout and of stderr each; the rest is read and dropped."""
    env: tuple[str, ...] = ("PATH", "LANG", "LC_ALL", "TZ")
    """Variables passed through from the gateway's environment; nothing else is."""

    def allows(self, command: str) -> bool:
        return command in self.allow


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """Outbound connections from tools: host allow/deny lists and the SSRF rule.

    Hosts are names or glob patterns (`*.example.com`), optionally with `:port`. A private,
    loopback, link-local or reserved address (IPv4 embedded in IPv6 included) is refused unless
    `allow_private` is set or the host is allowed by an exact entry: a glob never lifts the
    rule, since whoever controls a matching name's DNS could point it inside."""

    allow: tuple[str, ...] = ()
    """Empty: any public host."""
    deny: tuple[str, ...] = ()
    allow_private: bool = False
    rate: tuple[tuple[str, float, float], ...] = ()
    """Per-host rates: (host pattern, requests, seconds), e.g. `("api.github.com", 60, 60)`.
    Each host (and port) that matches gets a budget of its own, shared by every call of every
    tool; the mechanics (a limiter per host, waiting) are the network adapter's."""

    def rate_for(self, host: str, port: int) -> tuple[str, float, float] | None:
        """The rate that governs `host:port`: the first exact entry that names it, else the
        first glob that matches (a bare `*` last, whatever its place), else None."""
        host = host.lower().strip("[]").rstrip(".")
        exact = [r for r in self.rate if not any(c in r[0] for c in "*?[")]
        globs = [r for r in self.rate if r not in exact]
        globs.sort(key=lambda r: r[0] == "*")  # stable: declared order, `*` last
        for entry in (*exact, *globs):
            if _listed((entry[0],), host, port):
                return entry
        return None

    def check(self, host: str, port: int, addresses: Sequence[str] = ()) -> None:
        """Refuse `host:port` (resolving to `addresses`) with an error that says why. Called
        once before resolving (lists, literal addresses) and once with the addresses."""
        host = host.lower().strip("[]").rstrip(".")
        if _listed(self.deny, host, port):
            raise _denied(f"{host}:{port} is on the deny list")
        if self.allow and not _listed(self.allow, host, port):
            raise _denied(
                f"{host}:{port} is not on the allow list ({', '.join(self.allow)}); "
                "add it to [tools.network] allow in llmspell.toml"
            )
        if self.allow_private or _listed(self.allow, host, port, exact=True):
            return
        for address in (host, *addresses):
            ip = _address(address)
            if ip is None and address == host:
                continue  # a name: its addresses decide
            if ip is not None and _public(ip):
                continue
            where = "is" if address == host else f"resolves to {address}, which is"
            raise _denied(
                f"{host} {where} a private address; add {_entry(host, port)} to "
                "[tools.network] allow or set allow_private = true to reach it"
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


def _listed(patterns: Sequence[str], host: str, port: int, *, exact: bool = False) -> bool:
    for pattern in patterns:
        pattern = pattern.lower()
        name, _, want = pattern.rpartition(":") if _has_port(pattern) else (pattern, "", "")
        name = name.strip("[]").rstrip(".")
        if exact and any(c in name for c in "*?["):
            continue
        if fnmatch.fnmatchcase(host, name) and (not want or int(want) == port):
            return True
    return False


def _has_port(pattern: str) -> bool:
    head, sep, tail = pattern.rpartition(":")
    return bool(sep) and tail.isdigit() and (not head.count(":") or head.endswith("]"))


def _entry(host: str, port: int) -> str:
    return f'"[{host}]:{port}"' if ":" in host else f'"{host}:{port}"'


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Global, and so is any IPv4 address it carries (mapped, 6to4, NAT64, Teredo)."""
    if not ip.is_global:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        inner = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if ip in _NAT64:
            inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return all(v4.is_global for v4 in inner if v4 is not None)
    return True


def _denied(message: str) -> LLMSpellError:
    return LLMSpellError(ErrorCode.DENIED, f"outbound connection refused: {message}")


__all__ = [
    "EnvironmentPolicy",
    "FilePolicy",
    "NetworkPolicy",
    "ProcessPolicy",
    "Sandbox",
]
