"""JavaScript on V8 (mini-racer), for compute-heavy scripts: `--engine v8`, extra `llmspell[v8]`.

mini-racer runs the isolate on its own thread, so each entry is a cross-thread hop, and V8
takes far more memory to start: QuickJS stays the default. The bridge and driver are the same
as QuickJS's; only entering the VM differs.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from py_mini_racer import (
    JSEvalException,
    JSOOMException,
    JSParseException,
    JSTimeoutException,
    MiniRacer,
)

from .js_common import BRIDGE, VM, JSEngine, VMError


def _own_loop_racer() -> MiniRacer:
    """A MiniRacer bound to its own background loop. Created on a thread with no running loop,
    so that its synchronous `eval(timeout_sec=...)` is allowed from our event loop: V8 then
    blocks the loop only while JS runs, exactly as QuickJS does."""
    made: list[MiniRacer] = []
    worker = threading.Thread(target=lambda: made.append(MiniRacer()), name="llmspell-v8-init")
    worker.start()
    worker.join()
    return made[0]


class V8VM:
    def __init__(self, install: str, memory: int | None) -> None:
        self._mr = _own_loop_racer()
        if memory:
            self._mr.set_hard_memory_limit(memory)
        self._mr.eval(f"globalThis.{BRIDGE} = {install}; undefined")

    def _eval(self, code: str, remaining: float | None) -> Any:
        timeout = None if remaining is None else max(remaining, 0.001)
        try:
            return self._mr.eval(code, timeout_sec=timeout)
        except JSTimeoutException as exc:
            raise VMError("timeout", str(exc)) from None
        except JSOOMException as exc:
            raise VMError("memory", str(exc)) from None
        except (JSEvalException, JSParseException) as exc:
            if self._mr.was_hard_memory_limit_reached():
                raise VMError("memory", str(exc)) from None
            raise VMError("error", str(exc)) from None

    def call(self, method: str, args: tuple[str | int, ...], remaining: float | None) -> Any:
        literal = ",".join(json.dumps(a) for a in args)
        return self._eval(f"{BRIDGE}.{method}({literal})", remaining)

    def eval(self, code: str, remaining: float | None) -> None:
        self._eval(code + "\nundefined", remaining)

    def out_of_memory(self) -> bool:
        return bool(self._mr.was_hard_memory_limit_reached())

    def close(self) -> None:
        self._mr.close()


def _vm(install: str, memory: int | None) -> VM:
    return V8VM(install, memory)


class V8Engine(JSEngine):
    name = "v8"
    extensions = ()
    vm_factory = staticmethod(_vm)
