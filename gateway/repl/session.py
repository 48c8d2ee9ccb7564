"""One REPL session: a runtime from the assembly and one script engine at a time.

Entries run the way `llmspell run` runs a file (the engine's `run`, so every host call is the
same gated call), under an invocation of their own: Ctrl-C cancels it, which stops what the entry
awaits (a tool call, a stream, `sleep`) and, through the engine's deadline, the script itself.
State lives in the runtime, so it outlasts `.clear` and `.engine`; variables live in the engine.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.adapters.scripts.api.log import Writer, display
from llmspell.adapters.scripts.engine import ALIASES, Interactive, Limits, ScriptEngine
from llmspell.adapters.scripts.loader import create_engine
from llmspell.runtime import ErrorCode, Invocation, LLMSpellError
from llmspell.runtime.invocation import current

from . import js_source, lua_source
from .media import Media, extract

if TYPE_CHECKING:
    from llmspell.adapters.scripts.api import ScriptHost

    from ..assembly import Assembly

_LUA_GLOBALS = """
local out = {}
for k, v in pairs(_G) do
  if type(k) == "string" then
    local keys = {}
    if type(v) == "table" then
      for m in pairs(v) do
        if type(m) == "string" and #keys < 200 then keys[#keys + 1] = m end
      end
      local mt = getmetatable(v)
      if type(mt) == "table" and type(mt.__index) == "table" then
        for m in pairs(mt.__index) do
          if type(m) == "string" and #keys < 200 then keys[#keys + 1] = m end
        end
      end
    end
    out[k] = keys
  end
