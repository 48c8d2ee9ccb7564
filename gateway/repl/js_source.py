"""A JavaScript entry, rewritten so its declarations outlive it and its value comes back.

An entry runs as the body of an async function (as `llmspell run` runs a file), so `await` works
at the top level. Its top-level `let`/`const` become `var`, and on success every name it
declared (`var`, `let`, `const`, `function`, `class`) is copied onto `globalThis`, where the
next entry finds it. The last statement, when it is an expression, is returned: the entry's
value. Only what is needed for that is tokenised (strings, templates, comments, regular
expressions, bracket depth); whether the result is valid JavaScript is the engine's call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_NUMBER = re.compile(r"\d[\w.]*|\.\d[\w]*")
_PUNCT = re.compile(
    r">>>=|\.\.\.|===|!==|\*\*=|<<=|>>=|>>>|&&=|\|\|=|\?\?=|=>|[-+*/%&|^!=<>?]=?|"
    r"\+\+|--|&&|\|\||\?\?|\?\.|\S"
)
_REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
    "=>",
    "&&",
    "||",
    "??",
    "==",
    "===",
    "!=",
    "!==",
}
_NO_VALUE = {
    "var",
    "let",
    "const",
    "function",
    "class",
    "if",
    "for",
    "while",
    "do",
    "try",
    "switch",
    "return",
    "throw",
    "break",
    "continue",
    "import",
    "export",
    "{",
    ";",
    "async",
}
_CONTINUES = set(".,([?:=+-*/%&|^<>") | {"?.", "=>", "&&", "||", "??", "in", "of", "instanceof"}
VALUE = "__llmspell_repl_value"
OK = "__llmspell_repl_ok"


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    depth: int
    """Brackets open before this token."""
    line_start: bool
    """A line break separates it from the token before."""


def tokens(source: str) -> list[Token]:
    out: list[Token] = []
    stack: list[str] = []  # open brackets; "`" marks a template's `${`
    i, n, newline = 0, len(source), True
    while i < n:
        c = source[i]
        if c.isspace():
            newline = newline or c == "\n"
            i += 1
            continue
        if source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            newline = newline or "\n" in source[i : (n if end < 0 else end)]
            i = n if end < 0 else end + 2
            continue
        start = i
        if c in "\"'":
            i = _skip_quoted(source, i)
            text = source[start:i]
        elif c == "`" or (c == "}" and stack and stack[-1] == "`"):
            if c == "}":
                stack.pop()
            i, opened = _skip_template(source, i + 1)
            if opened:
                stack.append("`")
            text = "`"
        elif c == "/" and (not out or out[-1].text in _REGEX_AFTER):
            i = _skip_regex(source, i)
            text = source[start:i]
        elif (m := _NAME.match(source, i)) or (m := _NUMBER.match(source, i)):
            text, i = m.group(0), m.end()
        else:
            m = _PUNCT.match(source, i)
            assert m is not None
            text, i = m.group(0), m.end()
            if text in ")]}" and stack:
                stack.pop()
                out.append(Token(text, start, i, len(stack), newline))
                newline = False
                continue
        out.append(Token(text, start, i, len(stack), newline))
        newline = False
        if text in "([{" and len(text) == 1:
            stack.append(text)
    return out


def _skip_quoted(source: str, i: int) -> int:
    quote, i = source[i], i + 1
    while i < len(source):
        if source[i] == "\\":
            i += 2
        elif source[i] in (quote, "\n"):
            return i + 1
        else:
            i += 1
    return i


def _skip_template(source: str, i: int) -> tuple[int, bool]:
    """Past the template text from `i`: to its closing backtick, or into a `${` (True)."""
    while i < len(source):
        if source[i] == "\\":
            i += 2
        elif source[i] == "`":
            return i + 1, False
        elif source.startswith("${", i):
            return i + 2, True
        else:
            i += 1
    return i, False


def _skip_regex(source: str, i: int) -> int:
    i, in_class = i + 1, False
    while i < len(source) and source[i] != "\n":
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            i += 1
            while i < len(source) and (source[i].isalnum() or source[i] == "_"):
                i += 1
            return i
        i += 1
    return i


@dataclass(frozen=True, slots=True)
class Entry:
    """What an entry becomes: the async function body to run, and the names it declares."""

    body: str
    names: tuple[str, ...]
    value_at: int | None
    """Where the last statement starts when it may be an expression (its value is returned)."""


def analyse(source: str) -> Entry:
    toks = tokens(source)
    edits: list[tuple[int, int, str]] = []
    names: list[str] = []
    last_start: int | None = None
    for k, tok in enumerate(toks):
        if tok.depth != 0:
            continue
        prev = toks[k - 1] if k else None
        at_start = (
            prev is None
            or prev.text in (";", "}")
            or (tok.line_start and prev.text not in _CONTINUES and tok.text not in _CONTINUES)
        )
        if not at_start:
            continue
        last_start = k
        if tok.text in ("let", "const", "var"):
            if tok.text != "var":
                edits.append((tok.start, tok.end, "var"))
            names.extend(_declared(toks, k + 1))
        elif tok.text in ("function", "class") or (
            tok.text == "async" and k + 1 < len(toks) and toks[k + 1].text == "function"
        ):
            j = k + (2 if tok.text == "async" else 1)
            if j < len(toks) and toks[j].text == "*":
                j += 1
            if j < len(toks) and _NAME.fullmatch(toks[j].text):
                names.append(toks[j].text)
                if tok.text == "class":  # block-scoped: as a `var`, `finally` still sees it
                    edits.append((tok.start, tok.start, f"var {toks[j].text} = "))
                    brace = next((b for b in range(j, len(toks)) if toks[b].text == "{"), None)
                    if brace is not None:
                        end = toks[_matching(toks, brace)].end
                        edits.append((end, end, ";"))
    body = source
    for start, end, text in sorted(edits, reverse=True):
        body = body[:start] + text + body[end:]
    value_at = None
    if last_start is not None and toks[last_start].text not in _NO_VALUE:
        shift = sum(len(t) - (e - s) for s, e, t in edits if s < toks[last_start].start)
        value_at = toks[last_start].start + shift
    return Entry(body, tuple(dict.fromkeys(names)), value_at)


def _declared(toks: list[Token], k: int) -> list[str]:
    """The names bound by the declarators starting at `toks[k]`."""
    names: list[str] = []
    base = toks[k - 1].depth
    expect_binding = True
    while k < len(toks):
        tok = toks[k]
        if tok.depth == base and tok.text == ";":
            break
        if tok.depth == base and tok.line_start and not expect_binding:
            prev = toks[k - 1].text
            if prev not in _CONTINUES and tok.text not in _CONTINUES:
                break
        if expect_binding:
            if _NAME.fullmatch(tok.text) and tok.depth == base:
                names.append(tok.text)
                expect_binding = False
            elif tok.text in ("{", "["):
                end = _matching(toks, k)
                for j in range(k + 1, end):
                    t = toks[j]
                    following = toks[j + 1].text if j + 1 < len(toks) else ""
                    before = toks[j - 1].text
                    if _NAME.fullmatch(t.text) and following != ":" and before != ".":
                        names.append(t.text)
                k, expect_binding = end, False
        elif tok.depth == base and tok.text == ",":
            expect_binding = True
        k += 1
    return names


def _matching(toks: list[Token], k: int) -> int:
    depth = toks[k].depth
    for j in range(k + 1, len(toks)):
        if toks[j].depth == depth and toks[j].text in ")]}":
            return j
    return len(toks) - 1


def runnable(entry: Entry, *, with_value: bool) -> str:
    """The async function body that runs `entry` and, on success, publishes its names."""
    body = entry.body
    if with_value and entry.value_at is not None:
        head, tail = body[: entry.value_at], body[entry.value_at :].rstrip().rstrip(";")
        body = f"{head}return {VALUE}((\n{tail}\n));"
    publish = "".join(f"try {{ globalThis.{n} = {n}; }} catch (_) {{}}\n" for n in entry.names)
    return (
        f"let {OK} = false; const {VALUE} = (v) => ({OK} = true, v);\n"
        f"try {{\n{body}\n;{OK} = true;\n}} finally {{ if ({OK}) {{\n{publish}}} }}"
    )


def as_script(entry: Entry, *, printed: bool) -> str:
    """The entry as a line of a saved script: declarations as `var`, a shown value printed."""
    body = entry.body
    if printed and entry.value_at is not None:
        head, tail = body[: entry.value_at], body[entry.value_at :].rstrip().rstrip(";")
        body = f"{head}print({tail});"
    return body
