"""`RAG`: the runtime's knowledge collections from a script. `RAG.collection(name, {backend=,
embedding=})` opens (or creates) one and returns an object with `ingest`, `search`, `delete`
and `count`; `RAG.list()` names them all. The same collections are what agents' `knowledge`,
the `semantic-search` tool, `llmspell rag` and `rag://` read, so a script can fill one that the
rest then serve.

A runtime built without knowledge (a bare `Runtime()`, a test) gives the script a private
in-memory one, closed with the script."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, cast

from ..engine import HostFunction, HostObject
from .arguments import as_object, need, strings
from .binding import async_

if TYPE_CHECKING:
    from llmspell.runtime.knowledge import Collection, Knowledge, SearchMode

    from .host import ScriptHost

TYPE = "Collection"
MODES = ("hybrid", "vector", "bm25")


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {"collection": async_(partial(collection, host)), "list": async_(partial(list_, host))}


def bind_methods(host: ScriptHost) -> dict[str, HostFunction]:
    """The methods of what `RAG.collection` returns."""
    return {
        "ingest": async_(partial(ingest, host)),
        "search": async_(partial(search, host)),
        "delete": async_(partial(delete, host)),
        "count": async_(partial(count, host)),
    }


def knowledge_of(host: ScriptHost) -> Knowledge:
    """The runtime's knowledge, else the script's own in-memory one (made on first use)."""
    if host.runtime.knowledge is not None:
        return host.runtime.knowledge
    if host.knowledge is None:
        from llmspell.adapters.rag.knowledge import RagKnowledge
        from llmspell.adapters.tools.sandbox.files import Roots

        made = RagKnowledge(None, runtime=host.runtime, roots=Roots.of(host.roots))
        host.refs.hold(made)  # so closing the script closes it
        host.knowledge = made
    return host.knowledge


async def collection(host: ScriptHost, name: Any, options: Any = None) -> HostObject:
    need(isinstance(name, str) and name != "", "RAG.collection(name): name must be a string")
    given = as_object(options, "RAG.collection(name, options): options")
    unknown = sorted(set(given) - {"backend", "embedding"})
    need(not unknown, f"RAG.collection: unknown option {', '.join(unknown)} (backend, embedding)")
    for key in ("backend", "embedding"):
        need(given.get(key) is None or isinstance(given[key], str), f"RAG.collection: {key}")
    opened = await knowledge_of(host).collection(
        name, backend=given.get("backend"), embedding=given.get("embedding")
    )
    return HostObject(TYPE, host.refs.hold(_Opened(opened)), {"name": name})


async def list_(host: ScriptHost) -> list[str]:
    return await knowledge_of(host).names()


class _Opened:
    """What a script's collection object holds (the port has no class to check against)."""

    __slots__ = ("collection",)

    def __init__(self, collection: Collection) -> None:
        self.collection = collection


def _held(host: ScriptHost, ref: Any, method: str) -> Collection:
    held = host.refs.get(ref, _Opened)
    need(held is not None, f"col:{method}: call it on what RAG.collection returned")
    assert held is not None
    return held.collection


async def ingest(host: ScriptHost, ref: Any, spec: Any = None) -> dict[str, Any]:
    """`col:ingest{path= | url= | text=, metadata=}` -> {sources, chunks, skipped}."""
    held = _held(host, ref, "ingest")
    args = as_object(spec, "col:ingest{...}")
    unknown = sorted(set(args) - {"path", "url", "text", "metadata"})
    need(not unknown, f"col:ingest: unknown key {', '.join(unknown)} (path, url, text, metadata)")
    sources = [k for k in ("path", "url", "text") if args.get(k) is not None]
    need(len(sources) == 1, "col:ingest takes exactly one of path, url or text")
    need(isinstance(args[sources[0]], str), f"col:ingest: {sources[0]} must be a string")
    metadata = as_object(args.get("metadata"), "col:ingest: metadata")
    report = await held.ingest(**{sources[0]: args[sources[0]]}, metadata=metadata)
    return {"sources": report.sources, "chunks": report.chunks, "skipped": list(report.skipped)}


async def search(host: ScriptHost, ref: Any, spec: Any = None) -> list[dict[str, Any]]:
    """`col:search{query=, k=, filter=, mode=}` -> passages, best first, each with its
    citation."""
    held = _held(host, ref, "search")
    args = as_object(spec, "col:search{...}") if not isinstance(spec, str) else {"query": spec}
    unknown = sorted(set(args) - {"query", "k", "filter", "mode"})
    need(not unknown, f"col:search: unknown key {', '.join(unknown)} (query, k, filter, mode)")
    need(isinstance(args.get("query"), str), "col:search: query must be a string")
    mode = args.get("mode", "hybrid")
    need(mode in MODES, f"col:search: mode is one of {', '.join(MODES)}")
    k, wanted = _whole(args.get("k", 5), "k"), _filter(args.get("filter"))
    passages = await held.search(str(args["query"]), k, wanted, cast("SearchMode", mode))
    return [p.to_plain() for p in passages]


async def delete(host: ScriptHost, ref: Any, spec: Any = None) -> int:
    """`col:delete{ids= | filter=}` -> how many chunks went."""
    held = _held(host, ref, "delete")
    args = as_object(spec, "col:delete{...}")
    unknown = sorted(set(args) - {"ids", "filter"})
    need(not unknown, f"col:delete: unknown key {', '.join(unknown)} (ids, filter)")
    ids = strings(args["ids"], "col:delete: ids") if args.get("ids") is not None else None
    wanted = _filter(args.get("filter"))
    need(ids is not None or wanted is not None, "col:delete takes ids, a filter or both")
    return await held.delete(ids, wanted)


async def count(host: ScriptHost, ref: Any) -> int:
    return await _held(host, ref, "count").count()


def _whole(value: Any, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a JS number
    need(
        isinstance(value, int) and not isinstance(value, bool) and value >= 1,
        f"col:search: {what} must be a whole number >= 1",
    )
    return int(value)


def _filter(value: Any) -> dict[str, Any] | None:
    """A metadata filter: {key = value} or {key = {any, of, these}}; empty is none."""
    given = as_object(value, "filter")
    for key, wanted in given.items():
        items = wanted if isinstance(wanted, list) else [wanted]
        need(
            all(isinstance(i, str | int | float | bool) for i in items),
            f"filter {key!r}: a string, number or boolean, or a list of them",
        )
    return given or None