end
return out
"""
_JS_GLOBALS = """
const out = {};
for (const k of Object.getOwnPropertyNames(globalThis)) {
  if (k.startsWith("__llmspell")) continue;
  let keys = [];
  try {
    const v = globalThis[k];
    if (v !== null && (typeof v === "object" || typeof v === "function") && k !== "globalThis") {
      keys = Object.keys(v).slice(0, 200);
      const proto = Object.getPrototypeOf(v);
      if (proto && proto !== Object.prototype && proto !== Function.prototype) {
        keys = keys.concat(Object.getOwnPropertyNames(proto).filter((m) => m !== "constructor"));
      }
    }
  } catch (_) {}
  out[k] = keys;
}
return out;
"""


@dataclass(slots=True)
class Outcome:
    """What an entry gave: the text shown for its value (None: nothing), or its error."""

    shown: str | None = None
    media: list[Media] = field(default_factory=list)
    error: str | None = None
    interrupted: bool = False


class Session:
    def __init__(
        self,
        assembly: Assembly,
        engine: str,
        *,
        out: Writer,
        err: Writer,
        limits: Limits | None = None,
    ) -> None:
        self.assembly = assembly
        self.runtime = assembly.runtime
        self.out, self.err = out, err
        self.limits = limits or Limits(timeout=None)
        self.engine_name = ALIASES.get(engine, engine)
        self.engine: ScriptEngine
        self.host: ScriptHost
        self.entries: list[str] = []
        """Each successful entry as a line of a script that does the same (`.save`)."""
        self.media: list[Media] = []
        self.globals: dict[str, list[str]] = {}
        """Global names and their members, for completion; refreshed after each entry."""
        self._running: Invocation | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.interrupted = False

    # -- engine lifetime ---------------------------------------------------------------------

    @property
    def language(self) -> str:
        return "lua" if self.engine_name == "lua" else "javascript"

    @property
    def extension(self) -> str:
        return ".lua" if self.language == "lua" else ".js"

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.engine, self.host = create_engine(
            self.runtime,
            "repl",  # State's default scope is `script:repl`, whichever the engine
            engine=self.engine_name,
            limits=self.limits,
            stdout=self.out,
            stderr=self.err,
            roots=self.assembly.roots,
        )
        if not isinstance(self.engine, Interactive):
            self.engine.close()
            raise ValueError(f"engine {self.engine_name!r} cannot run a REPL")
        await self.refresh()

    async def stop(self) -> None:
        """Take back what the engine defined (its tools leave the catalog) and release it."""
        catalog = self.runtime.catalog
        for name in self.host.defined:
            catalog.unregister(name)
        self.host.defined.clear()
        await self.host.aclose()
        self.engine.close()

    async def switch(self, engine: str) -> None:
        """A fresh engine (`.clear`, `.engine NAME`); the runtime and its State stay."""
        old = (self.engine, self.host, self.engine_name)
        await self.stop()
        self.engine_name = ALIASES.get(engine, engine)
        try:
            await self.start()
        except Exception:
            _, _, self.engine_name = old
            await self.start()
            raise
        self.entries.clear()

    # -- entries -----------------------------------------------------------------------------

    def incomplete(self, text: str) -> bool:
        engine = self.engine
        assert isinstance(engine, Interactive)
        if self.language == "lua" and engine.syntax_error("return " + text) is None:
            return False  # an expression: `x` alone is not the start of a statement
        return engine.incomplete(text)

    def _compiles(self, code: str) -> bool:
        engine = self.engine
        assert isinstance(engine, Interactive)
        return engine.syntax_error(code) is None

    async def evaluate(self, text: str) -> Outcome:
        """Run one entry; on success it joins `entries` and its media join `media`."""
        code, saved, with_value = self._prepare(text)
        outcome = await self._run(code, "stdin" + self.extension)
        if outcome.error is not None or outcome.interrupted:
            return outcome
        if not with_value:
            outcome.shown = None
        self.entries.append(saved(outcome.shown is not None))
        await self.refresh()
        return outcome

    def _prepare(self, text: str) -> tuple[str, Any, bool]:
        """(code to run, saved form given whether a value was shown, whether it has a value)."""
        if self.language == "lua":
            if self._compiles("return " + text):
                statement = self._compiles(text)
                return (
                    "return " + text,
                    lambda shown: f"print(({text}))" if shown or not statement else text,
                    True,
                )
            code = lua_source.globalize(text)
            return code, lambda shown: code, False
        entry = js_source.analyse(text)
        code = js_source.runnable(entry, with_value=True)
        valued = entry.value_at is not None
        if valued and not self._compiles(code):
            code, valued = js_source.runnable(entry, with_value=False), False
        return code, lambda shown: js_source.as_script(entry, printed=shown and valued), valued

    async def load(self, path: str) -> Outcome:
        """Run a file into the session: its top-level declarations stay, like an entry's."""
        source = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        if self.language == "lua":
            code = saved = lua_source.globalize(source)
        else:
            entry = js_source.analyse(source)
            code = js_source.runnable(entry, with_value=False)
            saved = js_source.as_script(entry, printed=False)
        outcome = await self._run(code, path)
        outcome.shown = None
        if outcome.error is None and not outcome.interrupted:
            self.entries.append(saved)
            await self.refresh()
        return outcome

    def script(self) -> str:
        """The session's successful entries as a script `llmspell run` runs the same way."""
        return "".join(entry.rstrip("\n") + "\n" for entry in self.entries)

    async def _run(self, code: str, filename: str) -> Outcome:
        inv = Invocation.create("repl")
        self.interrupted = False

        async def entry() -> Any:
            current.set(inv)
            return await self.engine.run(code, filename)

        task = asyncio.ensure_future(entry())
        inv.cancel.bind(task)
        self._running = inv
        try:
            value = await task
        except asyncio.CancelledError:
            if not task.cancelled() or not self.interrupted:
                raise  # the REPL itself is being stopped
            return Outcome(interrupted=True)
        except LLMSpellError as exc:
            if self.interrupted or exc.code == ErrorCode.CANCELLED:
                return Outcome(interrupted=True)
            return Outcome(error=exc.message)
        finally:
            self._running = None
        plain, media = extract(value)
        start = len(self.media) + 1
        self.media.extend(media)
        shown = None if value is None else display(plain)
        outcome = Outcome(shown=shown, media=media)
        if media:
            outcome.shown = (shown or "") + "".join(
                f"\n[media {start + i}] {m.describe()}" for i, m in enumerate(media)
            )
        return outcome

    def interrupt(self) -> None:
        """Ctrl-C: may be called from a signal handler, while the engine holds the loop."""
        inv = self._running
        if inv is None:
            return
        self.interrupted = True
        engine = self.engine
        if isinstance(engine, Interactive):
            engine.interrupt()
        if self._loop is not None:
            self._loop.call_soon_threadsafe(inv.cancel.cancel, "interrupted")

    @property
    def running(self) -> bool:
        return self._running is not None

    async def refresh(self) -> None:
        """Read the engine's global names for completion; a failure leaves the old ones."""
        code = _LUA_GLOBALS if self.language == "lua" else _JS_GLOBALS
        try:
            found = await self.engine.run(code, "completion" + self.extension)
        except LLMSpellError:
            return
        if isinstance(found, dict):
            self.globals = {
                str(k): [str(m) for m in v] if isinstance(v, list) else [] for k, v in found.items()
            }

    def names(self, kind: str | None = None) -> list[str]:
        """Catalog names of a kind (tools, agents, workflows), for `.tools` and completion."""
        return sorted(c.name for c in self.runtime.catalog.list() if kind in (None, c.kind))
