"""The narrow interface every script engine implements (as httpx's transports do for HTTP).

An engine knows how to run source, call back into functions the script handed out, and marshal
values. It knows nothing of the script API's meaning: that is described once, in `api.py`, as a
table of host functions that each engine binds generically.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
    called with the object's `ref` first (`agent:execute(x)` -> `Agent#execute(ref, x)`)."""

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

    def error(self, file: str | None = None, line: int | None = None) -> ScriptError:
        return ScriptError(
            f"script timed out after {self._limit:g} s",
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


# Engines are registered by name through the `llmspell.engines` entry point group, so a new
# engine plugs in from another distribution without touching this package.
BUILTIN_ENGINES = {
    "lua": "llmspell.adapters.scripts.lua:LuaEngine",
    "javascript": "llmspell.adapters.scripts.quickjs:QuickJSEngine",
    "v8": "llmspell.adapters.scripts.v8:V8Engine",
}
EXTENSIONS = {".lua": "lua", ".js": "javascript", ".mjs": "javascript"}
ALIASES = {"js": "javascript", "quickjs": "javascript"}


def _load(target: str) -> EngineFactory:
    module, _, attr = target.partition(":")
    mod = __import__(module, fromlist=[attr])
    factory: EngineFactory = getattr(mod, attr)
    return factory


def available_engines() -> dict[str, str]:
    from importlib.metadata import entry_points  # ~10 ms: only when looking past the built-ins

    found = dict(BUILTIN_ENGINES)
    for ep in entry_points(group="llmspell.engines"):
        found.setdefault(ep.name, ep.value)
    return found


def engine_factory(name: str) -> EngineFactory:
    """Resolve an engine by name; the import happens here so unused engines cost nothing."""
    name = ALIASES.get(name, name)
    engines = BUILTIN_ENGINES if name in BUILTIN_ENGINES else available_engines()
    if name not in engines:
        raise ValueError(f"unknown engine {name!r}; available: {', '.join(sorted(engines))}")
    try:
        return _load(engines[name])
    except ImportError as exc:
        hint = " (install it with: pip install 'llmspell[v8]')" if name == "v8" else ""
        raise ValueError(f"engine {name!r} is not available: {exc}{hint}") from exc


def engine_for_file(path: str, engine: str | None = None) -> str:
    if engine:
        return ALIASES.get(engine, engine)
    for ext, name in EXTENSIONS.items():
        if path.endswith(ext):
            return name
    raise ValueError(f"cannot tell the engine for {path!r}; use --engine lua|javascript|v8")
