"""Regenerates passages.jsonl from README.md and docs/*.md: one passage per Markdown section,
long sections cut at blank lines (outside code fences) into parts of about 900 characters
(a short lead, such as the heading alone, stays with the block after it).

Run from the repository root: `python tests/rag/corpus/make_passages.py`. The questions in
questions.jsonl name passage ids, so regenerate only when the docs change a lot, then check
that every question still names the passage that answers it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
TARGET = 900
HEADING = re.compile(r"^(#{1,4})\s+(.+)$")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading path, lines) per section; `#` lines inside code fences are not headings."""
    found: list[tuple[str, list[str]]] = []
    trail: list[str] = []
    lines: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            if any(x.strip() for x in lines):
                found.append((" > ".join(trail), lines))
            level = len(match.group(1))
            trail = [*trail[: level - 1], match.group(2).strip()]
            lines = [line]
        else:
            lines.append(line)
    if any(x.strip() for x in lines):
        found.append((" > ".join(trail), lines))
    return found


def blocks(lines: list[str]) -> list[str]:
    """Paragraphs and whole code fences, never split inside a fence."""
    out: list[str] = []
    current: list[str] = []
    fenced = False
    for line in lines:
        if line.startswith("```"):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                out.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        out.append("\n".join(current))
    return out


def parts(lines: list[str]) -> list[str]:
    grouped: list[str] = []
    current = ""
    for block in blocks(lines):
        if len(current) > 300 and len(current) + len(block) > TARGET:
            grouped.append(current)
            current = block
        else:
            current = f"{current}\n\n{block}" if current else block
    if current:
        grouped.append(current)
    return grouped


def main() -> None:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    rows = []
    for path in files:
        name = path.relative_to(ROOT).as_posix()
        stem = "readme" if path.name == "README.md" else path.stem
        for heading, lines in sections(path.read_text(encoding="utf-8")):
            pieces = parts(lines)
            for i, text in enumerate(pieces):
                pid = f"{stem}/{slug(heading.split(' > ')[-1])}"
                pid += f"-{i + 1}" if len(pieces) > 1 else ""
                rows.append({"id": pid, "source": name, "heading": heading, "text": text})
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate passage ids"
    with (HERE / "passages.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} passages")


if __name__ == "__main__":
    main()
