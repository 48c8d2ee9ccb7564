"""Lua engine on lupa (Lua 5.4).

Every entry into the script (the main chunk, a handler, a hook) runs as a Lua coroutine driven
from Python. An async host call (`Tool.execute`...) yields a request out of the coroutine; the
driver performs it (eagerly when it does not suspend, as a Task when it does) and resumes the
coroutine with the answer, so Lua code reads synchronously while the event loop stays free.
"""

from __future__ import annotations

import asyncio
import marshal
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llmspell.runtime import LLMSpellError
from llmspell.runtime.hooks import BatchFailed
from lupa import lua54

from . import eager
from .engine import (
    ApiSpec,
    Deadline,
    HostFunction,
    HostObject,
    Limits,
    ScriptError,
    locate,
    memory_error,
)

# Instructions between two deadline checks: rare enough not to slow tight loops, frequent enough
# that an infinite loop stops within milliseconds of its deadline.
HOOK_EVERY = 10_000
MEMO_ENTRIES = 8
MEMO_BYTES = 4096
"""Recent table arguments kept converted (see `LuaEngine._memoised`): small ones only."""

_BOOT = (
    Path(__file__)
    .with_name("lua_boot.lua")  # not importlib.resources: it costs ~10 ms of imports
    .read_text(encoding="utf-8")
    .replace("HOOK_EVERY", str(HOOK_EVERY))
)


class LuaFunction:
    """A Lua function handed to the host (a handler, hook or subscriber)."""

    __slots__ = ("engine", "fn")

    def __init__(self, engine: LuaEngine, fn: Any) -> None:
        self.engine = engine
        self.fn = fn


_LIMIT = b"\x00llmspell: deadline"


def _deny_attributes(obj: Any, name: Any, is_setting: bool) -> Any:
    raise AttributeError("Python attributes are not reachable from scripts")


