"""`code-search`: definitions, references, per-file symbols and a ranked search over a source
tree under the roots, read as code with tree-sitter (`adapters/code/symbols.py`).

A directory's index (symbols and ranking terms per file) stays in memory, keyed by the resolved
directory, and every operation refreshes it first: files whose mtime and size are unchanged are
reused, so only edited files are parsed again. With a state store the index is also kept there,
so a restarted gateway re-parses only what changed meanwhile. Walking is bounded like
`file-search`: hidden and vendored folders are pruned, files over `max_file_size` and binary
files are skipped, and files resolving out of the roots (through a symlink) are never read.

`semantic` ranks symbols with BM25 over identifier-split words (name, doc comments, body): no
model and no dependency, good enough to find "the function that adds up prices". The RAG
layer's embeddings can replace it later behind the same operation."""

from __future__ import annotations

import asyncio
import fnmatch
import os
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmspell.runtime import Component, Result
from llmspell.runtime.state import StateStore

from ...code import rank
from ...code.symbols import KINDS, LANGUAGES, Symbol, as_dict, language_for, references, symbols
from .._common import PURE, answer, need, refuse, tool
from ..env import ToolEnv
from ..sandbox.files import Roots

NAME = "code-search"
SCOPE = f"tool:{NAME}"
SNIFF = 8192
MAX_CACHED = 8
"""Directories whose index stays in memory (least recently used dropped first)."""
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
GLOB = frozenset("*?[")


@dataclass(slots=True)
class Parsed:
    mtime_ns: int
    size: int
    language: str
    symbols: list[Symbol]
    terms: list[dict[str, int]]
    """Ranking words of each symbol, counted."""


Index = dict[str, Parsed]
"""By path relative to the indexed directory, '/'-separated."""


def _inside(path: Path, roots: Roots) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots.paths)


def _source(path: Path, max_size: int) -> bytes | None:
    """The file's bytes, or None for a file too large, binary or unreadable."""
    try:
        if path.stat().st_size > max_size:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return None if b"\x00" in data[:SNIFF] else data


def _parse(data: bytes, language: str, stat: os.stat_result) -> Parsed:
    found = symbols(data, language)
    terms = []
    for s in found:
        body = data[s.start_byte : s.end_byte].decode("utf-8", "replace")
        # name and doc weigh extra: they say what the body does in the fewest words
        counted = Counter(rank.words(f"{s.name} {s.name} {s.doc} {body}"))
        terms.append(dict(counted))
    return Parsed(stat.st_mtime_ns, stat.st_size, language, found, terms)


def _walk(
    base: Path, old: Index, roots: Roots, max_size: int, max_files: int
) -> tuple[Index, dict[str, Any]]:
    """Refresh `old` against the tree: reuse unchanged files, parse new and edited ones."""
    fresh: Index = {}
    stats = {"parsed": 0, "reused": 0, "skipped": 0, "truncated": False}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        for filename in sorted(filenames):
            language = language_for(filename)
            if language is None:
                continue
            path = Path(dirpath, filename)
            real = path.resolve()
            if not _inside(real, roots) or not real.is_file():
                stats["skipped"] += 1
                continue
            if len(fresh) >= max_files:
                stats["truncated"] = True
                break
            rel = path.relative_to(base).as_posix()
            stat = real.stat()
            known = old.get(rel)
            now = (stat.st_mtime_ns, stat.st_size, language)
            if known and (known.mtime_ns, known.size, known.language) == now:
                fresh[rel] = known
                stats["reused"] += 1
                continue
            data = _source(real, max_size)
            if data is None:
                stats["skipped"] += 1
                continue
            fresh[rel] = _parse(data, language, stat)
            stats["parsed"] += 1
        if stats["truncated"]:
            break
    stats["removed"] = len(old.keys() - fresh.keys())
    return fresh, stats


def _dump(index: Index) -> dict[str, Any]:
    return {
        rel: [p.mtime_ns, p.size, p.language, [as_dict(s) for s in p.symbols], p.terms]
        for rel, p in index.items()
    }


def _load(value: Any) -> Index:
    """The stored index, or an empty one when the value is missing or from another layout."""
    try:
        return {
            rel: Parsed(int(m), int(n), str(lang), [Symbol(**s) for s in found], terms)
            for rel, (m, n, lang, found, terms) in value.items()
        }
    except (AttributeError, KeyError, TypeError, ValueError):
        return {}


