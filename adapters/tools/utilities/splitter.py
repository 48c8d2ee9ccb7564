"""`text-splitter`: cuts text into chunks for retrieval (RAG) by characters, sentences,
paragraphs or markdown sections. Every chunk is an exact slice `text[start:end]`, so a caller can
map a hit back to its place in the source."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from llmspell.runtime import Component, Result

from .._common import PURE, answer, refuse, tool

NAME = "text-splitter"
MAX_CHUNKS = 10_000
_SENTENCE_END = re.compile(r"[.!?。！？]+[\"')\]]*(?=\s|$)")
_PARAGRAPH_GAP = re.compile(r"\n[ \t]*\n\s*")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^\s*(```|~~~)")

Span = tuple[int, int]


def _windows(start: int, end: int, size: int, overlap: int) -> list[Span]:
    """Fixed windows of `size` characters, each starting `size - overlap` after the last."""
    spans, step = [], size - overlap
    pos = start
    while pos < end:
        spans.append((pos, min(pos + size, end)))
        if len(spans) > MAX_CHUNKS:
            raise refuse(NAME, f"that makes over {MAX_CHUNKS} chunks; raise 'chunk_size'")
        if pos + size >= end:
            break
        pos += step
    return spans


def _trimmed(text: str, start: int, end: int) -> Span | None:
    """The span without surrounding whitespace, or None when it is all whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _units(text: str, start: int, end: int, gap: re.Pattern[str], after: bool) -> list[Span]:
    """Spans between the matches of `gap` (kept with the unit before it when `after`)."""
    spans, pos = [], start
    for m in gap.finditer(text, start, end):
        cut = m.end() if after else m.start()
        if (span := _trimmed(text, pos, cut)) is not None:
            spans.append(span)
        pos = m.end()
    if (span := _trimmed(text, pos, end)) is not None:
        spans.append(span)
    return spans


def _pack(units: list[Span], size: int, overlap: int) -> list[Span]:
    """Greedily join neighbouring units up to `size` characters; a new chunk starts with the
    previous chunk's last units when they fit in `overlap`. A unit longer than `size` is cut
    into character windows."""
    pieces: list[Span] = []
    for s, e in units:
        pieces.extend(_windows(s, e, size, overlap) if e - s > size else [(s, e)])
    chunks: list[Span] = []
    current: list[Span] = []
    for piece in pieces:
        if current and piece[1] - current[0][0] > size:
            chunks.append((current[0][0], current[-1][1]))
            kept: list[Span] = []
            for unit in reversed(current):
                if current[-1][1] - unit[0] > overlap or piece[1] - unit[0] > size:
                    break
                kept.insert(0, unit)
            current = kept
        current.append(piece)
    if current:
        chunks.append((current[0][0], current[-1][1]))
    return chunks


def _sections(text: str) -> list[tuple[Span, list[str]]]:
    """Markdown sections (a heading to the next one, fenced code ignored) with their heading
    trail, e.g. ['Guide', 'Install']."""
    bounds: list[tuple[int, int, str]] = []  # (offset, level, title)
    fenced, offset = False, 0
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING.match(line.rstrip("\r\n"))):
            bounds.append((offset, len(m.group(1)), m.group(2)))
        offset += len(line)
    out: list[tuple[Span, list[str]]] = []
    if not bounds or bounds[0][0] > 0:
        out.append(((0, bounds[0][0] if bounds else len(text)), []))
    trail: list[tuple[int, str]] = []
    for i, (start, level, title) in enumerate(bounds):
        trail = [*(t for t in trail if t[0] < level), (level, title)]
        end = bounds[i + 1][0] if i + 1 < len(bounds) else len(text)
        out.append(((start, end), [t[1] for t in trail]))
    return out


def split(text: str, mode: str, size: int, overlap: int) -> list[dict[str, Any]]:
    found: list[tuple[Span, list[str] | None]] = []
    if mode == "characters":
        found = [(span, None) for span in _windows(0, len(text), size, overlap)]
    elif mode == "sentences":
        found = [
            (s, None) for s in _pack(_units(text, 0, len(text), _SENTENCE_END, True), size, overlap)
        ]
    elif mode == "paragraphs":
        found = [
            (s, None)
            for s in _pack(_units(text, 0, len(text), _PARAGRAPH_GAP, False), size, overlap)
        ]
    else:
        for (first, last), headings in _sections(text):
            units = _units(text, first, last, _PARAGRAPH_GAP, False)
            found.extend((s, headings) for s in _pack(units, size, overlap))
            if len(found) > MAX_CHUNKS:
                break
    if len(found) > MAX_CHUNKS:
        raise refuse(NAME, f"that makes over {MAX_CHUNKS} chunks; raise 'chunk_size'")
    chunks = []
    for i, ((start, end), trail) in enumerate(found):
        chunk: dict[str, Any] = {"index": i, "start": start, "end": end, "text": text[start:end]}
        if trail is not None:
            chunk["headings"] = trail
        chunks.append(chunk)
    return chunks


async def handle(args: dict[str, Any]) -> Result:
    size, overlap = args.get("chunk_size", 1000), args.get("overlap", 0)
    if overlap >= size:
        raise refuse(NAME, f"'overlap' ({overlap}) must be smaller than 'chunk_size' ({size})")
    mode = args.get("operation", "characters")
    chunks = await asyncio.to_thread(split, args["text"], mode, size, overlap)
    text = f"{len(chunks)} chunk(s): " + ", ".join(f"{c['start']}-{c['end']}" for c in chunks[:50])
    return answer(text, {"count": len(chunks), "chunks": chunks})


def component() -> Component:
    return tool(
        NAME,
        "Splits text into chunks for retrieval: by characters (fixed windows with overlap), "
        "sentences, paragraphs or markdown headings (sections, with their heading trail); "
        "sentences and paragraphs are joined up to chunk_size characters. Each chunk carries its "
        "start/end offsets in the text.",
        {
            "text": {"type": "string", "maxLength": 2_000_000},
            "chunk_size": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1000},
            "overlap": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "Characters shared by neighbouring chunks (at most)",
            },
        },
        handle,
        required=["text"],
        operations={"characters": [], "sentences": [], "paragraphs": [], "markdown": []},
        annotations=PURE,
        output_schema={
            "type": "object",
            "properties": {
                "count": {"type": "integer"},
                "chunks": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "index": {"type": "integer"},
                            "start": {"type": "integer"},
                            "end": {"type": "integer"},
                            "text": {"type": "string"},
                            "headings": {"type": "array", "items": {"type": "string"}},
                        },
                        "required": ["index", "start", "end", "text"],
                    },
                },
            },
            "required": ["count", "chunks"],
        },
    )
