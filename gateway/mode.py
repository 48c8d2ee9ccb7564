"""What an entry point asks the assembly to start: a `Mode` (the gateway's everything, a
command's catalog, `run`'s local runtime, a library runtime's selection)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Part = Literal[
    "builtins", "upstreams", "remote_agents", "scripts", "agents", "workflows", "hardening"
]
"""What a mode may start: the built-in tools (unless the config says `builtins = false`); the
config's MCP servers (`upstreams`), `[a2a_agents]`, `scripts`, `agents` and `[workflows]`;
and `hardening`: `[policy]`, `[limits]` and `[tracing]` put into the pipeline."""
EVERYTHING: frozenset[Part] = frozenset(get_args(Part))


@dataclass(frozen=True, slots=True)
class Mode:
    """What an entry point starts besides the runtime; the defaults are the gateway's. The
    federation and the A2A client are always plugged in (lazily), so a script's `MCP.connect`
    and `A2A.send` work in every mode."""

    start: frozenset[Part] = EVERYTHING
    only: str | None = None
    """Connect only the server a `server.tool` name needs."""
    wait: Literal["config", "first_attempt"] = "config"
    """How long start waits for upstreams: the config's `startup_wait`, or each server's first
    connection attempt (a command's answer should not race the connection)."""
    reload: bool = False
    """Reload a script when its file changes."""
    stdout: bool = False
    """Scripts print to stdout (`llmspell run`); otherwise to stderr, which is where the
    assembly's own notes go, since stdout may be the MCP stdio channel."""
    roots: tuple[str, ...] = ()
    """Directories file tools and agent images may use, instead of the config's `roots`."""
    state: str | None = None
    """The SQLite state file when no config is read (`run --state FILE`); else memory."""
    tools: tuple[str, ...] | None = None
    """Only these built-in tools (library mode's `tools=[...]`); None: all of them."""

    @classmethod
    def serve(cls, *, reload: bool = False) -> Mode:
        """`llmspell gateway` and `mcp stdio`: everything the config names."""
        return cls(reload=reload)

    @classmethod
    def catalog(cls, only: str | None = None) -> Mode:
        """`tool`, `mcp list|status`: the built-ins, the config's MCP servers and its agents."""
        return cls(frozenset({"builtins", "upstreams", "agents"}), only=only, wait="first_attempt")

    @classmethod
    def workflows(cls) -> Mode:
        """`workflow list|run`: whatever a workflow's steps may call (built-ins, upstreams,
        remote agents, scripts' tools and workflows, agents) and the config's workflows."""
        start: frozenset[Part] = frozenset(
            {"builtins", "upstreams", "remote_agents", "scripts", "agents", "workflows"}
        )
        return cls(start, wait="first_attempt")

    @classmethod
    def local(
        cls, *, builtins: bool = True, roots: tuple[str, ...] = (), state: str | None = None
    ) -> Mode:
        """`run`, `agent run`, `a2a`: nothing connected at start (no config is read)."""
        start: frozenset[Part] = frozenset({"builtins"} if builtins else ())
        return cls(start, stdout=True, roots=roots, state=state)