class Indexes:
    """The in-memory indexes (a few directories, least recently used dropped), backed by the
    state store when there is one. One lock: indexing is CPU-bound, so overlapping refreshes
    would only race to parse the same files."""

    def __init__(self, roots: Roots, state: StateStore | None) -> None:
        self.roots = roots
        self.state = state
        self.cache: OrderedDict[str, Index] = OrderedDict()
        self.lock = asyncio.Lock()

    async def refresh(self, base: Path, args: dict[str, Any]) -> tuple[Index, dict[str, Any]]:
        key = str(base)
        max_size = min(args.get("max_file_size", 1024 * 1024), self.roots.max_read)
        async with self.lock:
            old = self.cache.get(key)
            if old is None:
                old = _load(await self.state.get(SCOPE, key)) if self.state else {}
            index, stats = await asyncio.to_thread(
                _walk, base, old, self.roots, max_size, args.get("max_files", 10_000)
            )
            self.cache[key] = index
            self.cache.move_to_end(key)
            while len(self.cache) > MAX_CACHED:
                self.cache.popitem(last=False)
            if self.state is not None and (stats["parsed"] or stats["removed"]):
                await self.state.set(SCOPE, key, _dump(index))
        stats["files"] = len(index)
        stats["symbols"] = sum(len(p.symbols) for p in index.values())
        return index, stats


def _row(rel: str, language: str, symbol: Symbol) -> dict[str, Any]:
    row = {
        "file": rel,
        "line": symbol.start_line,
        "end_line": symbol.end_line,
        "name": symbol.name,
        "kind": symbol.kind,
        "parent": symbol.parent,
        "signature": symbol.signature,
        "language": language,
    }
    if symbol.doc:
        row["doc"] = symbol.doc[:200]
    return row


def _wanted(args: dict[str, Any], language: str, symbol: Symbol | None = None) -> bool:
    if args.get("language") and language != args["language"]:
        return False
    return symbol is None or not args.get("kind") or symbol.kind == args["kind"]


def _where(shown: str, rel: str) -> str:
    return os.path.normpath(os.path.join(shown, rel))


def _definitions(index: Index, shown: str, args: dict[str, Any]) -> list[dict[str, Any]]:
    name: str = args["name"]
    glob = bool(GLOB & set(name))
    return [
        _row(_where(shown, rel), p.language, s)
        for rel, p in sorted(index.items())
        for s in p.symbols
        if _wanted(args, p.language, s)
        and (fnmatch.fnmatchcase(s.name, name) if glob else s.name == name)
    ]


def _references(
    roots: Roots, base: Path, index: Index, shown: str, args: dict[str, Any], limit: int
) -> tuple[list[dict[str, Any]], bool]:
    name: str = args["name"]
    max_size = min(args.get("max_file_size", 1024 * 1024), roots.max_read)
    found: list[dict[str, Any]] = []
    for rel, parsed in sorted(index.items()):
        if not _wanted(args, parsed.language):
            continue
        real = (base / rel).resolve()  # a symlink may have been re-pointed since indexing
        data = _source(real, max_size) if _inside(real, roots) else None
        if data is None:
            continue
        for line, column, text in references(data, parsed.language, name):
            if len(found) >= limit:
                return found, True
            found.append(
                {"file": _where(shown, rel), "line": line, "column": column, "text": text[:500]}
            )
    return found, False


