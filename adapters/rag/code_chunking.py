"""Code chunks by symbol: functions, classes, methods (tree-sitter, grammars bundled in
`tree_sitter_language_pack` 0.x so nothing is fetched), each with its place (`class A > def m,
lines 3-9`). A symbol over the budget is opened: its members become chunks of their own and the
rest of it (class header, fields) goes in line windows, as does code between symbols."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .chunking import Chunk, _check, _extension, _line_windows, _Lines, _trim, count_tokens


@dataclass(frozen=True, slots=True)
class _Grammar:
    symbols: dict[str, str]
    """Node type → the keyword a location shows (`def`, `class`, `fn`...)."""
    wrappers: frozenset[str] = frozenset()
    """Nodes that wrap a symbol and belong to its text (decorators, `export`)."""
    assigned: dict[str, str] = field(default_factory=dict)
    """Declarations whose value is a function (`const f = () => 1`) → keyword."""


_JS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "method_definition": "method",
}
_TS = {
    **_JS,
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "type_alias_declaration": "type",
    "internal_module": "namespace",
}
_JS_ASSIGNED = {"lexical_declaration": "function", "variable_declaration": "function"}
GRAMMARS: dict[str, _Grammar] = {
    "python": _Grammar(
        {"function_definition": "def", "class_definition": "class"},
        frozenset({"decorated_definition"}),
    ),
    "javascript": _Grammar(_JS, frozenset({"export_statement"}), _JS_ASSIGNED),
    "typescript": _Grammar(_TS, frozenset({"export_statement"}), _JS_ASSIGNED),
    "tsx": _Grammar(_TS, frozenset({"export_statement"}), _JS_ASSIGNED),
    "go": _Grammar(
        {"function_declaration": "func", "method_declaration": "func", "type_declaration": "type"}
    ),
    "rust": _Grammar(
        {
            "function_item": "fn",
            "function_signature_item": "fn",
            "impl_item": "impl",
            "struct_item": "struct",
            "enum_item": "enum",
            "trait_item": "trait",
            "mod_item": "mod",
            "macro_definition": "macro_rules!",
        }
    ),
    "lua": _Grammar(
        {"function_declaration": "function"},
        assigned={"variable_declaration": "function", "assignment_statement": "function"},
    ),
}
EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".lua": "lua",
}
_FUNCTION_VALUES = {"arrow_function", "function_expression", "function", "function_definition"}
_COMMENTS = {"comment", "line_comment", "block_comment"}
_CLOSING = re.compile(r"[\W_]*(?:end)?[\W_]*")
"""Leftovers not worth a chunk: a closing brace, Lua's `end`."""


def language_for(path_text: str) -> str | None:
    """The tree-sitter language of a file name with symbol support, else None."""
    return EXTENSIONS.get(_extension(path_text))


def chunk_code(text: str, language: str | None, size: int = 256, overlap: int = 0) -> list[Chunk]:
    """Symbol chunks for a supported language; line windows (`overlap` lines shared) otherwise,
    or when the grammar package is not installed."""
    _check(size, overlap, "lines")
    grammar = GRAMMARS.get(language or "")
    try:
        from tree_sitter_language_pack import get_parser
    except ImportError:
        grammar = None
    lines = _Lines(text)
    if grammar is None or language is None:
        return [
            _window(text, s, e, lines, [], "lines", language)
            for s, e in _line_windows(text, 0, len(text), size, overlap)
        ]
    source = text.encode()
    tree = get_parser(language).parse(source)  # type: ignore[arg-type]
    walker = _Walker(text, source, grammar, language, lines, size, overlap)
    return list(walker.region(tree.root_node, 0, len(text), []))


def _window(
    text: str,
    s: int,
    e: int,
    lines: _Lines,
    trail: list[str],
    strategy: str,
    language: str | None,
    extra: dict[str, Any] | None = None,
) -> Chunk:
    a, b = lines.span(s, e)
    where = f"{' > '.join(trail)}, lines {a}-{b}" if trail else f"lines {a}-{b}"
    meta = {"strategy": strategy, "language": language, "kind": "code", **(extra or {})}
    return Chunk(text[s:e], s, e, where, {**meta, "start_line": a, "end_line": b})


