"""Tab completion: dot-commands, globals, their members (`Tool.`, `agent:`), and catalog names
inside the string argument of the calls that take one (`Tool.execute("calc` -> `calculator`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from .commands import COMMANDS
from .session import Session

_NAME_ARG = re.compile(r"\b(Tool|Agent|Workflow)\s*[.:]\s*(\w+)\s*\(\s*[\"']([^\"']*)$")
_MEMBER = re.compile(r"([A-Za-z_$][\w$]*)\s*([.:])\s*([\w$]*)$")
_WORD = re.compile(r"[A-Za-z_$][\w$]*$")
KINDS = {"Tool": None, "Agent": "agent", "Workflow": "workflow"}
"""Which catalog names each namespace's string argument takes (Tool: any component)."""


def candidates(session: Session, before: str) -> tuple[int, list[str]]:
    """What may replace the end of `before` (the text left of the cursor): (how many characters
    it replaces, the candidates)."""
    stripped = before.lstrip()
    if stripped.startswith(".") and " " not in stripped:
        return len(stripped), [c for c in COMMANDS if c.startswith(stripped)]
    if m := _NAME_ARG.search(before):
        prefix = m.group(3)
        names = session.names(KINDS[m.group(1)])
        return len(prefix), [n for n in names if n.startswith(prefix)]
    if m := _MEMBER.search(before):
        owner, prefix = m.group(1), m.group(3)
        members = session.globals.get(owner, [])
        return len(prefix), sorted(x for x in set(members) if x.startswith(prefix))
    if m := _WORD.search(before):
        prefix = m.group(0)
        return len(prefix), sorted(g for g in session.globals if g.startswith(prefix))
    return 0, []


class ReplCompleter(Completer):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        return self._complete(document.text_before_cursor)

    def _complete(self, before: str) -> Iterator[Completion]:
        replaced, found = candidates(self.session, before)
        for text in found:
            yield Completion(text, start_position=-replaced)
