"""`image-processor`: facts about an image, and resize, crop, rotate, convert and thumbnail with
Pillow. Decoding and encoding run in a worker thread so the event loop keeps serving."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Component, Result

from .._common import INPUT_PROPERTIES, answer, input_bytes, need, refuse, tool
from ..sandbox.files import Roots
from ._shared import (
    IMAGE_FORMATS,
    IMAGE_MIME,
    OUTPUT_PROPERTY,
    WRITES_OUTPUT,
    deliver,
    encode_image,
    open_image,
    suffix_format,
)

if TYPE_CHECKING:
    from PIL import Image

NAME = "image-processor"
MAX_SIDE = 16384


def _info(img: Image.Image, size: int) -> Result:
    frames = int(getattr(img, "n_frames", 1))
    facts = {
        "format": img.format,
        "width": img.width,
        "height": img.height,
        "mode": img.mode,
        "frames": frames,
        "bytes": size,
    }
    text = f"{img.format} {img.width}x{img.height} {img.mode}, {size} bytes"
    return answer(text + (f", {frames} frames" if frames > 1 else ""), facts)


def _resize(img: Image.Image, args: dict[str, Any]) -> Image.Image:
    from PIL import Image

    width, height = args.get("width"), args.get("height")
    if width is None and height is None:
        raise refuse(NAME, "resize needs 'width', 'height' or both")
    if args.get("keep_aspect", True):
        scale = min(
            width / img.width if width is not None else float("inf"),
            height / img.height if height is not None else float("inf"),
        )
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    else:
        size = (width or img.width, height or img.height)
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and size[0] * size[1] > limit:
        raise refuse(NAME, f"{size[0]}x{size[1]} is over the {limit}-pixel limit")
    return img.resize(size, Image.Resampling.LANCZOS)


def _crop(img: Image.Image, box: list[int]) -> Image.Image:
    left, top, right, bottom = box
    if not (0 <= left < right <= img.width and 0 <= top < bottom <= img.height):
        raise refuse(
            NAME,
            f"box {box} must lie within the {img.width}x{img.height} image "
            "as [left, top, right, bottom] with left < right and top < bottom",
        )
    return img.crop((left, top, right, bottom))


def _process(data: bytes, args: dict[str, Any]) -> tuple[bytes, dict[str, Any]] | Result:
    from PIL import ImageOps

    op = args["operation"]
    img = open_image(NAME, data)
    if op == "info":
        return _info(img, len(data))
    source = img.format
    img = ImageOps.exif_transpose(img)  # what a viewer shows: the saved file loses EXIF
    if op == "resize":
        img = _resize(img, args)
    elif op == "crop":
        img = _crop(img, args["box"])
    elif op == "rotate":
        img = img.rotate(args["degrees"], expand=args.get("expand", True))
    elif op == "thumbnail":
        img = img.copy()
        img.thumbnail((args.get("max_size", 256),) * 2)
    fmt = (
        IMAGE_FORMATS.get(args.get("format", ""))
        or suffix_format(args.get("output"), IMAGE_FORMATS)
        or (source if source in IMAGE_MIME else "PNG")
    )
    encoded = encode_image(NAME, img, fmt, args.get("quality"))
    return encoded, {"format": fmt, "width": img.width, "height": img.height, "mode": img.mode}


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        need("PIL", "media", NAME)
        if args["operation"] == "info" and "output" in args:
            raise refuse(NAME, "'output' is for operations that make an image, not info")
        data = await input_bytes(args, roots, NAME)
        done = await asyncio.to_thread(_process, data, args)
        if isinstance(done, Result):
            return done
        encoded, facts = done
        summary = (
            f"{args['operation']}: {facts['format']} {facts['width']}x{facts['height']}, "
            f"{len(encoded)} bytes"
        )
        return await deliver(
            NAME, roots, args, encoded, IMAGE_MIME[facts["format"]], facts, summary
        )

    side = {"type": "integer", "minimum": 1, "maximum": MAX_SIDE}
    return tool(
        NAME,
        "Reads an image's facts (format, size, mode) or resizes, crops, rotates, converts "
        "(PNG, JPEG, WebP) or thumbnails it with Pillow. Input is a file inside the allowed roots "
        "('path') or base64 bytes ('data'); the result comes back as an image, or is written to "
        "a new file at 'output'.",
        {
            **INPUT_PROPERTIES,
            "output": OUTPUT_PROPERTY,
            "width": {**side, "description": "resize: target width in pixels"},
            "height": {**side, "description": "resize: target height in pixels"},
            "keep_aspect": {
                "type": "boolean",
                "default": True,
                "description": "resize: keep the proportions, fitting inside width x height",
            },
            "box": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0},
                "minItems": 4,
                "maxItems": 4,
                "description": "crop: [left, top, right, bottom] in pixels",
            },
            "degrees": {
                "type": "number",
                "minimum": -360,
                "maximum": 360,
                "description": "rotate: counter-clockwise angle",
            },
            "expand": {
                "type": "boolean",
                "default": True,
                "description": "rotate: grow the canvas to hold the whole rotated image",
            },
            "max_size": {
                **side,
                "default": 256,
                "description": "thumbnail: longest side in pixels (never enlarges)",
            },
            "format": {
                "type": "string",
                "enum": list(IMAGE_FORMATS),
                "description": "Output format (convert needs it; otherwise the output file's "
                "suffix, else the input's format when PNG/JPEG/WebP, else PNG)",
            },
            "quality": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
                "description": "JPEG/WebP quality",
            },
        },
        handle,
        operations={
            "info": [],
            "resize": [],
            "crop": ["box"],
            "rotate": ["degrees"],
            "convert": ["format"],
            "thumbnail": [],
        },
        annotations=WRITES_OUTPUT,
    )
