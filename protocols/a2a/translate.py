"""Runtime <-> A2A wire types: parts both ways, a message to a component's arguments. Pure
functions, no I/O; the table in DESIGN.md (text <-> TextPart, blobs <-> raw/url file parts,
structured data <-> DataPart)."""

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


def from_part(part: Part) -> RuntimePart:
    kind = part.WhichOneof("content")
    if kind == "text":
        return TextPart(part.text)
    if kind == "data":
        return DataPart(MessageToDict(part.data))
    if kind == "raw":
        return BlobPart(
            part.raw, part.media_type or "application/octet-stream", part.filename or None
        )
    if kind == "url":
        return ResourceLink(part.url, part.filename or None, part.media_type or None)
    return TextPart("")


def arguments(component: Component, message: Message | None) -> dict[str, Any]:
    """What a message asks of a component: a data part carries the arguments as they are; text
    goes to an agent's `text` (or a tool's only string argument), or is parsed as JSON."""
    parts = [from_part(p) for p in message.parts] if message is not None else []
    for part in parts:
        if isinstance(part, DataPart) and isinstance(part.data, dict):
            return dict(part.data)
    text = "\n".join(p.text for p in parts if isinstance(p, TextPart))
    properties = component.input_schema.get("properties") or {}
    if component.kind != "tool" or "text" in properties:
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


def task_message(message: Message | None, task_id: str, context_id: str) -> TaskMessage | None:
    """The message as a hosted agent sees it, with the ids of the task it belongs to."""
    if message is None:
        return None
    return TaskMessage(
        [from_part(p) for p in message.parts],
        message.message_id,
        context_id,
        task_id,
        MessageToDict(message.metadata) if message.HasField("metadata") else {},
    )
