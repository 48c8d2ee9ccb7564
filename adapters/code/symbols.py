"""Symbols and identifier references of source files, read with tree-sitter.

Each language is a table of node types (walked, not queried: node-type walks survive grammar
updates that rename query captures, and one generic walk serves every language). Shared by the
`code-search` tool and the RAG code chunker, so it stays free of tool concerns: no paths, no
caps. Lines and columns are 1-based; byte offsets index the source's UTF-8 encoding.

The grammars come from `tree_sitter_language_pack` (the `code` extra), imported on first parse
so importing this module costs nothing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

_SUFFIXES = {
    "python": ".py .pyi",
    "javascript": ".js .mjs .cjs .jsx",
    "typescript": ".ts .mts .cts",
    "tsx": ".tsx",
    "lua": ".lua",
    "go": ".go",
    "rust": ".rs",
    "c": ".c .h",
    "java": ".java",
}
EXTENSIONS = {suffix: lang for lang, found in _SUFFIXES.items() for suffix in found.split()}
LANGUAGES = tuple(sorted(set(EXTENSIONS.values())))
_KINDS = "function method constructor class interface struct enum trait type module macro"
KINDS = tuple(_KINDS.split())
CLASSLIKE = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})
"""A function directly inside one of these is a method."""
COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
"""Values that make `const name = ...` (or a class field) a function definition."""
SKIPPED_ABOVE = frozenset({"attribute_item", "decorator"})
"""Between a doc comment and its definition (Rust `#[derive]`)."""
GROUPS = frozenset({"lexical_declaration", "variable_declaration", "type_declaration"})
"""Wrappers that may hold several definitions: the text of one starts at the wrapper only when
it holds that one alone."""
MAX_DOC = 1000


@dataclass(frozen=True, slots=True)
class Symbol:
    name: str
    kind: str
    start_line: int
    end_line: int
    start_byte: int
    end_byte: int
    parent: str | None = None
    """The enclosing symbol's name (class, impl type, Go receiver, Lua table, outer function)."""
    signature: str = ""
    """The definition's first line, stripped: what a reader scans for."""
    doc: str = ""
    """The docstring and the comments right above, markers stripped (for ranking and chunks)."""


@dataclass(frozen=True, slots=True)
class _Spec:
    kinds: dict[str, str]
    wrappers: frozenset[str] = frozenset()
    """Nodes whose own start (and comments above) belong to the definition they wrap."""
    scopes: dict[str, str] = field(default_factory=dict)
    """Nodes that are no symbol but name the parent of what they hold (Rust `impl`: field)."""


_JS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "method_definition": "method",
    "class_declaration": "class",
    "variable_declarator": "function",
    "field_definition": "method",
    "public_field_definition": "method",
}
_TS = _JS | {
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "abstract_method_signature": "method",
    "method_signature": "method",
    "function_signature": "function",
    "internal_module": "module",
}
_JS_WRAPPERS = frozenset({"export_statement", "lexical_declaration", "variable_declaration"})
SPECS: dict[str, _Spec] = {
    "python": _Spec(
        {"function_definition": "function", "class_definition": "class"},
        frozenset({"decorated_definition"}),
    ),
    "javascript": _Spec(_JS, _JS_WRAPPERS),
    "typescript": _Spec(_TS, _JS_WRAPPERS),
    "tsx": _Spec(_TS, _JS_WRAPPERS),
    "lua": _Spec(
        {"function_declaration": "function", "assignment_statement": "function"},
        frozenset({"variable_declaration"}),
    ),
    "go": _Spec(
        {"function_declaration": "function", "method_declaration": "method", "type_spec": "type"},
        frozenset({"type_declaration"}),
    ),
    "rust": _Spec(
        {
            "function_item": "function",
            "function_signature_item": "function",
            "struct_item": "struct",
            "union_item": "struct",
            "enum_item": "enum",
            "trait_item": "trait",
            "type_item": "type",
            "mod_item": "module",
            "macro_definition": "macro",
        },
        scopes={"impl_item": "type"},
    ),
    "c": _Spec(
        {
            "function_definition": "function",
            "struct_specifier": "struct",
            "union_specifier": "struct",
            "enum_specifier": "enum",
            "type_definition": "type",
        }
    ),
    "java": _Spec(
        {
            "class_declaration": "class",
            "record_declaration": "class",
            "interface_declaration": "interface",
            "annotation_type_declaration": "interface",
            "enum_declaration": "enum",
            "method_declaration": "method",
            "constructor_declaration": "constructor",
        }
    ),
}


