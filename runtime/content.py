"""The content model: a Result is a list of parts plus an error flag; MCP and A2A map onto it."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True, slots=True)
class DataPart:
    """Structured JSON content (MCP structuredContent, A2A DataPart)."""

    data: Any
    type: Literal["data"] = "data"


@dataclass(frozen=True, slots=True)
class BlobPart:
    """Binary content with a MIME type: image, audio or any file."""

    data: bytes
    mime_type: str
    name: str | None = None
    type: Literal["blob"] = "blob"

    @property
    def kind(self) -> Literal["image", "audio", "file"]:
        major = self.mime_type.split("/", 1)[0]
        return "image" if major == "image" else "audio" if major == "audio" else "file"


@dataclass(frozen=True, slots=True)
class ResourceLink:
    uri: str
    name: str | None = None
    mime_type: str | None = None
    description: str | None = None
    type: Literal["resource_link"] = "resource_link"


@dataclass(frozen=True, slots=True)
class ResourcePart:
    """A resource's contents carried inline (MCP embedded resource): text or bytes, never both."""

    uri: str
    mime_type: str | None = None
    text: str | None = None
    blob: bytes | None = None
    type: Literal["resource"] = "resource"


Part = TextPart | DataPart | BlobPart | ResourceLink | ResourcePart
PART_TYPES = (TextPart, DataPart, BlobPart, ResourceLink, ResourcePart)


@dataclass(slots=True)
class Result:
    parts: list[Part] = field(default_factory=list)
    is_error: bool = False

    @classmethod
    def of(cls, value: Any) -> Result:
        """Normalise what a handler returned: Result, str, bytes, parts, or JSON-able data."""
        if isinstance(value, Result):
            return value
        if value is None:
            return cls([])
        if isinstance(value, str):
            return cls([TextPart(value)])
        if isinstance(value, bytes):
            return cls([BlobPart(value, "application/octet-stream")])
        if isinstance(value, PART_TYPES):
            return cls([value])
        return cls([DataPart(value)])

    @classmethod
    def from_plain(cls, value: Any) -> Result:
        """What scripts and hooks hand back: a table with `parts` is a result, anything else is
        normalised by `Result.of` (a string is text, a table is structured data)."""
        if isinstance(value, dict) and isinstance(value.get("parts"), list):
            return cls([part_from_plain(p) for p in value["parts"]], bool(value.get("is_error")))
        return cls.of(value)

    @classmethod
    def error(cls, message: str) -> Result:
        return cls([TextPart(message)], is_error=True)

    @property
    def text(self) -> str:
        """All text parts joined; structured data is rendered as JSON when there is no text."""
        texts = [p.text for p in self.parts if isinstance(p, TextPart)]
        return "\n".join(texts)

    @property
    def data(self) -> Any:
        for p in self.parts:
            if isinstance(p, DataPart):
                return p.data
        return None

    def size(self) -> int:
        """About how many bytes the result takes on the wire (text, blobs, JSON data)."""
        total = 0
        for p in self.parts:
            if isinstance(p, TextPart):
                total += len(p.text.encode())
            elif isinstance(p, BlobPart):
                total += len(p.data)
            elif isinstance(p, DataPart):
                total += len(json.dumps(p.data, default=str))
            elif isinstance(p, ResourcePart):
                total += len(p.blob) if p.blob is not None else len((p.text or "").encode())
        return total

    def to_plain(self) -> dict[str, Any]:
        """A JSON-able view for scripts and logs: {text, data, parts, is_error}."""
        return {
            "text": self.text,
            "data": self.data,
            "parts": [part_to_plain(p) for p in self.parts],
            "is_error": self.is_error,
        }


