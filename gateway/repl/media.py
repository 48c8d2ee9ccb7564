"""Images and audio in an entry's value: described in one line each, kept for `.show N`.

A tool result carries media as `{type = "image"|"audio", mime_type, data = <base64>}` parts
(`Result.to_plain`). The REPL prints their type, size and, for images, dimensions (when pillow,
an optional extra, is installed) instead of pages of base64.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("image", "audio")


@dataclass(frozen=True, slots=True)
class Media:
    mime_type: str
    data: bytes

    def describe(self) -> str:
        size = f"{self.mime_type}, {len(self.data)} bytes"
        dims = dimensions(self.data) if self.mime_type.startswith("image/") else None
        return f"{size}, {dims[0]}x{dims[1]}" if dims else size

    def suffix(self) -> str:
        return mimetypes.guess_extension(self.mime_type) or ".bin"


def dimensions(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # not an image pillow can read: report without dimensions
        return None


def extract(value: Any) -> tuple[Any, list[Media]]:
    """`value` with each media part's data replaced by a short note, and the media found."""
    found: list[Media] = []

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            if v.get("type") in KINDS and isinstance(v.get("mime_type"), str):
                raw = v.get("data")
                try:
                    data = raw if isinstance(raw, bytes) else base64.b64decode(str(raw))
                except (binascii.Error, ValueError):
                    data = None
                if data is not None:
                    found.append(Media(v["mime_type"], data))
                    return {**v, "data": f"<{len(data)} bytes>"}
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(value), found


def write(media: Media, folder: Path, number: int) -> Path:
    """Blocking: call through asyncio.to_thread."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"media-{number}{media.suffix()}"
    path.write_bytes(media.data)
    return path