def language_for(path: str | PurePath) -> str | None:
    """The language of a file by its extension, or None when no grammar here reads it."""
    return EXTENSIONS.get(PurePath(path).suffix.lower())


_local = threading.local()


def parse(source: str | bytes, language: str) -> tuple[Tree, bytes]:
    """The tree and the UTF-8 bytes it indexes. One parser per thread and language: a parser is
    not safe to share between the threads `asyncio.to_thread` runs parses in."""
    if language not in SPECS:
        raise ValueError(f"unsupported language {language!r} (supported: {', '.join(LANGUAGES)})")
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    parsers: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
    parser = parsers.get(language)
    if parser is None:
        from tree_sitter import Parser
        from tree_sitter_language_pack import get_language

        # checked against SPECS above; the pack types its names as a Literal
        parser = parsers[language] = Parser(get_language(language))  # type: ignore[arg-type]
    return parser.parse(data), data


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def _first(node: Node, types: frozenset[str]) -> Node | None:
    """The first descendant (or node itself) of one of `types`, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in types:
            return current
        stack.extend(reversed(current.named_children))
    return None


Named: TypeAlias = "tuple[Node, str, str | None] | None"
"""A definition's name node, its kind and a parent it names itself (Go receiver, Lua table)."""


def _c_name(node: Node, kind: str) -> Named:
    if kind == "function":
        declarator = node.child_by_field_name("declarator")
        while declarator is not None and declarator.type != "function_declarator":
            declarator = declarator.child_by_field_name("declarator")
        inner = declarator.child_by_field_name("declarator") if declarator else None
        return (inner, kind, None) if inner is not None else None
    if kind == "type":
        found = _first(
            node.child_by_field_name("declarator") or node, frozenset({"type_identifier"})
        )
        return (found, kind, None) if found is not None else None
    name = node.child_by_field_name("name")
    return (name, kind, None) if name is not None and node.child_by_field_name("body") else None


def _lua_name(node: Node, kind: str) -> Named:
    if node.type == "assignment_statement":
        names = [c for c in node.named_children if c.type == "variable_list"]
        values = [c for c in node.named_children if c.type == "expression_list"]
        if not names or not values or not values[0].named_children:
            return None
        if values[0].named_children[0].type != "function_definition":
            return None
        target = names[0].named_children[0] if names[0].named_children else None
    else:
        target = node.child_by_field_name("name")
    if target is None:
        return None
    if target.type == "identifier":
        return target, kind, None
    if target.type in ("dot_index_expression", "method_index_expression"):
        leaf = target.child_by_field_name("field") or target.child_by_field_name("method")
        kind = "method" if target.type == "method_index_expression" else kind
        owner = _text(target.child_by_field_name("table")) or None
        return (leaf, kind, owner) if leaf is not None else None
    return None


def _go_name(node: Node, kind: str) -> Named:
    name = node.child_by_field_name("name")
    if name is None:
        return None
    if node.type == "type_spec":
        shape = node.child_by_field_name("type")
        shape_type = shape.type if shape is not None else ""
        kind = {"struct_type": "struct", "interface_type": "interface"}.get(shape_type, "type")
        return name, kind, None
    if node.type == "method_declaration":
        receiver = node.child_by_field_name("receiver")
        owner = _first(receiver, frozenset({"type_identifier"})) if receiver else None
        return name, kind, _text(owner) or None
    return name, kind, None


def _generic_name(node: Node, kind: str) -> Named:
    if node.type in ("variable_declarator", "field_definition", "public_field_definition"):
        value = node.child_by_field_name("value")
        if value is None or value.type not in FUNCTION_VALUES:
            return None
        name = node.child_by_field_name("name") or node.child_by_field_name("property")
    else:
        name = node.child_by_field_name("name")
    return (name, kind, None) if name is not None else None


_NAMERS: dict[str, Callable[[Node, str], Named]] = {"c": _c_name, "lua": _lua_name, "go": _go_name}


def _outer(node: Node, spec: _Spec) -> Node:
    """The node a definition's text starts at: through decorators, `export` and `const`."""
    while node.parent is not None and node.parent.type in spec.wrappers:
        parent = node.parent
        if parent.type in GROUPS and len(parent.named_children) != 1:
            break
        node = parent
    return node


