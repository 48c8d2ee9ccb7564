"""The dot-commands: `.help`, `.tools`, `.agents`, `.engine`, `.save`, `.load`, `.show`,
`.clear`, `.exit`. Each takes the rest of the line and writes through the session."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from llmspell.runtime import LLMSpellError

from . import media
from .session import Outcome, Session

Command = Callable[[Session, str], Awaitable[bool]]
"""Runs a command; False ends the session."""

HELP = """\
.help            this help
.tools           the tools in the catalog
.agents          the agents in the catalog
.engine NAME     switch to lua, javascript or v8 (State is kept, variables are not)
.save FILE       write the session's entries as a script `llmspell run FILE` runs
.load FILE       run a file into the session
.show N [FILE]   write the Nth image or audio result to a file and print its path
.clear           a fresh engine (State is kept)
.exit            leave (also Ctrl-D)
Ctrl-C stops a running entry; variables set before it are kept.
"""


async def _help(session: Session, arg: str) -> bool:
    session.out(HELP)
    return True


async def _tools(session: Session, arg: str) -> bool:
    _listing(session, "tool")
    return True


async def _agents(session: Session, arg: str) -> bool:
    _listing(session, "agent")
    return True


def _listing(session: Session, kind: str) -> None:
    components = [c for c in session.runtime.catalog.list() if c.kind == kind]
    if not components:
        session.out(f"no {kind}s\n")
    for c in sorted(components, key=lambda c: c.name):
        first = c.description.strip().split("\n", 1)[0]
        session.out(f"{c.name:28} {first[:70]}\n")


async def _engine(session: Session, arg: str) -> bool:
    if not arg:
        session.out(f"{session.engine_name}\n")
        return True
    try:
        await session.switch(arg)
    except ValueError as exc:
        session.err(f"error: {exc}\n")
        return True
    session.out(f"engine: {session.engine_name} (State kept; variables start afresh)\n")
    return True


async def _save(session: Session, arg: str) -> bool:
    if not arg:
        session.err("usage: .save FILE\n")
        return True
    path = _path(arg)
    try:
        await asyncio.to_thread(path.write_text, session.script(), encoding="utf-8")
    except OSError as exc:
        session.err(f"error: {exc}\n")
        return True
    session.out(f"saved {len(session.entries)} entries to {path}\n")
    return True


async def _load(session: Session, arg: str) -> bool:
    if not arg:
        session.err("usage: .load FILE\n")
        return True
    try:
        outcome = await session.load(str(_path(arg)))
    except (OSError, UnicodeDecodeError, LLMSpellError) as exc:
        session.err(f"error: {exc}\n")
        return True
    report(session, outcome)
    return True


async def _show(session: Session, arg: str) -> bool:
    number, _, target = arg.partition(" ")
    if not number.isdigit() or not 1 <= int(number) <= len(session.media):
        have = len(session.media)
        session.err(f"usage: .show N [FILE], N from 1 to {have}\n" if have else "no media yet\n")
        return True
    item = session.media[int(number) - 1]
    try:
        if target.strip():
            path = _path(target.strip())
            await asyncio.to_thread(path.write_bytes, item.data)
        else:
            folder = Path(tempfile.gettempdir()) / "llmspell-repl"
            path = await asyncio.to_thread(media.write, item, folder, int(number))
    except OSError as exc:
        session.err(f"error: {exc}\n")
        return True
    session.out(f"{path}\n")
    return True


async def _clear(session: Session, arg: str) -> bool:
    await session.switch(session.engine_name)
    session.out("cleared (State kept)\n")
    return True


async def _exit(session: Session, arg: str) -> bool:
    return False


COMMANDS: dict[str, Command] = {
    ".help": _help,
    ".tools": _tools,
    ".agents": _agents,
    ".engine": _engine,
    ".save": _save,
    ".load": _load,
    ".show": _show,
    ".clear": _clear,
    ".exit": _exit,
}


def _path(text: str) -> Path:
    """`~` expanded by hand: `Path.expanduser` may read the password database."""
    if text == "~" or text.startswith("~/"):
        return Path(os.environ.get("HOME", "~") + text[1:])
    return Path(text)


def is_command(line: str) -> bool:
    return line.strip().split(" ", 1)[0] in COMMANDS


async def run(session: Session, line: str) -> bool:
    name, _, arg = line.strip().partition(" ")
    return await COMMANDS[name](session, arg.strip())


def report(session: Session, outcome: Outcome) -> None:
    if outcome.interrupted:
        session.err("interrupted\n")
    elif outcome.error is not None:
        session.err(f"error: {outcome.error}\n")
    elif outcome.shown is not None:
        session.out(outcome.shown + "\n")
