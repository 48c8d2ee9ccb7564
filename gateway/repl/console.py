"""Reading entries and owning the terminal: prompt_toolkit on a terminal (multi-line editing
decided by the engine's parser, completion, history in the user's state directory), plain lines
when stdin is piped. While an entry runs, Ctrl-C interrupts it and a spinner shows it works."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from types import FrameType

from . import commands
from .session import Session

SPINNER_AFTER = 0.4
"""Seconds an entry runs before the spinner shows."""
FRAMES = "|/-\\"


class Output:
    """stdout and stderr for the session; either one first wipes the spinner's line. The
    spinner turns on a thread of its own: a Lua loop can hold the event loop, and the user
    should still see that the entry is busy (and that Ctrl-C stops it)."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self._lock = threading.Lock()
        self._shown = False

    def _clear(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False

    def out(self, text: str) -> None:
        with self._lock:
            self._clear()
            sys.stdout.write(text)
            sys.stdout.flush()

    def err(self, text: str) -> None:
        with self._lock:
            self._clear()
            sys.stderr.write(text)
            sys.stderr.flush()

    @contextlib.contextmanager
    def spinner(self) -> Iterator[None]:
        if not self.tty:
            yield
            return
        stop = threading.Event()

        def spin() -> None:
            if stop.wait(SPINNER_AFTER):
                return
            for frame in itertools.cycle(FRAMES):
                with self._lock:
                    sys.stderr.write(f"\r{frame} running (Ctrl-C stops it)")
                    sys.stderr.flush()
                    self._shown = True
                if stop.wait(0.1):
                    return

        worker = threading.Thread(target=spin, name="llmspell-repl-spinner", daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join()
            with self._lock:
                self._clear()


@contextlib.contextmanager
def interrupts(session: Session) -> Iterator[None]:
    """SIGINT stops the running entry instead of the REPL. A plain signal handler, not the
    loop's: a Lua loop holds the event loop, but its count hook runs Python code, where the
    handler runs too."""

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        session.interrupt()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def execute(session: Session, output: Output, text: str) -> bool:
    """One entry or command; False ends the session."""
    if not text.strip():
        return True
    with output.spinner(), interrupts(session):
        if commands.is_command(text):
            return await commands.run(session, text)
        outcome = await session.evaluate(text)
    commands.report(session, outcome)
    return True


async def piped(session: Session, output: Output) -> None:
    """Line by line from a pipe: a line that leaves the entry incomplete waits for the next."""
    async for text in _entries(session):
        if not await execute(session, output, text):
            return


async def _entries(session: Session) -> AsyncIterator[str]:
    pending = ""
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            if pending.strip():
                yield pending
            return
        pending += line
        text = pending.rstrip("\n")
        if not commands.is_command(text) and text.strip() and session.incomplete(text):
            continue
        pending = ""
        yield text


async def interactive(session: Session, output: Output) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

    from .completion import ReplCompleter
    from .history import FILE, History, state_dir

    keys = KeyBindings()

    @keys.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        text = buffer.text
        if (
            text.strip()
            and buffer.document.is_cursor_at_the_end
            and not commands.is_command(text)
            and session.incomplete(text)
        ):
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    history = await asyncio.to_thread(History, state_dir() / FILE)
    prompt: PromptSession[str] = PromptSession(
        history=history,
        completer=ReplCompleter(session),
        complete_while_typing=False,
        multiline=True,
        key_bindings=keys,
        prompt_continuation=lambda width, line, wrap: "...".ljust(width - 1) + " ",
    )
    output.out(f"llmspell repl ({session.engine_name}); .help for commands, .exit or Ctrl-D\n")
    while True:
        try:
            text = await prompt.prompt_async(f"{_short(session.engine_name)}> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        if not await execute(session, output, text):
            return


def _short(engine: str) -> str:
    return {"javascript": "js"}.get(engine, engine)