def _semantic(index: Index, shown: str, args: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    query = rank.words(args["query"])
    if not query:
        raise refuse(NAME, f"query {args['query']!r} has no searchable words")
    docs: list[tuple[str, str, Symbol, dict[str, int]]] = [
        (rel, p.language, s, terms)
        for rel, p in sorted(index.items())
        for s, terms in zip(p.symbols, p.terms, strict=True)
        if _wanted(args, p.language, s)
    ]
    scores = rank.bm25(query, [terms for *_, terms in docs])
    best = sorted(range(len(docs)), key=lambda i: -scores[i])[:limit]
    results = []
    for i in best:
        if scores[i] <= 0:
            break
        rel, language, symbol, _ = docs[i]
        results.append(_row(_where(shown, rel), language, symbol) | {"score": round(scores[i], 3)})
    return results


def _file_symbols(args: dict[str, Any], data: bytes) -> Result:
    shown: str = args["path"]
    language = args.get("language") or language_for(shown)
    if language is None:
        raise refuse(NAME, f"{shown!r}: no grammar for this extension; pass 'language'")
    if b"\x00" in data[:SNIFF]:
        raise refuse(NAME, f"{shown!r} is binary")
    found = [_row(shown, language, s) for s in symbols(data, language)]
    limit = args.get("max_results", 1000)
    text = "\n".join(
        f"{r['line']}-{r['end_line']} {r['kind']} {r['name']}"
        + (f" (in {r['parent']})" if r["parent"] else "")
        for r in found[:limit]
    )
    return answer(
        text or f"{shown}: no symbols",
        {
            "path": shown,
            "language": language,
            "results": found[:limit],
            "truncated": len(found) > limit,
        },
    )


def _languages(index: Index) -> dict[str, dict[str, int]]:
    languages: dict[str, dict[str, int]] = {}
    for parsed in index.values():
        entry = languages.setdefault(parsed.language, {"files": 0, "symbols": 0})
        entry["files"] += 1
        entry["symbols"] += len(parsed.symbols)
    return dict(sorted(languages.items()))


def component(env: ToolEnv) -> Component:
    roots = env.roots
    indexes = Indexes(roots, env.state)

    async def handle(args: dict[str, Any]) -> Result:
        need("tree_sitter_language_pack", "code", NAME)
        operation = args["operation"]
        if operation == "symbols":
            source = await roots.read_bytes(NAME, args["path"])
            return await asyncio.to_thread(_file_symbols, args, source)
        shown: str = args.get("path", ".")
        base = roots.resolve(NAME, shown)
        if not await asyncio.to_thread(base.is_dir):
            raise refuse(NAME, f"{shown!r} is not a directory")
        index, stats = await indexes.refresh(base, args)
        data: dict[str, Any] = {"path": shown}
        if operation == "index":
            languages = _languages(index)
            counts = ", ".join(
                f"{lang} {c['files']} files/{c['symbols']} symbols" for lang, c in languages.items()
            )
            text = (
                f"{shown}: {stats['files']} files, {stats['symbols']} symbols "
                f"({stats['parsed']} parsed, {stats['reused']} unchanged, {stats['removed']} "
                f"removed, {stats['skipped']} skipped)" + (f": {counts}" if counts else "")
            )
            return answer(text, data | stats | {"languages": languages})
        limit: int = args.get("max_results", 10 if operation == "semantic" else 100)
        truncated = False
        if operation == "definitions":
            results = await asyncio.to_thread(_definitions, index, shown, args)
            truncated, results = len(results) > limit, results[:limit]
            text = "\n".join(f"{r['file']}:{r['line']}: {r['signature']}" for r in results)
        elif operation == "references":
            results, truncated = await asyncio.to_thread(
                _references, roots, base, index, shown, args, limit
            )
            text = "\n".join(f"{r['file']}:{r['line']}:{r['column']}: {r['text']}" for r in results)
        else:
            results = await asyncio.to_thread(_semantic, index, shown, args, limit)
            text = "\n".join(
                f"{r['score']:.3f} {r['file']}:{r['line']}: {r['signature']}" for r in results
            )
        data |= {"results": results, "truncated": truncated, "index": stats}
        return answer(text or "no matches", data)

    return tool(
        NAME,
        "Reads source code under the allowed roots as code (tree-sitter: Python, JavaScript, "
        "TypeScript/TSX, Lua, Go, Rust, C, Java). Operations: 'index' (parse a directory, counts "
        "per language; later calls re-parse only changed files), 'definitions' (where 'name' — "
        "exact or a glob — is defined: file, line, kind, signature, parent class), 'references' "
        "(where identifier 'name' is used, definitions excluded: file, line, column, text), "
        "'symbols' (the definitions of one file, in order) and 'semantic' (symbols ranked "
        "against a natural-language 'query'). Directory operations index 'path' first.",
        {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "The directory to search (default '.'); for 'symbols', the file",
            },
            "name": {
                "type": "string",
                "minLength": 1,
                "description": "A symbol name; 'definitions' also takes a glob ('get_*')",
            },
            "query": {
                "type": "string",
                "minLength": 1,
                "description": "For 'semantic': what the code does, in words",
            },
            "kind": {"type": "string", "enum": list(KINDS), "description": "Only this kind"},
            "language": {
                "type": "string",
                "enum": list(LANGUAGES),
                "description": "Only this language (for 'symbols': overrides the extension)",
            },
            "max_results": {
                "type": "integer",
                "minimum": 1,
                "maximum": 10_000,
                "description": "Default 10 for 'semantic', 100 otherwise",
            },
            "max_file_size": {
                "type": "integer",
                "minimum": 1,
                "default": 1024 * 1024,
                "description": "Files larger than this many bytes are skipped",
            },
            "max_files": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100_000,
                "default": 10_000,
                "description": "Stop indexing after this many source files (truncated = true)",
            },
        },
        handle,
        operations={
            "index": [],
            "definitions": ["name"],
            "references": ["name"],
            "symbols": ["path"],
            "semantic": ["query"],
        },
        annotations=PURE,
    )