class LuaEngine:
    name = "lua"
    extensions = (".lua",)

    def __init__(self, api: ApiSpec, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.deadline = Deadline(self.limits.timeout)
        self.filename = "script.lua"
        self._chunk = self.filename
        """Lua's name for the chunk: the file's base name, because Lua cuts long chunk names
        ("...ong/path/x.lua:3:") and a cut name can be neither matched nor stripped."""
        lua = lua54.LuaRuntime(
            encoding=None,
            unpack_returned_tuples=True,
            register_eval=False,
            register_builtins=False,
            attribute_filter=_deny_attributes,
            max_memory=self.limits.memory or 0,
        )
        self._lua = lua
        self._async = lua.table()
        self._null = lua.eval("setmetatable({}, {__tostring = function() return 'null' end})")
        boot = lua.execute(_BOOT, self._async, self._null, self.deadline.expired, _LIMIT, mode="t")
        (
            self._enter,
            self._step,
            self._enter_copy,
            self._enter_each,
            self._traceback,
            sync_stub,
            async_stub,
            self._compile,
            self._is_null,
            self._new_table,
            self._new_empty_array,
            self._is_empty_array,
            define_type,
            self._make_object,
            define_builder,
        ) = boot
        self._memo: dict[bytes, Any] = {}
        self._hook_lists: dict[tuple[Any, ...], Any] = {}
        self._lua_type = lua.eval("type")
        self._table_type = type(lua.table())
        self._table_from = lua.table_from
        self._function_type = type(lua.eval("print"))
        self._async_fns: dict[bytes, HostFunction] = {}
        self._install(api, sync_stub, async_stub)
        for type_name, methods in api.types.items():
            table = self._lua.table()
            for mname, hf in methods.items():
                table[mname.encode()] = self._bind(
                    f"{type_name}#{mname}", hf, sync_stub, async_stub
                )
            define_type(type_name.encode(), table)
        g = self._lua.globals()
        for ns, builder in api.builders.items():
            define_builder(
                g[ns.encode()], self.to_lua(list(builder.fields)), builder.build.encode()
            )

    # -- binding the API ------------------------------------------------------------------------

    def _bind(self, qualified: str, hf: HostFunction, sync_stub: Any, async_stub: Any) -> Any:
        if hf.is_async:
            self._async_fns[qualified.encode()] = hf
            return async_stub(qualified.encode())
        return sync_stub(self._sync_host(hf.fn))

    def _install(self, api: ApiSpec, sync_stub: Any, async_stub: Any) -> None:
        g = self._lua.globals()

        def bind(qualified: str, hf: HostFunction) -> Any:
            return self._bind(qualified, hf, sync_stub, async_stub)

        for ns, functions in api.namespaces.items():
            table = self._lua.table()
            for fname, hf in functions.items():
                table[fname.encode()] = bind(f"{ns}.{fname}", hf)
            g[ns.encode()] = table
        g[b"JSON"][b"null"] = self._null
        for fname, hf in api.functions.items():
            g[fname.encode()] = bind(fname, hf)
        for vname, value in api.values.items():
            g[vname.encode()] = self.to_lua(value)

    def _sync_host(self, fn: Callable[..., Any]) -> Callable[..., tuple[bool, Any]]:
        from_lua, to_lua = self.from_lua, self.to_lua

        def call(*args: Any) -> tuple[bool, Any]:
            try:
                return True, to_lua(fn(*[from_lua(a) for a in args]))
            except Exception as exc:
                return False, _message(exc)

        return call

    # -- running --------------------------------------------------------------------------------

    async def run(self, source: str, filename: str) -> Any:
        self.filename = filename
        self._chunk = os.path.basename(filename) or filename
        with self.deadline:
            try:
                compiled = self._compile(source.encode(), f"@{self._chunk}".encode())
            except lua54.LuaMemoryError:
                raise memory_error(self.limits.memory, filename) from None
            fn, err = compiled if isinstance(compiled, tuple) else (compiled, None)
            if fn is None:
                raise self._error(err, None)
            return await self._drive(self._enter, fn)

    def syntax_error(self, source: str) -> str | None:
        compiled = self._compile(source.encode(), b"=stdin")
        fn, err = compiled if isinstance(compiled, tuple) else (compiled, None)
        return None if fn is not None else _text(err)

    def incomplete(self, source: str) -> bool:
        """Lua's own test, as its REPL does: the error is at `<eof>`."""
        error = self.syntax_error(source)
        return error is not None and error.endswith("<eof>")

    def interrupt(self) -> None:
        self.deadline.expire()  # the count hook sees it within HOOK_EVERY instructions

    async def call(self, fn: Any, *args: Any) -> Any:
        target = fn.fn if isinstance(fn, LuaFunction) else fn
        with self.deadline:
            if len(args) == 1 and (table := self._memoised(args[0])) is not None:
                return await self._drive(self._enter_copy, target, table)
            return await self._drive(self._enter, target, *[self.to_lua(a) for a in args])

    async def run_hooks(self, members: Sequence[Any], context: dict[str, Any]) -> tuple[int, Any]:
        """`HookBatch`: this engine's hooks that follow each other at a point, in one entry
        (an entry costs several times what a hook that only looks at its context does)."""
        key = tuple(members)
        fns = self._hook_lists.get(key)
        if fns is None:
            if len(self._hook_lists) >= MEMO_ENTRIES:
                del self._hook_lists[next(iter(self._hook_lists))]
            fns = self._hook_lists[key] = self._table_from([m.fn for m in members])
        at = self._new_table()
        with self.deadline:
            table = self._memoised(context)
            if table is None:
                table = self.to_lua(context)
            try:
                value = await self._drive(self._enter_each, at, fns, len(members), table)
            except Exception as exc:
                raise BatchFailed(int(at[1] or 1) - 1, exc) from None
        return int(at[1]) - 1, value

    def _memoised(self, value: Any) -> Any:
        """A table argument equal to a recent one is copied in Lua rather than converted again:
        the hooks at one point all get the same context, and a copy costs a fraction of a
        conversion. Equality is by content (the marshalled bytes), so nothing stale is served.
        None when `value` is not small plain data."""
        if type(value) is not dict:
            return None
        try:
            key = marshal.dumps(value)
        except ValueError:  # host objects, functions: not plain data
            return None
        if len(key) > MEMO_BYTES:
            return None
        table = self._memo.get(key)
        if table is None:
            if len(self._memo) >= MEMO_ENTRIES:
                del self._memo[next(iter(self._memo))]
            table = self._memo[key] = self.to_lua(value)
        return table

    def close(self) -> None:
        self._async_fns.clear()

    async def _drive(self, entry: Any, *args: Any) -> Any:
        """Run `entry(*args)` (`enter`, `enter_copy` or `enter_each` of the boot code) on a
        pooled coroutine, answering its host calls."""
        try:
            co, *first = entry(*args)
            out = tuple(first)
            while True:
                kind = out[0]
                if kind == b"host":
                    try:
                        ok, value = await self._host_call(out[1], out[2:])
                    except TimeoutError:
                        line = locate(_text(self._traceback(co)), self._chunk)
                        raise self.deadline.error(self.filename, line) from None
                    out = self._step(co, ok, value)
                elif kind == b"done":
                    return self.from_lua(out[2]) if out[1] else None
                else:
                    raise self._error(out[1], out[2])
        except lua54.LuaMemoryError:
            raise memory_error(self.limits.memory, self.filename) from None

    async def _host_call(self, name: bytes, args: tuple[Any, ...]) -> tuple[bool, Any]:
        hf = self._async_fns[name]
        try:
            done, value = eager.start(hf.fn(*[self.from_lua(a) for a in args]))
            if not done:
                value = await self._bounded(value)
            return True, self.to_lua(value)
        except TimeoutError:
            if self.deadline.expired():
                raise
            return False, b"timed out"
        except Exception as exc:
            return False, _message(exc)

    async def _bounded(self, task: asyncio.Future[Any]) -> Any:
        if self.deadline.at is None:
            return await task
        async with asyncio.timeout_at(self.deadline.at):
            return await task

    def _error(self, message: Any, traceback: Any) -> ScriptError:
        text = _text(message)
        trace = _text(traceback) if traceback is not None else ""
        line = locate(text, self._chunk) or locate(trace, self._chunk)
        if self.deadline.expired():
            # Past the deadline every failure is the timeout, whatever the hook's error became.
            return self.deadline.error(self.filename, line)
        if text == "not enough memory":
            return memory_error(self.limits.memory, self.filename, line)
        prefix = f"{self._chunk}:{line}: "
        if text.startswith(prefix):
            text = text[len(prefix) :]
        return ScriptError(text, file=self.filename, line=line, traceback=trace or None)

    # -- marshalling ----------------------------------------------------------------------------

    def to_lua(self, value: Any) -> Any:
        """Python -> Lua. The common types are dispatched on their exact type and tables are
        filled by one `table_from` call each: a hook's context crosses on every call."""
        kind = type(value)
        if kind is str:
            return value.encode()
        if kind is dict:
            to_lua = self.to_lua
            return self._table_from(
                {
                    (k.encode() if type(k) is str else k): to_lua(v)
                    for k, v in value.items()
                    if v is not None
                }
            )
        if kind is list or kind is tuple:
            if not value:
                return self._new_empty_array()
            null, to_lua = self._null, self.to_lua
            return self._table_from([null if v is None else to_lua(v) for v in value])
        if value is None or kind is bool or kind is int or kind is bytes:
            return value
        if kind is float:
            return int(value) if value.is_integer() and abs(value) < 2**53 else value
        if isinstance(value, LuaFunction):
            return value.fn
        if isinstance(value, HostObject):
            return self._make_object(value.type.encode(), value.ref, self.to_lua(value.fields))
        return self._to_lua_subclass(value)

    def _to_lua_subclass(self, value: Any) -> Any:
        """Subclasses of the plain types (a StrEnum, an OrderedDict...) as their base type."""
        bases: tuple[type[Any], ...] = (str, dict, list, tuple, bool, int, float, bytes)
        for base in bases:
            if isinstance(value, base):
                return self.to_lua(base(value))
        raise TypeError(f"cannot pass a {type(value).__name__} to Lua")

    def from_lua(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, bytes):
            try:
                return value.decode()
            except UnicodeDecodeError:
                return value
        if isinstance(value, self._table_type):
            if self._is_null(value):
                return None
            return self._from_table(value)
        if isinstance(value, self._function_type):
            return LuaFunction(self, value)
        raise TypeError(f"cannot pass a Lua {self._lua_type(value).decode()} to the host")

    def _from_table(self, table: Any) -> Any:
        items = list(table.items())
        n = len(items)
        if not n and self._is_empty_array(table):
            return []
        if n and all(type(k) is int for k, _ in items):
            keys = sorted(k for k, _ in items)
            if keys[0] == 1 and keys[-1] == n:
                out: list[Any] = [None] * n
                for k, v in items:
                    out[k - 1] = self.from_lua(v)
                return out
        result: dict[str, Any] = {}
        for k, v in items:
            key = k.decode(errors="replace") if isinstance(k, bytes) else str(k)
            result[key] = self.from_lua(v)
        return result


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return "nil" if value is None else str(value)


def _message(exc: BaseException) -> bytes:
    text = str(exc) if isinstance(exc, LLMSpellError) else f"{exc}"
    return text.encode()