class _Walker:
    def __init__(
        self,
        text: str,
        source: bytes,
        grammar: _Grammar,
        language: str,
        lines: _Lines,
        size: int,
        overlap: int,
    ) -> None:
        self.text, self.grammar, self.language, self.lines = text, grammar, language, lines
        self.size, self.overlap = size, overlap
        self._ascii = len(source) == len(text)
        self._source = source
        self._line_bytes = [0] + [i + 1 for i, b in enumerate(source) if b == 10]
        self._line_chars = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def char(self, byte: int) -> int:
        """A node's byte offset as a character offset (they differ past any non-ASCII)."""
        if self._ascii:
            return byte
        row = bisect.bisect_right(self._line_bytes, byte) - 1
        head = self._source[self._line_bytes[row] : byte]
        return self._line_chars[row] + len(head.decode("utf-8", errors="replace"))

    def symbols(self, node: Any) -> Iterator[tuple[Any, str, str]]:
        """The outermost symbols under `node`: (node whose text is the chunk, keyword, name)."""
        for child in node.named_children:
            found = self.symbol(child)
            if found is not None:
                yield child, *found
            else:
                yield from self.symbols(child)

    def symbol(self, node: Any) -> tuple[str, str] | None:
        g = self.grammar
        if node.type in g.symbols:
            return g.symbols[node.type], _name(node)
        if node.type in g.wrappers:
            for child in node.named_children:
                if child.type in g.symbols:
                    return g.symbols[child.type], _name(child)
        if node.type in g.assigned:
            for sub in _descendants(node, depth=3):
                value = sub.child_by_field_name("value")
                if (value is not None and value.type in _FUNCTION_VALUES) or (
                    sub.type == "expression_list"
                    and any(c.type in _FUNCTION_VALUES for c in sub.named_children)
                ):  # const f = () => 1; local f = function() end; M.f = function() end
                    named = sub.child_by_field_name("name")
                    names = [d for d in _descendants(node, 3) if d.type == "variable_list"]
                    return g.assigned[node.type], _text(named or (names[0] if names else None))
        return None

    def region(self, node: Any, start: int, end: int, trail: list[str]) -> Iterator[Chunk]:
        """Chunks covering text[start:end]: its symbols, and line windows for what is between."""
        pos = start
        for sym, keyword, name in self.symbols(node):
            s, e = self.char(self.leading_comment(sym).start_byte), self.char(sym.end_byte)
            if s < pos:
                s = self.char(sym.start_byte)
            yield from self.gap(pos, s, trail)
            yield from self.one(sym, s, e, [*trail, f"{keyword} {name}"], keyword, name)
            pos = e
        yield from self.gap(pos, end, trail)

    def one(
        self, node: Any, s: int, e: int, trail: list[str], keyword: str, name: str
    ) -> Iterator[Chunk]:
        if count_tokens(self.text[s:e]) <= self.size:
            a, b = self.lines.span(s, e)
            meta = {
                "strategy": "code",
                "language": self.language,
                "kind": keyword,
                "symbol": name,
                "start_line": a,
                "end_line": b,
            }
            yield Chunk(self.text[s:e], s, e, f"{' > '.join(trail)}, lines {a}-{b}", meta)
        elif next(self.symbols(self.unwrap(node)), None) is not None:
            yield from self.region(self.unwrap(node), s, e, trail)
        else:
            yield from self.gap(s, e, trail, {"kind": keyword, "symbol": name, "part": True})

    def gap(
        self, start: int, end: int, trail: list[str], symbol: dict[str, Any] | None = None
    ) -> Iterator[Chunk]:
        s, e = _trim(self.text, start, end)
        if e <= s or (symbol is None and _CLOSING.fullmatch(self.text[s:e])):
            return
        for a, b in _line_windows(self.text, s, e, self.size, self.overlap):
            yield _window(self.text, a, b, self.lines, trail, "code", self.language, symbol)

    def unwrap(self, node: Any) -> Any:
        """The definition inside a wrapper (decorators, `export`), whose members are opened."""
        if node.type in self.grammar.wrappers:
            for child in node.named_children:
                if child.type in self.grammar.symbols:
                    return child
        return node

    def leading_comment(self, node: Any) -> Any:
        """Comments right above a symbol (doc comments) belong to it."""
        first, prev = node, node.prev_named_sibling
        while (
            prev is not None
            and prev.type in _COMMENTS
            and prev.end_point[0] >= first.start_point[0] - 1
            and not self.text[self.line_start(prev) : self.char(prev.start_byte)].strip()
        ):
            first, prev = prev, prev.prev_named_sibling
        return first

    def line_start(self, node: Any) -> int:
        row: int = node.start_point[0]
        return self._line_chars[row]


def _descendants(node: Any, depth: int) -> Iterator[Any]:
    for child in node.named_children:
        yield child
        if depth > 1:
            yield from _descendants(child, depth - 1)


def _text(node: Any) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text else "?"


def _name(node: Any) -> str:
    """`f`, `A`, `M.h`, `Trait for Type` (Rust impl), the first type of a Go `type (...)`."""
    if node.type == "decorated_definition":
        node = node.child_by_field_name("definition") or node
    if node.type == "export_statement":
        node = node.child_by_field_name("declaration") or node
    name = node.child_by_field_name("name")
    if name is not None:
        return _text(name)
    if node.type == "impl_item":
        trait, kind = node.child_by_field_name("trait"), node.child_by_field_name("type")
        return f"{_text(trait)} for {_text(kind)}" if trait is not None else _text(kind)
    for child in node.named_children:
        inner = child.child_by_field_name("name")
        if inner is not None:
            return _text(inner)
    return "?"
