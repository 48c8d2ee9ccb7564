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
from collections.abc import Callable
from typing import Any

from llmspell.runtime import LLMSpellError
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

_BOOT = r"""
local ASYNC, NULL, expired, limit_error = ...
local create, resume = coroutine.create, coroutine.resume
local status, yield = coroutine.status, coroutine.yield
local traceback, sethook = debug.traceback, debug.sethook
local pack, unpack, tostring, error, type = table.pack, table.unpack, tostring, error, type

local function on_count()
  if expired() then error(limit_error, 0) end
end

local function new_coroutine(fn)
  local co = create(fn)
  sethook(co, on_count, "", HOOK_EVERY)
  return co
end

-- Resume a user coroutine; host requests it yields are passed up to our driver and answered,
-- so Tool.execute works inside coroutine.wrap/resume just as in the main chunk.
local function pass_resume(co, ...)
  local r = pack(resume(co, ...))
  while r[1] and r[2] == ASYNC and status(co) == "suspended" do
    r = pack(resume(co, yield(unpack(r, 2, r.n))))
  end
  return unpack(r, 1, r.n)
end

coroutine.create = new_coroutine
coroutine.resume = pass_resume
coroutine.wrap = function(fn)
  local co = new_coroutine(fn)
  return function(...)
    local r = pack(pass_resume(co, ...))
    if not r[1] then error(r[2], 0) end
    return unpack(r, 2, r.n)
  end
end

-- The driver. Entries run on pooled coroutines: a worker parks after each job and takes the
-- next one, so a call (a hook, a handler) costs one resume, not a new coroutine. Each report is
-- ("host", name, args...) | ("done", count, first value) | ("error", message, traceback);
-- always two or more values, so lupa hands Python a tuple. A coroutine that failed or is left
-- waiting on the host is never reused.
local DONE = {}
local idle, n_idle, POOL = {}, 0, 16
local function work(...)
  local job = pack(...)
  while true do
    job = pack(yield(DONE, pack(job[1](unpack(job, 2, job.n)))))
  end
end
local function report(co, r)
  if not r[1] then
    return "error", r[2], traceback(co, tostring(r[2]))
  end
  if r[2] == DONE then
    if n_idle < POOL then
      n_idle = n_idle + 1
      idle[n_idle] = co
    end
    local out = r[3]
    return "done", out.n, out[1]
  end
  if r[2] ~= ASYNC then
    return "error", "coroutine.yield called outside a coroutine", traceback(co)
  end
  return "host", unpack(r, 3, r.n)
end
local function take()
  if n_idle == 0 then return new_coroutine(work) end
  local co = idle[n_idle]
  idle[n_idle] = nil
  n_idle = n_idle - 1
  return co
end
-- enter(fn, args...) -> co, report...; step(co, ok, value) -> report...
local function enter(fn, ...)
  local co = take()
  return co, report(co, pack(resume(co, fn, ...)))
end
local function step(co, ...)
  return report(co, pack(resume(co, ...)))
end
local copy_plain
-- enter with a fresh copy of a memoised table as the one argument (see LuaEngine._memoised)
local function enter_copy(fn, t)
  return enter(fn, copy_plain(t))
end

local function sync_stub(fn)
  return function(...)
    local ok, v = fn(...)
    if not ok then error(v, 0) end
    return v
  end
end

local function async_stub(name)
  return function(...)
    local ok, v = yield(ASYNC, name, ...)
    if not ok then error(v, 0) end
    return v
  end
end

local raw_load = load
local function compile(source, chunkname)
  return raw_load(source, chunkname, "t")
end

-- Sandbox: no process, file, loader or debug access; `load` takes text only.
load = function(chunk, name, mode, ...)
  return raw_load(chunk, name, "t", ...)
end
io, debug, package, require, dofile, loadfile, python = nil, nil, nil, nil, nil, nil, nil
string.dump = nil
for _, k in ipairs({"execute", "exit", "remove", "rename", "tmpname", "getenv", "setlocale"}) do
  os[k] = nil
end
local raw_gc = collectgarbage
collectgarbage = function(opt, ...)
  if opt == nil or opt == "count" or opt == "collect" or opt == "step" then
    return raw_gc(opt, ...)
  end
  error("collectgarbage('" .. tostring(opt) .. "') is not available in the sandbox", 2)
end

-- Host objects: a table of fields whose methods pass the object's host ref first; a type with
-- a `__call` method makes its objects callable (a stream's `emit(item)`).
local refs = setmetatable({}, {__mode = "k"})
local metatables = {}
local function define_type(name, methods)
  local index = {}
  for m, f in pairs(methods) do
    index[m] = function(self, ...)
      local ref = refs[self]
      if ref == nil then error(name .. "." .. m .. " is a method: call it with ':'", 2) end
      return f(ref, ...)
    end
  end
  local mt = {__index = index, __name = name}
  local call = methods.__call
  if call then mt.__call = function(self, ...) return call(refs[self], ...) end end
  metatables[name] = mt
end
local function make_object(name, ref, fields)
  local obj = setmetatable(fields, metatables[name])
  refs[obj] = ref
  return obj
end
-- NS.builder(): setters record fields, build() hands them to NS[build]; no host call until then.
local function define_builder(ns, fields, build)
  ns.builder = function()
    local data, b = {}, {}
    for _, f in ipairs(fields) do
      b[f] = function(self, v) data[f] = v return self end
    end
    b.build = function(self) return ns[build](data) end
    return b
  end
end

local function is_null(v) return v == NULL end
local function new_table() return {} end
-- A fresh copy of a table made from host data (the memo's): plain tables, JSON.null kept.
function copy_plain(t)
  local c = {}
  for k, v in next, t do
    if type(v) == "table" and v ~= NULL then v = copy_plain(v) end
    c[k] = v
  end
  return setmetatable(c, getmetatable(t))
end
-- An empty JSON array and an empty object are both {} in Lua; a marked table keeps `[]` as `[]`.
local EMPTY_ARRAY = {__name = "JSON.array"}
local function new_empty_array() return setmetatable({}, EMPTY_ARRAY) end
local function is_empty_array(t) return getmetatable(t) == EMPTY_ARRAY end
return enter, step, enter_copy, traceback, sync_stub, async_stub, compile, is_null, new_table,
  new_empty_array, is_empty_array, define_type, make_object, define_builder
""".replace("HOOK_EVERY", str(HOOK_EVERY))


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
            return await self._drive(fn, ())

    async def call(self, fn: Any, *args: Any) -> Any:
        target = fn.fn if isinstance(fn, LuaFunction) else fn
        with self.deadline:
            if len(args) == 1 and (table := self._memoised(args[0])) is not None:
                return await self._drive(target, (table,), copy=True)
            return await self._drive(target, tuple(self.to_lua(a) for a in args))

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

    async def _drive(self, fn: Any, args: tuple[Any, ...], *, copy: bool = False) -> Any:
        """Run `fn(*args)` on a pooled coroutine, answering its host calls; with `copy`, the one
        argument is a memoised table the script gets a copy of."""
        try:
            co, *first = self._enter_copy(fn, *args) if copy else self._enter(fn, *args)
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
