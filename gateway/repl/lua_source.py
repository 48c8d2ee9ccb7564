"""A Lua entry, rewritten so its top-level `local`s outlive it.

Every entry runs as its own chunk, and a chunk's locals end with it; the standalone `lua` REPL
loses them, which surprises everyone. Top-level `local x = 1` becomes `x = 1` and `local function
f` becomes `function f`, so the next entry sees them. Nested blocks are left alone: only the
depth of blocks is tracked, by keyword, outside strings and comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPEN = {"function", "do", "repeat", "if"}
_CLOSE = {"end", "until"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LONG = re.compile(r"\[(=*)\[")
_NUMBER = re.compile(r"0[xX][0-9a-fA-F.]+(?:[pP][+-]?\d+)?|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    depth: int
    """Blocks open before this token (0: the chunk's top level)."""


def tokens(source: str) -> list[Token]:
    """Names, numbers and punctuation with their block depth; strings and comments skipped."""
    out: list[Token] = []
    i, n, depth = 0, len(source), 0
    while i < n:
        c = source[i]
        if c.isspace():
            i += 1
        elif source.startswith("--", i):
            long = _LONG.match(source, i + 2)
            if long:
                close = source.find("]" + long.group(1) + "]", long.end())
                i = n if close < 0 else close + len(long.group(0))
            else:
                newline = source.find("\n", i)
                i = n if newline < 0 else newline + 1
        elif c in "\"'":
            i = _skip_string(source, i)
        elif c == "[" and (long := _LONG.match(source, i)):
            close = source.find("]" + long.group(1) + "]", long.end())
            i = n if close < 0 else close + len(long.group(0))
        elif m := _NAME.match(source, i):
            word = m.group(0)
            if word in _CLOSE:
                depth = max(depth - 1, 0)
            out.append(Token(word, i, m.end(), depth))
            if word in _OPEN:
                depth += 1
            i = m.end()
        elif m := _NUMBER.match(source, i):
            i = m.end()
        else:
            out.append(Token(c, i, i + 1, depth))
            i += 1
    return out


def _skip_string(source: str, i: int) -> int:
    quote, i = source[i], i + 1
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
        elif c == quote or c == "\n":
            return i + 1
        else:
            i += 1
    return i


def globalize(source: str) -> str:
    """`source` with its top-level `local` declarations made global: `local a, b = 1, 2` ->
    `a, b = 1, 2`; `local x` -> `x = nil`; `local function f` -> `function f`."""
    toks = tokens(source)
    edits: list[tuple[int, int, str]] = []
    for k, tok in enumerate(toks):
        if tok.text != "local" or tok.depth != 0:
            continue
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if nxt is None:
            continue
        if nxt.text == "function":
            edits.append((tok.start, nxt.start, ""))
            continue
        j, last = k + 1, None
        while j < len(toks) and _NAME.fullmatch(toks[j].text):
            last = toks[j]
            j += 1
            if j + 2 < len(toks) and toks[j].text == "<" and toks[j + 2].text == ">":
                edits.append((toks[j].start, toks[j + 2].end, ""))  # <const>, <close>
                j += 3
            if j < len(toks) and toks[j].text == ",":
                j += 1
                continue
            break
        if last is None:
            continue
        edits.append((tok.start, toks[k + 1].start, ""))
        if j >= len(toks) or toks[j].text != "=":
            edits.append((last.end, last.end, " = nil"))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source
