"""The Chroma backend: a Chroma server (`chroma run`, Docker, or hosted) over its HTTP API v2.

It speaks the documented REST API with one `httpx.AsyncClient` rather than chromadb's own
clients: those keep their HTTP clients in a class-level map keyed by the event loop, never time
out, cost seconds to import, and reach for an ONNX embedding model we never use. Every call
here has a deadline, and a server that is down is an `UNAVAILABLE` error naming its URL.

Mapping: a port collection is a Chroma collection whose metadata holds `llmspell:dim` and
`hnsw:space` (cosine, ip, l2). A name Chroma refuses (3-512 of `[A-Za-z0-9._-]`, alphanumeric
at both ends), or one starting with `llmspell-`, is stored as `llmspell-` + its UTF-8 in hex.
Chroma returns distances; scores are higher-is-better: cosine 1 - d, dot 1 - d (Chroma's ip
distance is 1 - dot), l2 -sqrt(d) (Chroma's l2 is squared). Chroma's upsert merges metadata,
so keys an old record had and the new one lacks are sent as null, which deletes them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.vectors import (
    CollectionInfo,
    Filter,
    Hit,
    Metadata,
    Metric,
    Record,
    check_create,
    check_delete,
    check_dim,
    check_k,
    check_records,
    check_same,
    matches,
    unknown_collection,
)

DIM_KEY = "llmspell:dim"
NAME_KEY = "llmspell:name"
SPACE_KEY = "hnsw:space"
_SPACE: dict[Metric, str] = {"cosine": "cosine", "dot": "ip", "l2": "l2"}
_METRIC: dict[str, Metric] = {v: k for k, v in _SPACE.items()}
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]$")
_PREFIX = "llmspell-"
_PAGE = 1000
_STATUS = {401: ErrorCode.DENIED, 403: ErrorCode.DENIED, 429: ErrorCode.RATE_LIMITED}
_STATUS |= dict.fromkeys((502, 503, 504), ErrorCode.UNAVAILABLE)
MISSING: Any = object()
"""What `_call(..., missing_ok=True)` returns for a 404."""


def chroma_name(collection: str) -> str:
    """The Chroma collection a port collection lives in (injective; see the module doc)."""
    if _VALID.match(collection) and not collection.startswith(_PREFIX):
        return collection
    encoded = _PREFIX + collection.encode("utf-8").hex()
    if len(encoded) > 512 or not collection:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS, f"collection name {collection!r} is empty or too long"
        )
    return encoded


def score(metric: Metric, distance: float) -> float:
    if metric == "l2":
        return -math.sqrt(max(distance, 0.0))
    return 1.0 - distance


def where(filter: Filter | None) -> dict[str, Any] | None:
    """A port filter as a Chroma `where`; the caller has already handled empty lists. "Any of"
    is `$or` of `$eq`s, since Chroma refuses a `$in` that mixes types (1 and True, 1 and 1.5)."""
    if not filter:
        return None
    clauses: list[dict[str, Any]] = []
    for key, wanted in filter.items():
        options = list(wanted) if isinstance(wanted, list | tuple) else [wanted]
        eqs = [{key: {"$eq": option}} for option in options]
        clauses.append(eqs[0] if len(eqs) == 1 else {"$or": eqs})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _inexact(filter: Filter | None) -> bool:
    """Whether Chroma may over-match: it compares a fractional float with an int value after
    truncating it (1.5 matches 1), so such filters are checked again with `matches`."""
    for wanted in (filter or {}).values():
        options = wanted if isinstance(wanted, list | tuple) else [wanted]
        if any(isinstance(o, float) and not o.is_integer() for o in options):
            return True
    return False


def _impossible(filter: Filter | None) -> bool:
    """An empty "any of" list matches nothing (and Chroma refuses an empty `$or`)."""
    return any(isinstance(v, list | tuple) and not v for v in (filter or {}).values())


@dataclass(frozen=True, slots=True)
class _Collection:
    id: str
    name: str
    dim: int | None
    metric: Metric


class ChromaVectorStore:
    """`VectorStore` on a Chroma server at `url` (e.g. `http://127.0.0.1:8000`)."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:8000",
        *,
        tenant: str = "default_tenant",
        database: str = "default_database",
        timeout: float = 30.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url, self.tenant, self.database = url.rstrip("/"), tenant, database
        scope = f"tenants/{quote(tenant, safe='')}/databases/{quote(database, safe='')}"
        self._base = f"{self.url}/api/v2/{scope}/collections"
        self._http = httpx.AsyncClient(timeout=timeout, headers=headers)
        self._cache: dict[str, _Collection] = {}
        self._batch: int | None = None

    # -- transport --------------------------------------------------------------------------

    async def _call(
        self, method: str, url: str, body: Any = None, *, missing_ok: bool = False
    ) -> Any:
        try:
            response = await self._http.request(method, url, json=body)
        except httpx.HTTPError as exc:
            late = isinstance(exc, httpx.TimeoutException)
            what = "did not answer in time" if late else "is unreachable"
            raise LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"Chroma at {self.url} {what}: {type(exc).__name__}: {exc}",
                data={"url": self.url},
            ) from None
        if response.status_code == 404 and missing_ok:
            return MISSING
        if response.is_success:
            return response.json() if response.content else None
        try:
            message = str(response.json().get("message") or response.text)
        except ValueError:
            message = response.text
        status = response.status_code
        code = _STATUS.get(status) or (
            ErrorCode.INVALID_ARGUMENTS if status < 500 else ErrorCode.COMPONENT_FAILED
        )
        raise LLMSpellError(
            code,
            f"Chroma at {self.url} answered {status}: {message}",
            data={"url": self.url, "status": status},
        )

    async def _max_batch(self) -> int:
        if self._batch is None:
            checks = await self._call("GET", f"{self.url}/api/v2/pre-flight-checks")
            size = checks.get("max_batch_size") if isinstance(checks, dict) else None
            self._batch = int(size) if isinstance(size, int) and size > 0 else _PAGE
        return self._batch

    # -- collections --------------------------------------------------------------------------

    @staticmethod
    def _parse(body: dict[str, Any]) -> _Collection:
        meta = body.get("metadata") or {}
        config = body.get("configuration_json") or {}
        space = meta.get(SPACE_KEY) or (config.get("hnsw") or {}).get("space") or "cosine"
        dim = meta.get(DIM_KEY, body.get("dimension"))
        name = meta.get(NAME_KEY) or body["name"]
        return _Collection(
            str(body["id"]),
            str(name),
            int(dim) if isinstance(dim, int) else None,
            _METRIC.get(str(space), "cosine"),
        )

    async def _find(self, collection: str) -> _Collection | None:
        cached = self._cache.get(collection)
        if cached is not None:
            return cached
        path = f"{self._base}/{quote(chroma_name(collection), safe='')}"
        body = await self._call("GET", path, missing_ok=True)
        if body is MISSING:
            return None
        found = self._parse(body)
        self._cache[collection] = found
        return found

    async def _get(self, collection: str) -> _Collection:
        found = await self._find(collection)
        if found is None:
            raise unknown_collection(collection)
        return found

    async def _data(self, col: _Collection, op: str, body: Any, method: str = "POST") -> Any:
        """A call on one collection's records. A 404 means the cached id is stale (dropped,
        perhaps made again by another client): look the name up once more, then give up."""
        result = await self._call(method, f"{self._base}/{col.id}/{op}", body, missing_ok=True)
        if result is MISSING:
            self._cache.pop(col.name, None)
            fresh = await self._find(col.name)
            if fresh is None or fresh.id == col.id:
                raise unknown_collection(col.name)
            result = await self._call(method, f"{self._base}/{fresh.id}/{op}", body)
        return result

    async def create(self, collection: str, dim: int, metric: Metric = "cosine") -> None:
        metric = check_create(dim, metric)
        existing = await self._find(collection)
        if existing is None:
            meta: dict[str, Any] = {DIM_KEY: dim, SPACE_KEY: _SPACE[metric], NAME_KEY: collection}
            body = await self._call(
                "POST",
                self._base,
                {"name": chroma_name(collection), "metadata": meta, "get_or_create": True},
            )
            existing = self._parse(body)
            self._cache[collection] = existing
        info = CollectionInfo(collection, existing.dim or dim, existing.metric, 0)
        check_same(collection, info, dim, metric)

    async def collections(self) -> list[CollectionInfo]:
        found: list[_Collection] = []
        offset = 0
        while True:
            page = await self._call("GET", f"{self._base}?limit={_PAGE}&offset={offset}")
            found.extend(self._parse(body) for body in page or [])
            if len(page or []) < _PAGE:
                break
            offset += _PAGE
        out = []
        for col in found:
            count = await self._call("GET", f"{self._base}/{col.id}/count", missing_ok=True)
            if count is not MISSING:
                out.append(CollectionInfo(col.name, col.dim or 0, col.metric, int(count)))
        return sorted(out, key=lambda info: info.name)

    async def drop(self, collection: str) -> bool:
        self._cache.pop(collection, None)
        path = f"{self._base}/{quote(chroma_name(collection), safe='')}"
        return await self._call("DELETE", path, missing_ok=True) is not MISSING

    # -- records --------------------------------------------------------------------------

    async def upsert(self, collection: str, records: Sequence[Record]) -> int:
        col = await self._get(collection)
        dim = col.dim or (len(records[0].vector) if records else 0)
        batch = check_records(collection, dim, records)
        size = await self._max_batch() if batch else 0
        for start in range(0, len(batch), size or 1):
            chunk = batch[start : start + size]
            old = await self._metadatas(col, [r.id for r in chunk])
            body = {
                "ids": [r.id for r in chunk],
                "embeddings": [[float(x) for x in r.vector] for r in chunk],
                "documents": [r.text for r in chunk],
                "metadatas": [_replacing(old.get(r.id), r.metadata) for r in chunk],
            }
            await self._data(col, "upsert", body)
        return len(batch)

    async def _metadatas(self, col: _Collection, ids: list[str]) -> dict[str, Metadata]:
        body = await self._data(col, "get", {"ids": ids, "include": ["metadatas"]})
        return {i: m or {} for i, m in zip(body["ids"], body.get("metadatas") or [], strict=False)}

    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        k: int = 10,
        filter: Filter | None = None,
    ) -> list[Hit]:
        col = await self._get(collection)
        check_dim(collection, col.dim or len(vector), vector)
        check_k(k)
        if _impossible(filter):
            return []
        recheck, asked = _inexact(filter), k
        while True:
            hits = await self._query(col, vector, asked, filter)
            kept = [h for h in hits if not recheck or matches(h.metadata, filter)]
            if len(kept) >= k or len(hits) < asked:
                return kept[:k]
            asked *= 4

    async def _query(
        self, col: _Collection, vector: Sequence[float], n: int, filter: Filter | None
    ) -> list[Hit]:
        body = await self._data(
            col,
            "query",
            {
                "query_embeddings": [[float(x) for x in vector]],
                "n_results": n,
                "where": where(filter),
                "include": ["documents", "metadatas", "distances"],
            },
        )
        ids = (body.get("ids") or [[]])[0]
        distances = (body.get("distances") or [[]])[0]
        documents = (body.get("documents") or [[None] * len(ids)])[0]
        metadatas = (body.get("metadatas") or [[None] * len(ids)])[0]
        hits = [
            Hit(i, score(col.metric, float(d)), t or "", dict(m or {}))
            for i, d, t, m in zip(ids, distances, documents, metadatas, strict=False)
        ]
        hits.sort(key=lambda hit: -hit.score)
        return hits

    async def get(self, collection: str, ids: Sequence[str]) -> list[Record]:
        col = await self._get(collection)
        if not ids:
            return []
        include = ["embeddings", "documents", "metadatas"]
        body = await self._data(col, "get", {"ids": list(dict.fromkeys(ids)), "include": include})
        n = len(body["ids"])
        found = {
            i: Record(i, [float(x) for x in v], t or "", dict(m or {}))
            for i, v, t, m in zip(
                body["ids"],
                body.get("embeddings") or [[]] * n,
                body.get("documents") or [None] * n,
                body.get("metadatas") or [None] * n,
                strict=False,
            )
        }
        return [found[i] for i in ids if i in found]

    async def _ids(
        self, col: _Collection, ids: Sequence[str] | None, filter: Filter | None
    ) -> list[str]:
        """The ids (among `ids`, if given) whose records match `filter`, page by page."""
        recheck = _inexact(filter)
        out: list[str] = []
        offset = 0
        while True:
            body = await self._data(
                col,
                "get",
                {
                    "ids": list(ids) if ids is not None else None,
                    "where": where(filter),
                    "include": ["metadatas"] if recheck else [],
                    "limit": _PAGE,
                    "offset": offset,
                },
            )
            page = body["ids"]
            metas = body.get("metadatas") or [None] * len(page)
            pairs = zip(page, metas, strict=False)
            out.extend(i for i, m in pairs if not recheck or matches(m or {}, filter))
            if len(page) < _PAGE:
                return out
            offset += _PAGE

    async def delete(
        self, collection: str, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> int:
        col = await self._get(collection)
        check_delete(ids, filter)
        if (ids is not None and not ids) or _impossible(filter):
            return 0
        doomed = await self._ids(col, ids, filter)
        batch = await self._max_batch()
        for start in range(0, len(doomed), batch):
            await self._data(col, "delete", {"ids": doomed[start : start + batch]})
        return len(doomed)

    async def count(self, collection: str, filter: Filter | None = None) -> int:
        col = await self._get(collection)
        if _impossible(filter):
            return 0
        if not filter:
            return int(await self._data(col, "count", None, method="GET") or 0)
        return len(await self._ids(col, None, filter))

    async def aclose(self) -> None:
        await self._http.aclose()


def _replacing(old: Metadata | None, new: Metadata) -> dict[str, Any] | None:
    """Metadata for Chroma's merging upsert that leaves exactly `new` (nulls delete keys)."""
    out: dict[str, Any] = {key: None for key in old or {} if key not in new}
    out.update(new)
    return out or None


__all__ = ["ChromaVectorStore", "chroma_name", "score", "where"]
