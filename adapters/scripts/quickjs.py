"""JavaScript on QuickJS (quickjs-ng): the default engine for `.js`.

QuickJS runs on the event loop's own thread: entering it is a C call, so a host round trip is
cheap. Its time limit interrupts runaway loops; because the binding refuses Python
callbacks while a limit is set, the bridge never makes any (see js_prelude.js).
"""

from __future__ import annotations

from typing import Any

import quickjs

from .js_common import BRIDGE, VM, JSEngine, VMError

_METHODS = ("drain", "settle", "invoke", "waiting_at")


class QuickJSVM:
    def __init__(self, install: str, memory: int | None) -> None:
        ctx = quickjs.Context()
        ctx.set(BRIDGE, ctx.eval(install))
        ctx.eval(f"Object.defineProperty(globalThis, '{BRIDGE}', {{enumerable: false}})")
        self._methods = {name: ctx.eval(f"{BRIDGE}.{name}") for name in _METHODS}
        if memory:
            ctx.set_memory_limit(memory)
        self._ctx = ctx

    def _limit(self, remaining: float | None) -> None:
        self._ctx.set_time_limit(-1 if remaining is None else max(remaining, 0.001))

    def _run(self, fn: Any, args: tuple[Any, ...], remaining: float | None) -> Any:
        ctx = self._ctx
        try:
            self._limit(remaining)
            out = fn(*args)
            while ctx.execute_pending_job():
                pass
            return out
        except quickjs.JSException as exc:
            text = str(exc)
            if text.startswith("InternalError: interrupted"):
                raise VMError("timeout", text) from None
            if text.strip() == "null" or "out of memory" in text:
                raise VMError("memory", text) from None
            raise VMError("error", text) from None
        except quickjs.StackOverflow as exc:
            raise VMError("error", f"RangeError: stack overflow\n{exc}") from None

    def call(self, method: str, args: tuple[str | int, ...], remaining: float | None) -> Any:
        return self._run(self._methods[method], args, remaining)

    def eval(self, code: str, remaining: float | None) -> None:
        self._run(self._ctx.eval, (code,), remaining)

    def out_of_memory(self) -> bool:
        usage: dict[str, int] = self._ctx.memory()
        limit = usage.get("malloc_limit", -1)
        return 0 < limit < 2**62 and usage.get("malloc_size", 0) > limit * 0.95

    def close(self) -> None:
        self._methods.clear()


def _vm(install: str, memory: int | None) -> VM:
    return QuickJSVM(install, memory)


class QuickJSEngine(JSEngine):
    name = "javascript"
    extensions = (".js", ".mjs")
    vm_factory = staticmethod(_vm)
