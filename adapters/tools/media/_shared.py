"""What the media tools share: opening images safely, encoding them, and handing a result back
either as an image/audio part or as a new file inside the roots."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Annotations, BlobPart, DataPart, Result, TextPart

from .._common import answer, refuse
from ..sandbox.files import Roots

if TYPE_CHECKING:
    from PIL import Image

WRITES_OUTPUT = Annotations(read_only=False, destructive=False, idempotent=True, open_world=False)
"""Writes only a new file at `output`: it never overwrites (so not destructive), and calling again
changes nothing more (the second call refuses, the file is already there)."""

OUTPUT_PROPERTY: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "description": "Write the result to this new file inside the allowed roots instead of "
    "returning it (an existing file is never overwritten)",
}

IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}
"""What the tools write (schema value or file suffix -> Pillow format)."""

IMAGE_MIME = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}

_MODES = {
    "PNG": {"1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"},
    "JPEG": {"L", "RGB", "CMYK"},
    "WEBP": {"RGB", "RGBA"},
}


def open_image(tool_name: str, data: bytes) -> Image.Image:
    """Decode an image, refusing what Pillow cannot read and anything over Pillow's pixel limit
    (a small file can expand to gigabytes: a decompression bomb)."""
    from PIL import Image, UnidentifiedImageError

    limit = Image.MAX_IMAGE_PIXELS
    bomb = f"the image is over the {limit}-pixel limit (a possible decompression bomb)"
    try:
        img = Image.open(io.BytesIO(data))
        if limit is not None and img.width * img.height > limit:
            raise refuse(tool_name, bomb)
        img.load()
    except Image.DecompressionBombError:
        raise refuse(tool_name, bomb) from None
    except UnidentifiedImageError:
        raise refuse(tool_name, "the input is not an image format Pillow can read") from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise refuse(tool_name, f"the image could not be decoded: {exc}") from None
    return img


def flatten(img: Image.Image) -> Image.Image:
    """Transparent pixels onto white: formats without alpha (JPEG) and Tesseract read that best."""
    from PIL import Image

    rgba = img.convert("RGBA")
    background = Image.new("RGB", img.size, "white")
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def encode_image(tool_name: str, img: Image.Image, fmt: str, quality: int | None = None) -> bytes:
    """`img` as PNG, JPEG or WEBP bytes, first converting modes the format cannot hold."""
    if img.mode not in _MODES[fmt]:
        alpha = img.has_transparency_data
        img = flatten(img) if fmt == "JPEG" and alpha else img.convert("RGBA" if alpha else "RGB")
    options: dict[str, Any] = {}
    if quality is not None and fmt in ("JPEG", "WEBP"):
        options["quality"] = quality
    buf = io.BytesIO()
    try:
        img.save(buf, fmt, **options)
    except (OSError, ValueError) as exc:
        raise refuse(tool_name, f"could not encode the image as {fmt}: {exc}") from None
    return buf.getvalue()


def suffix_format(path: str | None, formats: dict[str, str]) -> str | None:
    """The output format an `output` file name implies (`thumb.jpg` -> JPEG), if any."""
    if not path or "." not in path:
        return None
    return formats.get(path.rsplit(".", 1)[1].lower())


async def deliver(
    tool_name: str,
    roots: Roots,
    args: dict[str, Any],
    data: bytes,
    mime: str,
    info: dict[str, Any],
    summary: str,
) -> Result:
    """The encoded result as an image/audio part (with its facts as data), or, when `output` is
    given, written to that new file inside the roots."""
    info = {**info, "bytes": len(data)}
    output = args.get("output")
    if output is None:
        return Result([TextPart(summary), BlobPart(data, mime), DataPart(info)])
    target = roots.resolve(tool_name, output)
    roots.check_write(tool_name, output, len(data))
    await asyncio.to_thread(_write_new, tool_name, target, output, data)
    return answer(f"wrote {summary} to {output}", {**info, "path": output})


def _write_new(tool_name: str, target: Path, shown: str, data: bytes) -> None:
    try:
        with target.open("xb") as fh:
            fh.write(data)
    except FileExistsError:
        raise refuse(tool_name, f"{shown!r} already exists; choose a new output path") from None
    except FileNotFoundError:
        raise refuse(tool_name, f"the folder of {shown!r} does not exist") from None
    except IsADirectoryError:
        raise refuse(tool_name, f"{shown!r} is a directory") from None