def _doc(node: Node, outer: Node, language: str) -> str:
    """Comments directly above the definition, then (Python) its docstring, markers stripped."""
    lines: list[str] = []
    above = outer.prev_named_sibling
    row = outer.start_point[0]
    while above is not None and above.end_point[0] >= row - 1:
        if above.type in COMMENTS:
            lines[:0] = _text(above).splitlines()
        elif above.type not in SKIPPED_ABOVE:
            break
        row = above.start_point[0]
        above = above.prev_named_sibling
    if language == "python":
        body = node.child_by_field_name("body")
        head = body.named_children[0] if body is not None and body.named_children else None
        if head is not None and head.type == "expression_statement" and head.named_children:
            head = head.named_children[0]
        if head is not None and head.type == "string":
            parts = [_text(c) for c in head.named_children if c.type == "string_content"]
            lines.extend(("".join(parts) or _text(head)).splitlines())
    cleaned = (line.strip().lstrip("/*#-!").rstrip("*/").strip() for line in lines)
    return "\n".join(line for line in cleaned if line)[:MAX_DOC]


def _definitions(tree: Tree, data: bytes, language: str) -> Iterator[tuple[Symbol, Node]]:
    """Every definition with its name node, walked with an explicit stack (deep expression
    trees would overflow recursion) carrying the enclosing symbol's name and kind."""
    spec = SPECS[language]
    namer = _NAMERS.get(language, _generic_name)
    lines = data.split(b"\n")
    stack: list[tuple[Node, str | None, str | None]] = [(tree.root_node, None, None)]
    while stack:
        node, parent, parent_kind = stack.pop()
        inner_parent, inner_kind = parent, parent_kind
        kind = spec.kinds.get(node.type)
        named = namer(node, kind) if kind is not None else None
        if named is not None and named[0] is not None and named[0].text:
            name_node, kind, owner = named
            if kind == "function" and parent_kind in CLASSLIKE:
                kind = "method"
            outer = _outer(node, spec)
            row = node.start_point[0]
            symbol = Symbol(
                name=_text(name_node),
                kind=kind,
                start_line=outer.start_point[0] + 1,
                end_line=node.end_point[0] + 1,
                start_byte=outer.start_byte,
                end_byte=node.end_byte,
                parent=owner or parent,
                signature=lines[row].decode("utf-8", "replace").strip()[:200],
                doc=_doc(node, outer, language),
            )
            yield symbol, name_node
            inner_parent, inner_kind = symbol.name, kind
        elif node.type in spec.scopes:
            scope = node.child_by_field_name(spec.scopes[node.type])
            inner_parent, inner_kind = _text(scope) or parent, "impl"
        stack.extend((child, inner_parent, inner_kind) for child in reversed(node.named_children))


def symbols(source: str | bytes, language: str) -> list[Symbol]:
    """The definitions of a file in source order (outer before inner at the same start)."""
    tree, data = parse(source, language)
    found = [symbol for symbol, _ in _definitions(tree, data, language)]
    found.sort(key=lambda s: (s.start_byte, -s.end_byte))
    return found


def _nodes(root: Node) -> Iterator[Node]:
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None:
            yield node
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return


def references(source: str | bytes, language: str, name: str) -> list[tuple[int, int, str]]:
    """(line, column, line text) of every identifier spelled `name`, except the names of its
    definitions. Columns are 1-based characters. Strings and comments never count: they hold
    no identifier nodes."""
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    wanted = name.encode()
    if wanted not in data:
        return []
    tree, data = parse(data, language)
    defined = {
        node.start_byte
        for symbol, node in _definitions(tree, data, language)
        if symbol.name == name
    }
    lines = data.split(b"\n")
    found: list[tuple[int, int, str]] = []
    for node in _nodes(tree.root_node):
        if (
            node.child_count == 0
            and node.type.endswith("identifier")
            and node.text == wanted
            and node.start_byte not in defined
        ):
            row, column = node.start_point
            line = lines[row]
            found.append(
                (
                    row + 1,
                    len(line[:column].decode("utf-8", "replace")) + 1,
                    line.decode("utf-8", "replace").strip(),
                )
            )
    return found


def as_dict(symbol: Symbol) -> dict[str, Any]:
    """A symbol as plain data (results and the state store)."""
    return {slot: getattr(symbol, slot) for slot in Symbol.__slots__}
