"""The narrow interface every script engine implements (as httpx's transports do for HTTP).

An engine knows how to run source, call back into functions the script handed out, and marshal
values. It knows nothing of the script API's meaning: that is described once, in the `api`
package, as a table of host functions that each engine binds generically.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, runtime_checkable

from llmspell.runtime import ErrorCode, LLMSpellError

DEFAULT_TIMEOUT = 30.0
DEFAULT_MEMORY = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HostFunction:
    """One function the script API offers. `is_async` ones suspend the script (a Lua coroutine
    yield, a JS Promise); sync ones return at once. `fn` takes and returns plain values:
    None, bool, int, float, str, bytes, list, dict, and ScriptFunction handles."""

    fn: Callable[..., Any]
    is_async: bool = False
    notify: bool = False
    """Fire-and-forget (print, Log): returns nothing and cannot fail, so an engine may deliver it
    later, in order, without making the script wait."""
    stream: bool = False
    """The last argument is a chunk callback. Lua passes a function; JS gets an async iterator
    of the chunks instead (whose `result` promise holds the return value)."""


@dataclass(frozen=True, slots=True)
class HostObject:
    """A host object handed to a script: plain fields plus the methods of its type. Methods are
    called with the object's `ref` first (`agent:execute(x)` -> `Agent#execute(ref, x)`); a type
    with a `__call` method makes its objects callable (`emit(x)` -> `Emit#__call(ref, x)`)."""

    type: str
    ref: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Builder:
    """`NS.builder()`: a script-side object whose setters record fields and whose `build()`
    calls `NS.<build>(fields)`. Engines build it without a host call, so chaining stays sync."""

    fields: tuple[str, ...]
    build: str


@dataclass(slots=True)
class ApiSpec:
    """The script API: namespaced functions (`Tool.execute`), global functions (`print`,
    `sleep`) and global values (`ARGS`)."""

    namespaces: dict[str, dict[str, HostFunction]] = field(default_factory=dict)
    functions: dict[str, HostFunction] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    types: dict[str, dict[str, HostFunction]] = field(default_factory=dict)
    """Methods of HostObject types, by type name."""
    builders: dict[str, Builder] = field(default_factory=dict)
    """Namespaces that get a `builder()`."""


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float | None = DEFAULT_TIMEOUT
    """Seconds of wall time for one entry into the script (a run, or one callback from the host)."""
    memory: int | None = DEFAULT_MEMORY
    """Bytes the engine's heap may use."""


class ScriptError(LLMSpellError):
    """A script failed (syntax, runtime, timeout, memory cap); str() is `FILE:LINE: message`."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        code: ErrorCode = ErrorCode.SCRIPT_ERROR,
        traceback: str | None = None,
    ):
        self.file = file
        self.line = line
        self.traceback = traceback
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(code, f"{where}{message}")

    def __str__(self) -> str:
        return self.message


@runtime_checkable
class ScriptFunction(Protocol):
    """A handle to a function that lives inside a script (a handler, hook or subscriber)."""

    engine: ScriptEngine


class ScriptEngine(Protocol):
    name: str
    extensions: tuple[str, ...]

    async def run(self, source: str, filename: str) -> Any:
        """Run a whole script, including everything it awaits, to completion."""

    async def call(self, fn: ScriptFunction, *args: Any) -> Any:
        """Call a function the script handed to the host; async inside the script is awaited."""

    def close(self) -> None: ...


@runtime_checkable
class Interactive(Protocol):
    """What `llmspell repl` needs besides running entries; the built-in engines have it."""

    def syntax_error(self, source: str) -> str | None:
        """The parser's complaint about `source` as a script body (None: it compiles), without
        running it; a complaint about the end of the input means it is incomplete."""

    def incomplete(self, source: str) -> bool:
        """Whether `source` is the start of something longer (an open block, an unterminated
        long string or template), as the engine's parser sees it."""

    def interrupt(self) -> None:
        """Stop the entry in progress at its next check (Ctrl-C)."""


EngineFactory = Callable[[ApiSpec, Limits], ScriptEngine]


