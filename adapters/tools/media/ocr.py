"""`ocr-extractor`: the text in an image, read by the Tesseract binary. Pillow first turns any
input into a flat PNG (transparency onto white, which Tesseract reads best) and Tesseract reads
it from stdin: no shell, no temporary file, and the process is killed if the call is
cancelled."""

from __future__ import annotations

import asyncio
import io
import shutil
from typing import Any

from llmspell.runtime import Component, ErrorCode, LLMSpellError, Result

from .._common import INPUT_PROPERTIES, PURE, answer, input_bytes, need, refuse, tool
from ..sandbox.files import Roots
from ._shared import flatten, open_image

NAME = "ocr-extractor"
MISSING = f"{NAME}: the tesseract binary is not installed (Debian: apt-get install tesseract-ocr)"


async def _run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await process.communicate(stdin)
    except BaseException:  # cancelled (the call's deadline): leave no tesseract running
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    rc = process.returncode if process.returncode is not None else -1
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


async def languages(binary: str) -> list[str]:
    """What `tesseract --list-langs` reports, less `osd` (orientation and script detection, not
    a language to read)."""
    rc, out, err = await _run(binary, "--list-langs")
    if rc != 0:
        raise LLMSpellError(
            ErrorCode.COMPONENT_FAILED, f"{NAME}: tesseract --list-langs failed: {err.strip()}"
        )
    return [line.strip() for line in out.splitlines()[1:] if line.strip() not in ("", "osd")]


def _to_png(data: bytes) -> bytes:
    img = open_image(NAME, data)
    if img.has_transparency_data:
        img = flatten(img)
    elif img.mode not in ("1", "L", "RGB"):
        img = img.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        binary = shutil.which("tesseract")
        if binary is None:
            raise LLMSpellError(ErrorCode.NOT_CONFIGURED, MISSING, data={"binary": "tesseract"})
        need("PIL", "media", NAME)
        language: str = args.get("language", "eng")
        installed = await languages(binary)
        unknown = [code for code in language.split("+") if code not in installed]
        if unknown:
            raise refuse(
                NAME,
                f"language {', '.join(map(repr, unknown))} is not installed; "
                f"installed: {', '.join(installed) or 'none'}",
            )
        data = await input_bytes(args, roots, NAME)
        png = await asyncio.to_thread(_to_png, data)
        command = [binary, "stdin", "stdout", "-l", language]
        if "psm" in args:
            command += ["--psm", str(args["psm"])]
        rc, out, err = await _run(*command, stdin=png)
        if rc != 0:
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED, f"{NAME}: tesseract failed (exit {rc}): {err.strip()}"
            )
        text = out.strip()
        facts = {"text": text, "language": language, "psm": args.get("psm"), "chars": len(text)}
        return answer(text or "(no text found)", facts)

    return tool(
        NAME,
        "Reads the text in an image with Tesseract OCR (the tesseract binary must be installed). "
        "Input is an image file inside the allowed roots ('path') or base64 bytes ('data'), in "
        "any format Pillow reads.",
        {
            **INPUT_PROPERTIES,
            "language": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_]+(\\+[A-Za-z0-9_]+)*$",
                "default": "eng",
                "description": "Tesseract language code(s), joined with '+' (eng, deu+eng); "
                "must be installed",
            },
            "psm": {
                "type": "integer",
                "minimum": 0,
                "maximum": 13,
                "description": "Tesseract page segmentation mode (6: one block of text, "
                "7: one line, 11: sparse text); Tesseract's default when left out",
            },
        },
        handle,
        annotations=PURE,
    )
