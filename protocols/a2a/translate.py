"""Runtime <-> A2A wire types: parts both ways, a message to a component's arguments. Pure
functions, no I/O: text <-> TextPart, blobs <-> raw/url file parts, structured data <->
DataPart."""

from __future__ import annotations

import json
from typing import Any

from a2a.helpers.proto_helpers import new_data_part, new_raw_part, new_text_part, new_url_part
from a2a.types import Message, Part
from google.protobuf.json_format import MessageToDict
from llmspell.runtime import (
    BlobPart,
    Component,
    DataPart,
    ResourceLink,
    ResourcePart,
    TaskMessage,
    TextPart,
)
from llmspell.runtime import Part as RuntimePart
from llmspell.runtime.schema import InvalidSchema, validator_for

Schema = dict[str, Any]
SAFE_INTEGER = 2**53
"""Beyond this a double no longer holds every integer, so a whole one may not have been one."""


def to_part(part: RuntimePart) -> Part:
    if isinstance(part, TextPart):
        return new_text_part(part.text)
    if isinstance(part, DataPart):
        return new_data_part(part.data)
    if isinstance(part, BlobPart):
        return new_raw_part(part.data, part.mime_type, part.name)
    if isinstance(part, ResourceLink):
        return new_url_part(part.uri, part.mime_type, part.name)
    if isinstance(part, ResourcePart):
        if part.blob is not None:
            return new_raw_part(part.blob, part.mime_type, part.uri)
        return new_text_part(part.text or "", part.mime_type)
    raise TypeError(f"no A2A part for {type(part).__name__}")


def from_part(part: Part, schema: Schema | None = None) -> RuntimePart:
    """`schema` describes a data part's value (a component's input), see `integral`."""
    kind = part.WhichOneof("content")
    if kind == "text":
        return TextPart(part.text)
    if kind == "data":
        return DataPart(integral(MessageToDict(part.data), schema))
    if kind == "raw":
        return BlobPart(
            part.raw, part.media_type or "application/octet-stream", part.filename or None
        )
    if kind == "url":
        return ResourceLink(part.url, part.filename or None, part.media_type or None)
    return TextPart("")


def integral(value: Any, schema: Schema | None = None) -> Any:
    """Whole numbers as integers again. A data part is a protobuf `Value`, which holds every
    number as a double, so JSON's `1` arrives as `1.0`: a whole number within the range a
    double holds exactly is taken as the integer it was sent as, except where `schema` says that
    place holds a number that is not an integer."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= SAFE_INTEGER and not _says_float(schema):
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: integral(v, _property(schema, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [integral(v, _item(schema, i)) for i, v in enumerate(value)]
    return value


def _says_float(schema: Schema | None) -> bool:
    kind = schema.get("type") if schema is not None else None
    kinds = kind if isinstance(kind, list) else [kind]
    return "number" in kinds and "integer" not in kinds


def _property(schema: Schema | None, key: str) -> Schema | None:
    if schema is None:
        return None
    found = (schema.get("properties") or {}).get(key, schema.get("additionalProperties"))
    return found if isinstance(found, dict) else None


def _item(schema: Schema | None, index: int) -> Schema | None:
    if schema is None:
        return None
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        found = prefix[index]
    else:
        found = schema.get("items")
    return found if isinstance(found, dict) else None


def arguments(component: Component, message: Message | None) -> dict[str, Any]:
    """What a message asks of a component: a data part carries the arguments as they are. Text
    that is a JSON object a tool's or workflow's schema takes (naming at least one of its
    properties) is the arguments; other text goes to an agent's `text` (or a tool's or
    workflow's `text`, or its only string argument), or is parsed as JSON."""
    schema = component.input_schema
    parts = [from_part(p, schema) for p in message.parts] if message is not None else []
    for part in parts:
        if isinstance(part, DataPart) and isinstance(part.data, dict):
            return dict(part.data)
    text = "\n".join(p.text for p in parts if isinstance(p, TextPart))
    properties = schema.get("properties") or {}
    schema_driven = component.kind != "agent"  # tools and workflows take their schema's shape
    if schema_driven:
        given = _json_object(text)
        if given is not None and _takes(schema, properties, given):
            return given
    if not schema_driven or "text" in properties:
        return {"text": text}
    strings = [
        k for k, v in properties.items() if isinstance(v, dict) and v.get("type") == "string"
    ]
    if len(strings) == 1:
        return {strings[0]: text}
    try:
        value = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {"text": text}
    return value if isinstance(value, dict) else {"input": value}


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.lstrip().startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _takes(schema: Schema, properties: dict[str, Any], value: dict[str, Any]) -> bool:
    """Whether `value` is a valid input that names one of the declared properties (so a JSON
    object meant as text for a tool's `text` argument still goes there)."""
    if properties and not set(value) & set(properties):
        return False
    try:
        return bool(validator_for(schema).is_valid(value))
    except InvalidSchema:
        return False


def task_message(message: Message | None, task_id: str, context_id: str) -> TaskMessage | None:
    """The message as a hosted agent sees it, with the ids of the task it belongs to."""
    if message is None:
        return None
    return TaskMessage(
        [from_part(p) for p in message.parts],
        message.message_id,
        context_id,
        task_id,
        integral(MessageToDict(message.metadata)) if message.HasField("metadata") else {},
    )
