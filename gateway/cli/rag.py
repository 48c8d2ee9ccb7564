"""`llmspell rag ingest|search|list`: the knowledge collections (the config's `[knowledge]`, else
`.llmspell/vectors` here) from outside: fill one from files, directories or URLs, search it,
see what there is. A gateway using the same directory sees what was ingested."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .common import Commands, error, show_help

if TYPE_CHECKING:
    from llmspell.runtime.knowledge import Knowledge, Passage

    from ..config import GatewayConfig

T = TypeVar("T")


def add(commands: Commands) -> None:
    rag = commands.add_parser(
        "rag",
        help="ingest into, search or list the knowledge collections",
        description="The RAG collections scripts (RAG), agents (knowledge), the semantic-search "
        "tool and rag:// resources read: the config's [knowledge] path, default "
        ".llmspell/vectors next to it (or here, without a config).",
    )
    actions = rag.add_subparsers(title="rag commands", metavar="ACTION")

    def action(name: str, help: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        parser = actions.add_parser(name, help=help, description=help)
        parser.add_argument(
            "--config",
            metavar="FILE",
            help="llmspell.toml whose [knowledge], roots and [state] to use (default "
            "./llmspell.toml when present, else .llmspell/vectors here)",
        )
        parser.set_defaults(handler=handler)
        return parser

    ingest = action("ingest", "add files, directories or URLs to a collection", _ingest)
    ingest.add_argument("collection")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="a file, directory or URL")
    ingest.add_argument("--backend", help="memory | disk | chroma | weaviate (a new collection)")
    ingest.add_argument("--embedding", help="provider/model of a new collection's embedder")
    search = action("search", "print a collection's best passages for a query", _search)
    search.add_argument("collection")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    search.add_argument("--mode", choices=("hybrid", "vector", "bm25"), default="hybrid")
    search.add_argument("--json", action="store_true", help="print JSON")
    listing = action("list", "list the collections: name, backend, embedding, chunks", _list)
    listing.add_argument("--json", action="store_true", help="print JSON")
    rag.set_defaults(handler=show_help(rag))


def _config(ns: argparse.Namespace) -> GatewayConfig | None:
    """`--config`, else ./llmspell.toml when present, else None (like `llmspell run`)."""
    from ..config import DEFAULT_FILE, load

    if ns.config is None and not Path(DEFAULT_FILE).is_file():
        return None
    return load(ns.config)


def _with_knowledge(ns: argparse.Namespace, body: Callable[[Knowledge], Awaitable[T]]) -> T:
    """`body` on the knowledge of an assembly with the built-in tools (the document reader
    and web scraper ingest uses) and the state store (the embedding cache)."""
    from ..assembly import Mode, assemble

    async def go() -> T:
        async with assemble(_config(ns), Mode.local(), write=_stderr) as parts:
            return await body(parts.knowledge)

    return asyncio.run(go())


def _run(ns: argparse.Namespace, body: Callable[[Knowledge], Awaitable[int]]) -> int:
    from llmspell.runtime import LLMSpellError

    from ..config import ConfigError

    try:
        return _with_knowledge(ns, body)
    except (LLMSpellError, ConfigError, OSError) as exc:
        return error(str(exc))


def _ingest(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)

    async def body(knowledge: Knowledge) -> int:
        collection = await knowledge.collection(
            ns.collection, backend=ns.backend, embedding=ns.embedding
        )
        sources = chunks = 0
        skipped: list[str] = []
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        quiet = not console.is_terminal  # a bar only where someone watches it
        with Progress(*columns, console=console, transient=True, disable=quiet) as progress:
            for path in ns.paths:
                task = progress.add_task(path, total=None)

                def advance(done: int, total: int | None, what: str, task: Any = task) -> None:
                    progress.update(task, completed=done, total=total, description=what[-60:])

                url = path.startswith(("http://", "https://"))
                report = await collection.ingest(
                    **({"url": path} if url else {"path": path}), progress=advance
                )
                sources, chunks = sources + report.sources, chunks + report.chunks
                skipped += report.skipped
        for reason in skipped:
            console.print(f"skipped {reason}", markup=False, highlight=False)
        total = await collection.count()
        print(f"{ns.collection}: {sources} sources, {chunks} chunks ingested ({total} in all)")
        return 0

    return _run(ns, body)


def _search(ns: argparse.Namespace) -> int:
    if ns.k < 1:
        return error("-k must be at least 1")

    async def body(knowledge: Knowledge) -> int:
        if ns.collection not in await knowledge.names():
            return error(f"no collection named {ns.collection!r}")
        collection = await knowledge.collection(ns.collection)
        passages = await collection.search(ns.query, ns.k, mode=ns.mode)
        if ns.json:
            print(json.dumps([p.to_plain() for p in passages], indent=2, ensure_ascii=False))
        else:
            _print_passages(passages)
        return 0

    return _run(ns, body)


def _print_passages(passages: list[Passage]) -> None:
    if not passages:
        print("no passages match")
    for n, p in enumerate(passages, start=1):
        print(f"{n}. [{p.citation()}]  score {p.score:.3f}")
        for line in p.text.strip().splitlines()[:6]:
            print(f"   {line}")
        print()


def _list(ns: argparse.Namespace) -> int:
    async def body(knowledge: Knowledge) -> int:
        rows: list[dict[str, Any]] = []
        for name in await knowledge.names():
            collection = await knowledge.collection(name)
            model = getattr(getattr(collection, "embedder", None), "model", "")
            rows.append(
                {
                    "name": name,
                    "backend": str(getattr(collection, "backend", "")),
                    "embedding": str(model),
                    "count": await collection.count(),
                }
            )
        if ns.json:
            print(json.dumps(rows, indent=2))
        elif not rows:
            print("no collections yet (llmspell rag ingest COLLECTION PATH...)")
        else:
            width = max(len(r["name"]) for r in rows)
            for r in rows:
                print(
                    f"{r['name']:<{width}}  {r['backend']:<8}  {r['embedding']:<18}  {r['count']}"
                )
        return 0

    return _run(ns, body)


def _stderr(text: str) -> None:
    print(text, end="", file=sys.stderr, flush=True)