def part_to_plain(part: Part, *, a2a_files: bool = False) -> dict[str, Any]:
    """A part as scripts and hooks see it; `part_from_plain` reads it back. With `a2a_files`,
    blobs and links take A2A's file form, `{type="file", name, media_type, bytes | url}`, as an
    agent's message shows them."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, DataPart):
        return {"type": "data", "data": part.data}
    if isinstance(part, BlobPart):
        if a2a_files:
            out: dict[str, Any] = {"type": "file", "media_type": part.mime_type, "bytes": part.data}
        else:
            out = {
                "type": part.kind,
                "mime_type": part.mime_type,
                "data": base64.b64encode(part.data).decode("ascii"),
            }
        if part.name:
            out["name"] = part.name
        return out
    if isinstance(part, ResourcePart):
        return resource_to_plain(part)
    if a2a_files:
        plain = {"type": "file", "url": part.uri, "name": part.name, "media_type": part.mime_type}
    else:
        plain = {
            "type": "resource_link",
            "uri": part.uri,
            "name": part.name,
            "mime_type": part.mime_type,
            "description": part.description,
        }
    return {k: v for k, v in plain.items() if v is not None}


def part_from_plain(value: dict[str, Any]) -> Part:
    """The one reader of parts written as plain tables/objects (results, messages, task parts):

    - `{type="text", text=}`, `{type="data", data=}`;
    - `{type="image"|"audio"|"file"|"blob", mime_type=, data=<base64 or bytes>, name=}`, or in
      A2A's file form `{type="file", media_type=, bytes=<bytes or text> | url=, name=}`;
    - `{type="resource_link", uri=, ...}`, `{type="resource", uri=, text= | blob=}`.

    The type may be left out when a key says it: `text`, `bytes` or `url` (a file), `data`.
    Raises ValueError (or KeyError, TypeError) on what is none of these."""
    kind = value.get("type")
    if not isinstance(kind, str):
        kind = next((t for k, t in _TYPE_BY_KEY.items() if k in value), None)
    if kind == "text":
        return TextPart(str(value.get("text", "")))
    if kind == "data":
        return DataPart(value.get("data"))
    if kind in ("image", "audio", "file", "blob"):
        return _file_from_plain(value)
    if kind == "resource_link":
        return ResourceLink(
            str(value["uri"]), value.get("name"), value.get("mime_type"), value.get("description")
        )
    if kind == "resource":
        return resource_from_plain(value)
    raise ValueError(f"unknown content part type {kind!r}")


_TYPE_BY_KEY = {"text": "text", "bytes": "file", "url": "file", "data": "data"}
"""Which key tells a part's type when `type` is left out, in the order they are looked for."""


def _file_from_plain(value: dict[str, Any]) -> Part:
    name = value.get("name")
    mime = value.get("mime_type") or value.get("media_type")
    if name is not None and not isinstance(name, str):
        raise ValueError("a file's name is a string")
    if mime is not None and not isinstance(mime, str):
        raise ValueError("a file's media_type is a string")
    if isinstance(value.get("url"), str):
        return ResourceLink(value["url"], name, mime)
    raw = value.get("bytes")
    if raw is None and "data" in value:
        data = value["data"]
        raw = data if isinstance(data, bytes) else base64.b64decode(data)
    elif isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not isinstance(raw, bytes):
        raise ValueError("a file part has data, bytes or url")
    return BlobPart(raw, mime or "application/octet-stream", name)


def resource_to_plain(part: ResourcePart) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "resource", "uri": part.uri}
    if part.mime_type:
        out["mime_type"] = part.mime_type
    if part.blob is not None:
        out["blob"] = base64.b64encode(part.blob).decode("ascii")
    else:
        out["text"] = part.text or ""
    return out


def resource_from_plain(value: dict[str, Any], uri: str | None = None) -> ResourcePart:
    """`{uri, mime_type, text}` or `{uri, mime_type, blob}` (base64 or raw bytes)."""
    target = value.get("uri") or uri
    if not isinstance(target, str) or not target:
        raise ValueError("a resource part needs a uri")
    mime = value.get("mime_type")
    blob = value.get("blob")
    if blob is not None:
        data = blob if isinstance(blob, bytes) else base64.b64decode(blob)
        return ResourcePart(target, mime, blob=data)
    text = value.get("text", "")
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return ResourcePart(target, mime, text=str(text))
