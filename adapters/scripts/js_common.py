"""The JavaScript engine, whatever VM runs it.

Both JS engines share this driver and `js_prelude.js`; each supplies only a `VM`: something that
evaluates code and calls bridge methods under a time limit, and reports what went wrong. The
driver's loop: enter JS, drain the request queue, answer the sync requests at once and start
the async ones as Tasks, settle the answers in one batch, repeat until JS is quiet. The Tasks'
answers are settled in a later batch.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, Protocol

from llmspell.runtime import ErrorCode, Invocation, LLMSpellError
from llmspell.runtime.invocation import current

from .engine import ApiSpec, Deadline, HostFunction, HostObject, Limits, ScriptError, memory_error

BRIDGE = "__llmspell_bridge"
_STOPPED = "host call was cancelled"


@dataclass(frozen=True, slots=True)
class VMError(Exception):
    kind: Literal["timeout", "memory", "error"]
    text: str


class VM(Protocol):
    def call(self, method: str, args: tuple[str | int, ...], remaining: float | None) -> Any:
        """Call `__llmspell_bridge.<method>(*args)` and run every job it queued."""

    def eval(self, code: str, remaining: float | None) -> None:
        """Evaluate `code` and run every job it queued."""

    def out_of_memory(self) -> bool:
        """Whether the heap is at its cap: an allocation failure reaches a script's promise as a
        plain rejection (QuickJS rejects with null), so the driver asks."""

    def close(self) -> None: ...


VMFactory = Callable[[str, int | None], VM]
"""Builds a VM from the bridge install expression and the memory cap in bytes."""


class JSFunction:
    """A JavaScript function handed to the host, known to the engine by its id."""

    __slots__ = ("engine", "id")

    def __init__(self, engine: JSEngine, fn_id: int) -> None:
        self.engine = engine
        self.id = fn_id


@cache
def prelude() -> str:
    return Path(__file__).with_name("js_prelude.js").read_text(encoding="utf-8")


def install_expression(api: ApiSpec) -> str:
    """JS that installs the bridge for this API and evaluates to its handle."""
    shape = {
        "namespaces": {
            ns: {name: {"notify": hf.notify} for name, hf in fns.items()}
            for ns, fns in api.namespaces.items()
        },
        "functions": {name: {"notify": hf.notify} for name, hf in api.functions.items()},
        "values": api.values,
        "types": {
            t: {name: {"stream": hf.stream} for name, hf in methods.items()}
            for t, methods in api.types.items()
        },
        "builders": {
            ns: {"fields": list(b.fields), "build": b.build} for ns, b in api.builders.items()
        },
    }
    return f"({prelude().rstrip().rstrip(';')})({json.dumps(json.dumps(shape))})"


def _tag(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, JSFunction):
        return {"$fn": value.id}
    if isinstance(value, HostObject):
        return {"$obj": value.type, "$ref": value.ref, "fields": value.fields}
    raise TypeError(f"cannot pass a {type(value).__name__} to JavaScript")


def encode(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_tag)


def _error_json(exc: BaseException) -> str:
    code = str(exc.code) if isinstance(exc, LLMSpellError) else None
    return json.dumps({"message": str(exc), "code": code}, ensure_ascii=False)


_FRAME = re.compile(
    r"at (?:(?P<fn>[^\s(]+) \()?(?:<input>|<anonymous>|[^\s():]+):(?P<line>\d+)(?::\d+)?"
)
_LEADING = re.compile(r"^(?:<input>|<anonymous>):(?P<line>\d+): ")
_SYNTAX_AT = re.compile(r"^\s+at (?:<input>|<anonymous>):(?P<line>\d+)", re.MULTILINE)


def user_line(stack: str) -> int | None:
    """The first stack frame that is the user's code, not the bridge's."""
    for m in _FRAME.finditer(stack):
        if not (m.group("fn") or "").startswith("__llmspell"):
            return int(m.group("line"))
    return None


def script_error(filename: str, text: str, stack: str = "") -> ScriptError:
    first = text.split("\n", 1)[0].strip()
    line = None
    if m := _LEADING.match(first):  # V8: "<anonymous>:3: SyntaxError: ..."
        first, line = first[m.end() :], int(m.group("line"))
    line = line or (user_line(stack) if stack else None)
    if line is None and (m := _SYNTAX_AT.search(text)):  # QuickJS syntax errors
        line = int(m.group("line"))
    return ScriptError(first, file=filename, line=line, traceback=stack or None)


_ERROR_LINE = re.compile(r"(?:<input>|undefined|<anonymous>):(\d+)")


def _open_template(source: str) -> bool:
    """Whether `source` ends inside a template literal (a rough count of unescaped backticks)."""
    return len(re.findall(r"(?<!\\)`", source)) % 2 == 1


class JSEngine:
    name = "javascript"
    extensions: tuple[str, ...] = ()
    vm_factory: VMFactory

    def __init__(self, api: ApiSpec, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.deadline = Deadline(self.limits.timeout)
        self.filename = "script.js"
        self._fns: dict[str, HostFunction] = {
            f"{ns}.{n}": hf for ns, fns in api.namespaces.items() for n, hf in fns.items()
        }
        self._fns.update(api.functions)
        self._fns.update(
            {f"{t}#{m}": hf for t, methods in api.types.items() for m, hf in methods.items()}
        )
        self._tokens = itertools.count(1)
        self._waiters: dict[int, asyncio.Future[tuple[bool, Any]]] = {}
        self._tasks: dict[int, asyncio.Future[Any]] = {}
        self._ready: list[tuple[Invocation | None, str]] = []
        """Answers of finished Tasks, each with the invocation whose code asked."""
        self._flushing = False
        self._vm = type(self).vm_factory(install_expression(api), self.limits.memory)

    # -- values -------------------------------------------------------------------------------

    def _untag(self, obj: dict[str, Any]) -> Any:
        if len(obj) == 1:
            if isinstance(obj.get("$fn"), int):
                return JSFunction(self, obj["$fn"])
            if isinstance(obj.get("$bytes"), str):
                return base64.b64decode(obj["$bytes"])
        return obj

    def _decode(self, text: str) -> Any:
        return json.loads(text, object_hook=self._untag) if '"$' in text else json.loads(text)

    # -- entering JS and answering it -----------------------------------------------------------

    def _enter(self, method: str | None, *args: str | int) -> None:
        try:
            if method is None:
                self._vm.eval(str(args[0]), self.deadline.remaining())
            else:
                self._vm.call(method, args, self.deadline.remaining())
            self._answer()
        except VMError as exc:
            raise self._vm_error(exc) from None

    def _answer(self) -> None:
        """Drain the request queue and settle what can be settled now, until JS is quiet."""
        while True:
            batch = self._vm.call("drain", (), self.deadline.remaining())
            if not batch:
                return
            replies: list[str] = []
            for rid, name, args in self._decode(batch):
                if name == "__done":
                    self._finish_waiter(*args)
                    continue
                reply = self._request(rid, self._fns[name], args)
                if reply is not None:
                    replies.append(reply)
            if replies:
                self._vm.call("settle", ("[" + ",".join(replies) + "]",), self.deadline.remaining())

    def _request(self, rid: int, hf: HostFunction, args: list[Any]) -> str | None:
        """Answer a sync request now; start an async one as its own Task. (Not stepped eagerly
        as Lua's are: JS keeps many calls in flight, and a half-run coroutine cannot move to
        another task; see eager.py.)"""
        try:
            if not hf.is_async:
                value = hf.fn(*args)
                return None if rid == 0 else f"[{rid},true,{encode(value)}]"
            # A JS call's host requests run in the context of the invocation that started it,
            # so once that invocation is cancelled its async requests fail and the script
            # stops, as a Lua coroutine that is no longer resumed does.
            inv = current.get()
            if inv is not None and inv.cancel.cancelled:
                raise LLMSpellError(ErrorCode.CANCELLED, "the call was cancelled by its caller")
            task = asyncio.ensure_future(hf.fn(*args))
        except Exception as exc:
            return None if rid == 0 else f"[{rid},false,{_error_json(exc)}]"
        self._tasks[rid] = task
        task.add_done_callback(functools.partial(self._task_done, rid))
        if inv is not None:
            inv.cancel.bind(task)
            task.add_done_callback(inv.cancel.unbind)
        return None

    def _task_done(self, rid: int, task: asyncio.Future[Any]) -> None:
        """Runs in the context the request was made in, so `current` is the asking call."""
        if self._tasks.pop(rid, None) is None:
            return  # closed meanwhile
        if task.cancelled():
            reply = f"[{rid},false,{_error_json(LLMSpellError(ErrorCode.CANCELLED, _STOPPED))}]"
        elif (failed := task.exception()) is not None:
            reply = f"[{rid},false,{_error_json(failed)}]"
        else:
            try:
                reply = f"[{rid},true,{encode(task.result())}]"
            except Exception as exc:
                reply = f"[{rid},false,{_error_json(exc)}]"
        self._ready.append((current.get(), reply))
        if not self._flushing:
            self._flushing = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Settle the answers that came in, each call's under that call: the code an answer
        resumes makes its next requests as the call it belongs to (its caller, deadline and
        cancellation), however many calls of the script are in flight."""
        self._flushing = False
        ready, self._ready = self._ready, []
        by_call: dict[int, tuple[Invocation | None, list[str]]] = {}
        for inv, reply in ready:
            by_call.setdefault(id(inv), (inv, []))[1].append(reply)
        for inv, replies in by_call.values():
            entered = current.set(inv)
            try:
                self._enter("settle", "[" + ",".join(replies) + "]")
            except ScriptError as exc:
                for waiter in self._waiters.values():
                    if not waiter.done():
                        waiter.set_exception(exc)
                return
            finally:
                current.reset(entered)

    def _finish_waiter(self, token: int, ok: bool, value: Any) -> None:
        waiter = self._waiters.pop(token, None)
        if waiter is not None and not waiter.done():
            waiter.set_result((ok, value))

    def _vm_error(self, exc: VMError) -> ScriptError:
        if exc.kind == "timeout" or self.deadline.expired():
            # Neither VM says where it was interrupted (QuickJS reports the enclosing function's
            # first line), so name the file only rather than a wrong line.
            return self.deadline.error(self.filename)
        if exc.kind == "memory":
            return memory_error(self.limits.memory, self.filename, user_line(exc.text))
        return script_error(self.filename, exc.text, exc.text)

    async def _wait(self, waiter: asyncio.Future[tuple[bool, Any]]) -> Any:
        try:
            if self.deadline.at is None:
                ok, value = await waiter
            else:
                async with asyncio.timeout_at(self.deadline.at):
                    ok, value = await waiter
        except TimeoutError:
            stack = ""
            with contextlib.suppress(VMError):
                stack = str(self._vm.call("waiting_at", (), 1.0) or "")
            raise self.deadline.error(self.filename, user_line(stack)) from None
        if ok:
            return value
        stack = value.get("stack") or ""
        if self.deadline.expired():
            raise self.deadline.error(self.filename, user_line(stack))
        # QuickJS rejects with a bare `null` when an allocation fails, and frees the heap before
        # we look; a script throwing null itself is rare enough to read it as the memory cap.
        message = value.get("message", "")
        if (
            "out of memory" in message
            or (message == "Uncaught null" and self.limits.memory)
            or (self._vm.out_of_memory())
        ):
            raise memory_error(self.limits.memory, self.filename, user_line(stack))
        raise script_error(self.filename, value.get("message", ""), stack)

    def _waiter(self) -> tuple[int, asyncio.Future[tuple[bool, Any]]]:
        token = next(self._tokens)
        future: asyncio.Future[tuple[bool, Any]] = asyncio.get_running_loop().create_future()
        self._waiters[token] = future
        return token, future

    # -- the engine interface ------------------------------------------------------------------

    async def run(self, source: str, filename: str) -> Any:
        self.filename = filename
        with self.deadline:
            token, waiter = self._waiter()
            try:
                # The body becomes an async function whose first line is the script's first line.
                self._enter(None, f"{BRIDGE}.track({token}, (async () => {{{source}\n}})());")
            except BaseException:
                self._waiters.pop(token, None)
                raise
            return await self._wait(waiter)

    def syntax_error(self, source: str) -> str | None:
        """Compiled as an async function's body (as `run` runs it), never called."""
        build = "new (Object.getPrototypeOf(async function () {}).constructor)"
        try:
            self._vm.eval(f"{build}({json.dumps(source)});\nundefined", 5.0)
        except VMError as exc:
            return exc.text
        return None

    def incomplete(self, source: str) -> bool:
        """The parser stopped at the end of the body (the constructor's closing line, two lines
        past the body's last), or inside a template or comment still open there."""
        error = self.syntax_error(source)
        if error is None or "SyntaxError" not in error:
            return False
        if "end of comment" in error or ("end of string" in error and _open_template(source)):
            return True
        at = _ERROR_LINE.search(error)
        if at is None or int(at.group(1)) <= source.count("\n") + 3:
            return "end of input" in error
        # A stray `}` closes the wrapper early and fails at its end too; it is no beginning.
        return self.syntax_error("{\n" + source) is not None

    def interrupt(self) -> None:
        """Async waits end through the entry's cancel token; this stops the JS that runs next
        (a busy loop that never returns to the host is stopped only by the time limit)."""
        self.deadline.expire()

    async def call(self, fn: Any, *args: Any) -> Any:
        if not isinstance(fn, JSFunction) or fn.engine is not self:
            raise ScriptError("not a function of this script", file=self.filename)
        with self.deadline:
            token, waiter = self._waiter()
            try:
                self._enter("invoke", token, fn.id, encode(list(args)))
            except BaseException:
                self._waiters.pop(token, None)
                raise
            return await self._wait(waiter)

    def close(self) -> None:
        tasks, self._tasks = self._tasks, {}
        for task in tasks.values():
            task.cancel()
        self._waiters.clear()
        self._vm.close()