class Deadline:
    """Wall-clock budget shared by nested entries into one engine: the outermost entry opens it,
    the ones it triggers (a script tool called from the same script) run inside it."""

    __slots__ = ("_depth", "_limit", "at")

    def __init__(self, limit: float | None) -> None:
        self._limit = limit
        self._depth = 0
        self.at: float | None = None

    def __enter__(self) -> Deadline:
        if self._depth == 0:
            self.at = None if self._limit is None else time.monotonic() + self._limit
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.at = None

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - time.monotonic()

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def expire(self) -> None:
        """End the entry in progress at its next check (an interactive user's Ctrl-C)."""
        if self._depth:
            self.at = 0.0

    def error(self, file: str | None = None, line: int | None = None) -> ScriptError:
        # No limit: only `expire` (Ctrl-C) ends an entry early.
        limit = self._limit
        return ScriptError(
            "script was interrupted" if limit is None else f"script timed out after {limit:g} s",
            file=file,
            line=line,
            code=ErrorCode.TIMEOUT,
        )


def memory_error(
    limit: int | None, file: str | None = None, line: int | None = None
) -> ScriptError:
    size = f"{limit / (1024 * 1024):g} MB" if limit else "its"
    return ScriptError(
        f"script exceeded {size} memory limit", file=file, line=line, code=ErrorCode.MEMORY_LIMIT
    )


_FRAME = re.compile(r"(?P<file>[^\s()<>]+?):(?P<line>\d+)(?::\d+)?")


def locate(text: str, filename: str) -> int | None:
    """The first line number that `text` (a message or traceback) gives inside `filename`."""
    for m in _FRAME.finditer(text):
        if m.group("file").endswith(filename) or filename.endswith(m.group("file")):
            return int(m.group("line"))
    return None


EXTENSIONS = {".lua": "lua", ".js": "javascript", ".mjs": "javascript"}
ALIASES = {"js": "javascript", "quickjs": "javascript"}
ENTRY_POINTS = "llmspell.engines"
"""The one registry of engines: an entry point group, so an engine from another distribution
plugs in as the built-in ones do (pyproject.toml: `[project.entry-points."llmspell.engines"]`)."""


@cache
def available_engines() -> dict[str, str]:
    """Engine name -> `module:factory`, read once per process."""
    return entry_points(ENTRY_POINTS)


def entry_points(group: str) -> dict[str, str]:
    """The entry points of `group` declared by the distributions on sys.path (the first of a
    name wins, as with importlib.metadata). Their `entry_points.txt` files are read directly:
    importing importlib.metadata would cost `llmspell run` more than starting the engine."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:  # os.path, not pathlib: a venv has hundreds of distributions to look at
                with open(os.path.join(folder or ".", name, "entry_points.txt"), "rb") as file:
                    text = file.read().decode("utf-8")
            except OSError:
                continue
            section = None
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                elif section == group and "=" in line and not line.startswith(("#", ";")):
                    key, _, value = line.partition("=")
                    found.setdefault(key.strip(), value.strip())
    return found


def engine_factory(name: str) -> EngineFactory:
    """Resolve an engine by name; the import happens here so unused engines cost nothing."""
    name = ALIASES.get(name, name)
    engines = available_engines()
    if not engines:
        raise ValueError(
            f"no script engines are registered (the {ENTRY_POINTS!r} entry points): llmspell "
            "is not installed in this Python; run `pip install -e .` in the checkout"
        )
    if name not in engines:
        raise ValueError(f"unknown engine {name!r}; available: {', '.join(sorted(engines))}")
    module, _, attr = engines[name].partition("[")[0].strip().partition(":")  # no extras
    try:
        factory: EngineFactory = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        hint = " (install it with: pip install 'llmspell[v8]')" if name == "v8" else ""
        raise ValueError(f"engine {name!r} is not available: {exc}{hint}") from exc
    return factory


def engine_for_file(path: str, engine: str | None = None) -> str:
    if engine:
        return ALIASES.get(engine, engine)
    for ext, name in EXTENSIONS.items():
        if path.endswith(ext):
            return name
    raise ValueError(f"cannot tell the engine for {path!r}; use --engine lua|javascript|v8")
