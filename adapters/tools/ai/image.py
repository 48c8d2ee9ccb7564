"""`image-analyzer`: what an image is (size, format, mode, frames), its dominant colours (Pillow's
median-cut quantization: the top colours with the share of pixels each covers), its brightness,
and its EXIF tags by name (GPS position only when asked: it says where the picture was taken).
With a `model`, a vision-capable LLM agent also describes it (the image goes as an image part)."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Any, cast

from llmspell.runtime import Component, Result

from .._common import INPUT_PROPERTIES, answer, input_bytes, need, refuse, tool
from ..env import ToolEnv
from ..media._shared import flatten, open_image
from ._model import MAY_ASK_A_MODEL, MODEL_PROPERTY, ask

if TYPE_CHECKING:
    from PIL import Image

NAME = "image-analyzer"
SAMPLE_SIDE = 256
"""Colours and brightness are measured on a copy at most this wide and high (fast, and close)."""
SEND_SIDE = 1568
"""A larger image is scaled down before it goes to a model (what vision models take anyway)."""
_SENDABLE = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
_SKIP_TAGS = {"MakerNote", "UserComment", "PrintImageMatching", "ExifOffset", "GPSInfo"}


def _plain(value: Any) -> Any:
    """An EXIF value as JSON: rationals as numbers, text decoded, long binary left out."""
    from PIL.TiffImagePlugin import IFDRational

    if isinstance(value, IFDRational):
        return None if value.denominator == 0 else round(float(value), 6)
    if isinstance(value, bytes):
        text = value.rstrip(b"\x00")
        if len(text) <= 64 and all(32 <= b < 127 for b in text):
            return text.decode("ascii")
        return None
    if isinstance(value, str):
        return value.rstrip("\x00").strip()
    if isinstance(value, tuple | list):
        items = [_plain(v) for v in value]
        return None if len(items) > 32 else items
    if isinstance(value, int | float | bool):
        return value
    return str(value)


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError):
        return None
    sign = -1 if str(ref).upper() in ("S", "W") else 1
    return round(sign * (d + m / 60 + s / 3600), 6)


def exif(img: Image.Image, include_gps: bool) -> dict[str, Any]:
    from PIL import ExifTags

    raw = img.getexif()
    tags: dict[str, Any] = {}
    for table in (dict(raw), raw.get_ifd(EXIF_IFD)):
        for key, value in table.items():
            name = ExifTags.TAGS.get(key, f"0x{key:04x}")
            plain = None if name in _SKIP_TAGS else _plain(value)
            if plain not in (None, "", []):
                tags[name] = plain
    gps = raw.get_ifd(GPS_IFD)
    if gps and include_gps:
        named = {ExifTags.GPSTAGS.get(k, f"0x{k:04x}"): v for k, v in gps.items()}
        tags["GPS"] = {
            "latitude": _degrees(named.get("GPSLatitude"), named.get("GPSLatitudeRef")),
            "longitude": _degrees(named.get("GPSLongitude"), named.get("GPSLongitudeRef")),
            "altitude": _plain(named.get("GPSAltitude")),
        }
    elif gps:
        tags["GPS"] = "present, left out (set include_gps to read it)"
    return tags


def sample(img: Image.Image) -> Image.Image:
    """An RGB copy at most SAMPLE_SIDE on each side (nearest pixels: no blended new colours),
    transparency flattened onto white."""
    from PIL import Image

    scale = min(1.0, SAMPLE_SIDE / max(img.size))
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    small = img.resize(size, Image.Resampling.NEAREST) if scale < 1 else img
    return flatten(small) if small.has_transparency_data else small.convert("RGB")


def colours(rgb: Image.Image, count: int) -> list[dict[str, Any]]:
    """The image reduced to `count` colours by median cut: each, with the share of pixels it
    stands for (the shares sum to 1)."""
    from PIL import Image

    quantized = rgb.quantize(colors=count, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    used = sorted(quantized.getcolors() or [], reverse=True)
    pixels = rgb.width * rgb.height
    out: list[dict[str, Any]] = []
    for share, index in used[:count]:
        at = 3 * cast(int, index)  # a palette image's colours are palette indexes
        r, g, b = palette[at : at + 3]
        out.append(
            {"hex": f"#{r:02x}{g:02x}{b:02x}", "rgb": [r, g, b], "share": round(share / pixels, 4)}
        )
    return out


def analyze(data: bytes, args: dict[str, Any]) -> dict[str, Any]:
    from PIL import ImageStat

    img = open_image(NAME, data)
    facts: dict[str, Any] = {
        "format": img.format,
        "width": img.width,
        "height": img.height,
        "mode": img.mode,
        "frames": int(getattr(img, "n_frames", 1)),
        "bytes": len(data),
        "transparent": img.has_transparency_data,
    }
    small = sample(img)
    facts["colours"] = colours(small, args.get("colours", 5))
    facts["brightness"] = round(ImageStat.Stat(small.convert("L")).mean[0] / 255, 4)
    if args.get("exif", True):
        facts["exif"] = exif(img, args.get("include_gps", False))
    return facts


def sendable(data: bytes) -> bytes:
    """The bytes to show a model: as they are when small and in a format models take, else a
    PNG scaled to at most SEND_SIDE."""
    from PIL import Image

    img = open_image(NAME, data)
    if img.format in _SENDABLE and max(img.size) <= SEND_SIDE and len(data) <= 5_000_000:
        return data
    img = img.convert("RGBA" if img.has_transparency_data else "RGB")
    img.thumbnail((SEND_SIDE, SEND_SIDE), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _summary(facts: dict[str, Any]) -> str:
    top = ", ".join(f"{c['hex']} {c['share']:.0%}" for c in facts["colours"])
    line = (
        f"{facts['format']} {facts['width']}x{facts['height']} {facts['mode']}; "
        f"brightness {facts['brightness']:.2f}; colours {top}"
    )
    if facts.get("exif"):
        line += f"; {len(facts['exif'])} EXIF tags"
    if facts.get("description"):
        line += "\n" + facts["description"]
    return line


def component(env: ToolEnv) -> Component:
    roots = env.roots

    async def handle(args: dict[str, Any]) -> Result:
        need("PIL", "media", NAME)
        if "prompt" in args and "model" not in args:
            raise refuse(NAME, "'prompt' is for the description, which needs a 'model'")
        data = await input_bytes(args, roots, NAME)
        facts = await asyncio.to_thread(analyze, data, args)
        if "model" in args:
            picture = await asyncio.to_thread(sendable, data)
            request = args.get("prompt") or (
                "Describe this image: its subject, setting, notable objects and any text in it."
            )
            system = "You describe images accurately and concisely; say only what you can see."
            said = await ask(env, NAME, args["model"], system, request, [picture])
            facts |= {"description": said.strip(), "model": args["model"]}
        return answer(_summary(facts), facts)

    return tool(
        NAME,
        "Analyze an image: format, size, mode, dominant colours (hex, with the share of pixels "
        "each covers), brightness (0 dark .. 1 light) and EXIF tags by name; GPS coordinates "
        "only with include_gps. With 'model' ('provider/model' of a vision-capable LLM) it "
        "also describes what the image shows.",
        {
            **INPUT_PROPERTIES,
            "colours": {
                "type": "integer",
                "minimum": 1,
                "maximum": 32,
                "default": 5,
                "description": "How many dominant colours to list",
            },
            "exif": {"type": "boolean", "default": True, "description": "Read EXIF tags"},
            "include_gps": {
                "type": "boolean",
                "default": False,
                "description": "Include the GPS position from EXIF (where it was taken)",
            },
            "model": MODEL_PROPERTY,
            "prompt": {
                "type": "string",
                "minLength": 1,
                "maxLength": 2000,
                "description": "With 'model': what to ask about the image",
            },
        },
        handle,
        annotations=MAY_ASK_A_MODEL,
    )
