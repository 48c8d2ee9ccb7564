"""The Weaviate backend: weaviate-client v4's async client (HTTP schema, gRPC data), connected
on first use. A collection is a class with self-provided vectors and a JSON description holding
name, dim and metric; `docs` lives in class `Ldocs`, other names in `X` + UTF-8 hex. Records are
objects with UUIDv5(id), properties `llm_id`, `llm_text`, and metadata `k` as `m_k` (`h_` + hex
for non-identifiers; text with field tokenization, so equality is exact). Scores: cosine 1 - d,
dot -d, l2-squared -sqrt(d)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from llmspell.runtime import vectors as v
from llmspell.runtime.errors import ErrorCode, LLMSpellError
from llmspell.runtime.vectors import CollectionInfo, Filter, Hit, Metric, Record, Scalar

ID_PROP = "llm_id"
TEXT_PROP = "llm_text"
_IDENT = re.compile(r"^[0-9A-Za-z_]+$")


def class_name(collection: str) -> str:
    if not collection:
        raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, "collection name is empty")
    if _IDENT.match(collection):
        return "L" + collection
    return "X" + collection.encode("utf-8").hex()


def prop_name(key: str) -> str:
    return "m_" + key if _IDENT.match(key) and key[0] != "_" else "h_" + key.encode().hex()


def key_name(prop: str) -> str | None:
    if prop.startswith("m_"):
        return prop[2:]
    if prop.startswith("h_"):
        return bytes.fromhex(prop[2:]).decode()
    return None


def score(metric: Metric, distance: float) -> float:
    return {"l2": -math.sqrt(max(distance, 0.0)), "dot": -distance}.get(metric, 1.0 - distance)


def _kind(value: Scalar) -> str:
    return {bool: "boolean", int: "int", float: "number"}.get(type(value), "text")


@dataclass
class _Collection:
    name: str
    dim: int
    metric: Metric
    props: dict[str, str] = field(default_factory=dict)
    """Property name -> data type (`text`, `int`, `number`, `boolean`)."""


class WeaviateVectorStore:
    """`VectorStore` on a Weaviate server at `url` (HTTP, e.g. `http://127.0.0.1:8080`)."""

    def __init__(
        self,
        url: str = "http://127.0.0.1:8080",
        *,
        grpc_host: str | None = None,
        grpc_port: int = 50051,
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if not parts.hostname:
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"bad Weaviate URL {url!r}")
        self.url = url
        self._host = parts.hostname
        self._secure = parts.scheme == "https"
        self._port = parts.port or (443 if self._secure else 8080)
        self._grpc = (grpc_host or self._host, grpc_port)
        self._api_key = api_key
        self._timeout = timeout
        self._client: Any = None
        self._lock = asyncio.Lock()
        self._cache: dict[str, _Collection] = {}

    # -- connection and errors ----------------------------------------------------------------

    def _error(self, exc: Exception) -> LLMSpellError:
        from weaviate import exceptions as wx

        down: tuple[type[Exception], ...] = (wx.WeaviateConnectionError, wx.WeaviateStartUpError)
        down += (wx.WeaviateTimeoutError, wx.WeaviateGRPCUnavailableError, OSError)
        down += (wx.WeaviateClosedClientError,)
        if isinstance(exc, down):
            return LLMSpellError(
                ErrorCode.UNAVAILABLE,
                f"Weaviate at {self.url} is unreachable: {type(exc).__name__}: {exc}",
                data={"url": self.url},
            )
        status = getattr(exc, "status_code", None) or 500
        bad = status < 500 or isinstance(exc, ValueError | wx.WeaviateInvalidInputError)
        code = ErrorCode.INVALID_ARGUMENTS if bad else ErrorCode.COMPONENT_FAILED
        return LLMSpellError(code, f"Weaviate at {self.url}: {exc}", data={"url": self.url})

    async def _connect(self) -> Any:
        async with self._lock:
            if self._client is not None:
                return self._client
            import weaviate
            from weaviate.classes.init import AdditionalConfig, Auth, Timeout

            t = self._timeout
            http, grpc = (self._host, self._port, self._secure), (*self._grpc, self._secure)
            client = weaviate.use_async_with_custom(
                *http,
                *grpc,
                auth_credentials=Auth.api_key(self._api_key) if self._api_key else None,
                additional_config=AdditionalConfig(timeout=Timeout(init=t, query=t, insert=t)),
            )
            try:
                await client.connect()
            except Exception as exc:
                await _quietly_close(client)
                raise self._error(exc) from None
            self._client = client
            return client

    @asynccontextmanager
    async def _mapped(self) -> AsyncIterator[Any]:
        """The connected client, with its errors mapped to `LLMSpellError`."""
        client = await self._connect()
        try:
            yield client
        except LLMSpellError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    # -- collections ----------------------------------------------------------------------------

    @staticmethod
    def _parse(config: Any) -> _Collection | None:
        try:
            mine = json.loads(config.description or "")["llmspell"]
            found = _Collection(str(mine["name"]), int(mine["dim"]), v.check_metric(mine["metric"]))
        except (ValueError, KeyError, TypeError, LLMSpellError):
            return None
        for prop in config.properties:
            found.props[prop.name] = str(getattr(prop.data_type, "value", prop.data_type))
        return found

    async def _find(self, collection: str) -> _Collection | None:
        if collection in self._cache:
            return self._cache[collection]

        name, config = class_name(collection), None
        async with self._mapped() as client:
            if await client.collections.exists(name):
                config = await client.collections.use(name).config.get(simple=True)
        found = self._parse(config) if config is not None else None
        if found is not None:
            self._cache[collection] = found
        return found

    async def _get(self, collection: str) -> _Collection:
        found = await self._find(collection)
        if found is None:
            raise v.unknown_collection(collection)
        return found

    async def create(self, collection: str, dim: int, metric: Metric = "cosine") -> None:
        metric = v.check_create(dim, metric)
        existing = await self._find(collection)
        if existing is not None:
            info = CollectionInfo(collection, existing.dim, existing.metric, 0)
            return v.check_same(collection, info, dim, metric)
        from weaviate.classes.config import (
            Configure,
            DataType,
            Property,
            Tokenization,
            VectorDistances,
        )

        distance = {"cosine": "cosine", "dot": "dot", "l2": "l2-squared"}[metric]
        description = json.dumps({"llmspell": {"name": collection, "dim": dim, "metric": metric}})

        async with self._mapped() as client:
            await client.collections.create(
                class_name(collection),
                description=description,
                vector_config=Configure.Vectors.self_provided(
                    vector_index_config=Configure.VectorIndex.hnsw(
                        distance_metric=VectorDistances(distance)
                    )
                ),
                properties=[
                    Property(
                        name=ID_PROP, data_type=DataType.TEXT, tokenization=Tokenization.FIELD
                    ),
                    Property(name=TEXT_PROP, data_type=DataType.TEXT, index_filterable=False),
                ],
            )
        self._cache[collection] = _Collection(
            collection, dim, metric, {ID_PROP: "text", TEXT_PROP: "text"}
        )

    async def collections(self) -> list[CollectionInfo]:
        out = []
        async with self._mapped() as client:
            for name, config in (await client.collections.list_all(simple=True)).items():
                found = self._parse(config)
                if found is None:
                    continue
                total = await client.collections.use(name).aggregate.over_all(total_count=True)
                out.append(
                    CollectionInfo(found.name, found.dim, found.metric, total.total_count or 0)
                )
        return sorted(out, key=lambda info: info.name)

    async def drop(self, collection: str) -> bool:
        self._cache.pop(collection, None)
        name = class_name(collection)
        async with self._mapped() as client:
            if not await client.collections.exists(name):
                return False
            await client.collections.delete(name)
        return True

    # -- records --------------------------------------------------------------------------------

    async def _ensure_props(self, col: _Collection, records: Sequence[Record]) -> None:
        from weaviate.classes.config import DataType, Property, Tokenization

        wanted: dict[str, str] = {}
        for record in records:
            for key, value in record.metadata.items():
                prop, kind = prop_name(key), _kind(value)
                if prop not in col.props and {wanted.get(prop), kind} == {"int", "number"}:
                    wanted[prop] = "number"
                have = col.props.get(prop) or wanted.setdefault(prop, kind)
                if not _fits(have, value):
                    raise LLMSpellError(
                        ErrorCode.INVALID_ARGUMENTS,
                        f"metadata {key!r} is {have} in collection {col.name!r}, not {kind}",
                    )
        types = {"text": DataType.TEXT, "int": DataType.INT, "number": DataType.NUMBER}
        for prop, kind in wanted.items():
            if prop in col.props:
                continue
            field = Tokenization.FIELD if kind == "text" else None
            new = Property(name=prop, data_type=types.get(kind, DataType.BOOL), tokenization=field)

            async with self._mapped() as client:
                await client.collections.use(class_name(col.name)).config.add_property(new)
            col.props[prop] = kind

    async def upsert(self, collection: str, records: Sequence[Record]) -> int:
        col = await self._get(collection)
        batch = v.check_records(collection, col.dim, records)
        if not batch:
            return 0
        await self._ensure_props(col, batch)
        from weaviate.classes.data import DataObject
        from weaviate.util import generate_uuid5

        objects = [
            DataObject(
                properties={
                    ID_PROP: r.id,
                    TEXT_PROP: r.text,
                    **{prop_name(k): _cast(col, k, v) for k, v in r.metadata.items()},
                },
                uuid=generate_uuid5(r.id),
                vector=[float(x) for x in r.vector],
            )
            for r in batch
        ]

        async with self._mapped() as client:
            handle = client.collections.use(class_name(collection))
            result = await handle.data.insert_many(objects)  # the client batches
        if result.has_errors:
            first = next(iter(result.errors.values())).message
            raise LLMSpellError(ErrorCode.INVALID_ARGUMENTS, f"Weaviate refused a record: {first}")
        return len(batch)

    def _where(self, col: _Collection, filter: Filter | None, ids: Sequence[str] | None) -> Any:
        """A Weaviate filter, `None` for "everything", or `False` when nothing can match."""
        from weaviate.classes.query import Filter as F

        clauses = []
        if ids is not None:
            if not ids:
                return False
            clauses.append(F.by_property(ID_PROP).contains_any(list(ids)))
        for key, wanted in (filter or {}).items():
            prop = prop_name(key)
            kind = col.props.get(prop)
            many = isinstance(wanted, list | tuple)
            options = cast("list[Scalar]", list(wanted) if many else [wanted])  # type: ignore[arg-type]
            ok = [o for o in options if kind and _fits(kind, o)]
            values: list[Any] = [int(o) if kind == "int" else o for o in ok]
            if not values:
                return False
            clauses.append(F.by_property(prop).contains_any(values))
        return None if not clauses else clauses[0] if len(clauses) == 1 else F.all_of(clauses)

    @staticmethod
    def _record_parts(obj: Any) -> tuple[str, str, dict[str, Scalar]]:
        props = dict(obj.properties)
        keys = {p: key_name(p) for p, value in props.items() if value is not None}
        metadata = {key: props[p] for p, key in keys.items() if key is not None}
        return str(props.get(ID_PROP, "")), str(props.get(TEXT_PROP) or ""), metadata

    async def search(
        self,
        collection: str,
        vector: Sequence[float],
        k: int = 10,
        filter: Filter | None = None,
    ) -> list[Hit]:
        col = await self._get(collection)
        v.check_dim(collection, col.dim, vector)
        v.check_k(k)
        filters = self._where(col, filter, None)
        if filters is False:
            return []
        from weaviate.classes.query import MetadataQuery

        async with self._mapped() as client:
            found = await client.collections.use(class_name(collection)).query.near_vector(
                [float(x) for x in vector],
                limit=k,
                filters=filters,
                return_metadata=MetadataQuery(distance=True),
            )
        hits = []
        for obj in found.objects:
            rid, text, metadata = self._record_parts(obj)
            hits.append(Hit(rid, score(col.metric, float(obj.metadata.distance)), text, metadata))
        hits.sort(key=lambda hit: -hit.score)
        return hits

    async def get(self, collection: str, ids: Sequence[str]) -> list[Record]:
        col = await self._get(collection)
        filters = self._where(col, None, list(dict.fromkeys(ids)))
        if filters is False:
            return []
        async with self._mapped() as client:
            fetched = await client.collections.use(class_name(collection)).query.fetch_objects(
                filters=filters, limit=len(ids), include_vector=True
            )
        found = {}
        for obj in fetched.objects:
            rid, text, metadata = self._record_parts(obj)
            vector = obj.vector.get("default") if isinstance(obj.vector, dict) else obj.vector
            found[rid] = Record(rid, [float(x) for x in vector or []], text, metadata)
        return [found[i] for i in ids if i in found]

    async def delete(
        self, collection: str, ids: Sequence[str] | None = None, filter: Filter | None = None
    ) -> int:
        col = await self._get(collection)
        v.check_delete(ids, filter)
        filters = self._where(col, filter, ids)
        if filters is False:
            return 0
        total = 0
        async with self._mapped() as client:
            handle = client.collections.use(class_name(collection))
            while True:  # a server deletes at most QUERY_MAXIMUM_RESULTS per call
                result = await handle.data.delete_many(where=filters)
                total += int(result.successful)
                if result.matches == 0 or result.successful == 0:
                    return total

    async def count(self, collection: str, filter: Filter | None = None) -> int:
        col = await self._get(collection)
        filters = self._where(col, filter, None)
        if filters is False:
            return 0
        async with self._mapped() as client:
            handle = client.collections.use(class_name(collection))
            result = await handle.aggregate.over_all(total_count=True, filters=filters)
        return int(result.total_count or 0)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _quietly_close(client)


def _fits(kind: str, value: Scalar) -> bool:
    """Whether a property of type `kind` can hold (or equal) `value`; 1.0 equals an int 1."""
    actual = _kind(value)
    whole = isinstance(value, float) and value.is_integer()
    return actual == kind or (kind == "number" and actual == "int") or (kind == "int" and whole)


def _cast(col: _Collection, key: str, value: Scalar) -> Scalar:
    """A number as its property's type (Weaviate checks): 1 to 1.0, or 2.0 to 2."""
    kind = col.props.get(prop_name(key))
    if isinstance(value, int | float) and not isinstance(value, bool) and kind == "number":
        return float(value)
    return int(value) if kind == "int" and isinstance(value, float) else value


async def _quietly_close(client: Any) -> None:
    with contextlib.suppress(Exception):  # a client that never connected
        await client.close()


__all__ = ["WeaviateVectorStore", "class_name", "key_name", "prop_name", "score"]
