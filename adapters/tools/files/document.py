"""`document-reader`: the text of a PDF, DOCX, HTML (as Markdown) or plain-text document, from
a file in the roots or base64 bytes.

The parsers are the `docs` extra (pypdf, python-docx, markdownify), imported only when a call
needs one, so the tool lists without them and a call says which extra to install."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from pathlib import Path
from typing import Any

from llmspell.runtime import Component, LLMSpellError, Result

from .._common import INPUT_PROPERTIES, PURE, answer, input_bytes, need, refuse, tool
from ..sandbox.files import Roots
from .converter import decode

NAME = "document-reader"
FORMATS = ("pdf", "docx", "html", "text")
EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
    ".rst": "text",
    ".csv": "text",
    ".json": "text",
    ".log": "text",
}
HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w-]+)", re.IGNORECASE)


def _detect(data: bytes, path: str | None) -> str:
    """From the extension, else the magic bytes; refuse what is none of the formats."""
    if path and (by_name := EXTENSIONS.get(Path(path).suffix.lower())):
        return by_name
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            if "word/document.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist():
                return "docx"
        except zipfile.BadZipFile:
            pass
    head = data[:1024].removeprefix(b"\xef\xbb\xbf")
    if HTML_START.match(head):
        return "html"
    if b"\x00" not in data[:8192]:
        return "text"
    raise refuse(NAME, "cannot tell the document's format; pass format (pdf, docx, html, text)")


def _page_numbers(spec: str, count: int) -> list[int]:
    """'1-3,5' as 0-based indexes, every page inside the document."""
    chosen: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        start, end = int(first), int(last or first)
        if start < 1 or end < start:
            raise refuse(NAME, f"page range {part!r} is not valid (pages count from 1)")
        if end > count:
            raise refuse(NAME, f"page {end} is out of range (the document has {count} pages)")
        chosen.extend(range(start - 1, end))
    return list(dict.fromkeys(chosen))


def _pdf(data: bytes, pages: str | None) -> tuple[str, dict[str, Any]]:
    pypdf = need("pypdf", "docs", NAME)
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise refuse(NAME, "the PDF is encrypted with a password")
        count = len(reader.pages)
        chosen = _page_numbers(pages, count) if pages else list(range(count))
        texts = [reader.pages[i].extract_text() or "" for i in chosen]
    except pypdf.errors.PyPdfError as exc:
        raise refuse(NAME, f"not a valid PDF ({exc})") from None
    meta = reader.metadata or {}
    info = {
        "pages": count,
        "pages_read": [i + 1 for i in chosen],
        "title": meta.get("/Title"),
        "author": meta.get("/Author"),
    }
    return "\n\n".join(t.strip() for t in texts).strip(), info


def _docx(data: bytes) -> tuple[str, dict[str, Any]]:
    docx = need("docx", "docs", NAME)
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise refuse(NAME, f"not a valid DOCX ({exc})") from None
    blocks: list[str] = []
    tables = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            tables += 1
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows]
            blocks.append("\n".join(rows))
        elif item.text.strip():
            style = item.style.name if item.style is not None else ""
            level = style.removeprefix("Heading ").strip()
            prefix = (
                "#" * int(level) + " " if style.startswith("Heading ") and level.isdigit() else ""
            )
            blocks.append(prefix + item.text.strip())
    return "\n\n".join(blocks), {"paragraphs": len(document.paragraphs), "tables": tables}


def _html(data: bytes) -> tuple[str, dict[str, Any]]:
    markdownify = need("markdownify", "docs", NAME)
    declared = META_CHARSET.search(data[:4096])
    encoding = declared.group(1).decode("ascii") if declared else "auto"
    try:
        html, used = decode(data, encoding, "the HTML")
    except LLMSpellError:  # a wrong or unknown declared charset: guess instead
        html, used = decode(data, "auto", "the HTML")
    markdown = markdownify.markdownify(html, heading_style="ATX")
    return re.sub(r"\n{3,}", "\n\n", markdown).strip(), {"encoding": used}


def _read(data: bytes, args: dict[str, Any]) -> Result:
    fmt = args.get("format") or _detect(data, args.get("path"))
    if "pages" in args and fmt != "pdf":
        raise refuse(NAME, "'pages' applies to PDF documents only")
    if fmt == "pdf":
        text, info = _pdf(data, args.get("pages"))
    elif fmt == "docx":
        text, info = _docx(data)
    elif fmt == "html":
        text, info = _html(data)
    else:
        text, used = decode(data, args.get("encoding", "auto"), "the document")
        info = {"encoding": used}
    limit = args.get("max_chars")
    truncated = limit is not None and len(text) > limit
    if truncated:
        text = text[:limit]
    return answer(
        text, {"format": fmt, "text": text, "chars": len(text), "truncated": truncated, **info}
    )


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        data = await input_bytes(args, roots, NAME)
        return await asyncio.to_thread(_read, data, args)

    return tool(
        NAME,
        "Extracts the text of a document: PDF (optionally a page range), DOCX (paragraphs, "
        "headings and tables), HTML (converted to Markdown) or plain text. Input is a file "
        "inside the allowed roots or base64 bytes; the format comes from the extension or the "
        "content unless given. Needs the 'docs' extra for PDF, DOCX and HTML.",
        {
            **INPUT_PROPERTIES,
            "format": {"type": "string", "enum": list(FORMATS)},
            "pages": {
                "type": "string",
                "pattern": r"^\d+(-\d+)?(,\d+(-\d+)?)*$",
                "description": "PDF pages to read, from 1, e.g. '1-3,5' (default: all)",
            },
            "encoding": {
                "type": "string",
                "default": "auto",
                "description": "Plain text's encoding ('auto' guesses)",
            },
            "max_chars": {
                "type": "integer",
                "minimum": 1,
                "description": "Return at most this many characters (truncated = true)",
            },
        },
        handle,
        annotations=PURE,
    )
