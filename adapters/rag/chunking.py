"""Chunkers: cut a document into pieces small enough to embed and to quote back.

Every chunk's `start`/`end` are character offsets into the source, so `text[start:end] ==
chunk.text` always: a hit can be shown in context and re-read from the file. Sizes are in
word tokens (`\\w+` runs and single punctuation marks): a tokenizer-free approximation that runs
somewhat below a BPE count, good enough for budgets, and the same for every strategy.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from llmspell.runtime import ErrorCode, LLMSpellError

TOKEN = re.compile(r"\w+|[^\w\s]")
DEFAULT_SIZE = 256
STRATEGIES = ("auto", "tokens", "sentences", "markdown", "code", "lines")


@dataclass(frozen=True, slots=True)
class Chunk:
    text: str
    start: int
    end: int
    location: str = ""
    """Where it is, for a reader: `# A > ## B`, `class A > def m, lines 3-9`, `lines 1-40`."""
    metadata: dict[str, Any] = field(default_factory=dict)


def count_tokens(text: str) -> int:
    return sum(1 for _ in TOKEN.finditer(text))


def _check(size: int, overlap: int, unit: str) -> None:
    if size < 1 or overlap < 0 or (unit == "tokens" and overlap >= size):
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"chunk size must be >= 1 and overlap >= 0 {unit}"
            + (" and below the size" if unit == "tokens" else "")
            + f" (got size={size}, overlap={overlap})",
        )


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding whitespace (end == start when nothing is left)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


# -- tokens --------------------------------------------------------------------------------------


def chunk_tokens(
    text: str,
    size: int = DEFAULT_SIZE,
    overlap: int = 32,
    *,
    start: int = 0,
    end: int | None = None,
) -> list[Chunk]:
    """Windows of `size` word tokens, each sharing `overlap` tokens with the one before."""
    _check(size, overlap, "tokens")
    spans = [
        (m.start(), m.end()) for m in TOKEN.finditer(text, start, len(text) if end is None else end)
    ]
    chunks: list[Chunk] = []
    step = size - overlap
    for i in range(0, len(spans), step):
        j = min(i + size, len(spans))
        s, e = spans[i][0], spans[j - 1][1]
        chunks.append(Chunk(text[s:e], s, e, metadata={"strategy": "tokens", "tokens": j - i}))
        if j == len(spans):
            break
    return chunks


# -- sentences -----------------------------------------------------------------------------------

_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|\Z)|\n[ \t]*\n")
_ABBREVIATED = (
    "e.g i.e cf vs etc al mr mrs ms dr prof st jr sr no nos fig figs approx dept est inc ltd co "
    "jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k a.m p.m ca resp viz"
)
_ABBREVIATIONS = frozenset(_ABBREVIATED.split())


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans: ends at . ! ? … (after closing quotes) or a blank line, but not after a
    known abbreviation (e.g., Dr.), an initial (J. Smith), a list number at a line start, or
    before a lowercase word (a likely abbreviation the list does not know)."""
    end = len(text) if end is None else end
    cuts = [start]
    for m in _END.finditer(text, start, end):
        if m.group().strip() and not _ends_sentence(text, m.start(), m.end(), end):
            continue
        cuts.append(m.start() if not m.group().strip() else m.end())
    cuts.append(end)
    spans = [_trim(text, a, b) for a, b in itertools.pairwise(cuts)]
    return [(a, b) for a, b in spans if b > a]


def _ends_sentence(text: str, p_start: int, p_end: int, limit: int) -> bool:
    word_start = p_start
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:p_start].lstrip("(\"'“‘[").lower()
    if text[p_start] == ".":
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
        line_start = text.rfind("\n", 0, word_start) + 1
        if word.isdigit() and not text[line_start:word_start].strip():
            return False  # "1. First item"
        nxt = p_end
        while nxt < limit and text[nxt].isspace() and text[nxt] != "\n":
            nxt += 1
        if nxt < limit and text[nxt].islower():
            return False
    return True


def chunk_sentences(
    text: str, size: int = DEFAULT_SIZE, overlap: int = 1, *, start: int = 0, end: int | None = None
) -> list[Chunk]:
    """Whole sentences packed up to `size` tokens; each chunk repeats the last `overlap`
    sentences of the one before. A sentence longer than `size` is cut into token windows."""
    _check(size, overlap, "sentences")
    spans = split_sentences(text, start, end)
    counts = [count_tokens(text[a:b]) for a, b in spans]
    chunks: list[Chunk] = []
    i = 0
    while i < len(spans):
        if counts[i] > size:
            for c in chunk_tokens(text, size, 0, start=spans[i][0], end=spans[i][1]):
                chunks.append(_tag(c, "sentences"))
            i += 1
            continue
        j, total = i, 0
        while j < len(spans) and total + counts[j] <= size:
            total += counts[j]
            j += 1
        s, e = spans[i][0], spans[j - 1][1]
        chunks.append(
            Chunk(text[s:e], s, e, metadata={"strategy": "sentences", "sentences": j - i})
        )
        if j == len(spans):
            break
        nxt = max(j - overlap, i + 1)
        while nxt < j and sum(counts[nxt : j + 1]) > size:
            nxt += 1  # the overlap must leave room for at least one new sentence
        i = nxt
    return chunks


def _tag(c: Chunk, strategy: str, location: str = "", **extra: Any) -> Chunk:
    return Chunk(c.text, c.start, c.end, location, {**c.metadata, "strategy": strategy, **extra})


# -- lines ---------------------------------------------------------------------------------------


def _line_windows(
    text: str, start: int, end: int, size: int, overlap: int
) -> Iterator[tuple[int, int]]:
    """Runs of whole lines up to `size` tokens (a longer line stands alone), `overlap` lines
    shared; yields trimmed spans."""
    lines: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl < 0 else nl + 1
        lines.append((pos, stop))
        pos = stop
    counts = [count_tokens(text[a:b]) for a, b in lines]
    i = 0
    while i < len(lines):
        j, total = i, 0
        while j < len(lines) and (j == i or total + counts[j] <= size):
            total += counts[j]
            j += 1
        s, e = _trim(text, lines[i][0], lines[j - 1][1])
        if e > s:
            yield s, e
        if j == len(lines):
            break
        nxt, kept = j, 0
        while nxt > i + 1 and kept < overlap:  # overlap counts lines with text, not blank ones
            nxt -= 1
            kept += bool(text[lines[nxt][0] : lines[nxt][1]].strip())
        i = nxt


class _Lines:
    """Character offset → 1-based line number."""

    def __init__(self, text: str) -> None:
        self._newlines = [i for i, ch in enumerate(text) if ch == "\n"]

    def of(self, offset: int) -> int:
        return bisect.bisect_left(self._newlines, offset) + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.of(start), self.of(max(start, end - 1))


def chunk_lines(text: str, size: int = DEFAULT_SIZE, overlap: int = 2) -> list[Chunk]:
    """Windows of whole lines: for code whose language has no parser, logs, data files."""
    _check(size, overlap, "lines")
    lines = _Lines(text)
    out = []
    for s, e in _line_windows(text, 0, len(text), size, overlap):
        a, b = lines.span(s, e)
        meta = {"strategy": "lines", "start_line": a, "end_line": b}
        out.append(Chunk(text[s:e], s, e, f"lines {a}-{b}", meta))
    return out


# -- markdown ------------------------------------------------------------------------------------

_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)[ \t]*(?:[ \t]#+)?[ \t]*$")
_FENCE = re.compile(r"[ \t]{0,3}(```|~~~)")


def markdown_sections(text: str) -> list[tuple[int, int, list[str]]]:
    """(start, end, heading trail) for each ATX-heading section; fenced code is not scanned
    for headings. Setext (underlined) headings are not recognised."""
    sections: list[tuple[int, int, list[str]]] = []
    trail: list[tuple[int, str]] = []
    begin, fence, pos = 0, None, 0
    for line in text.splitlines(keepends=True):
        fenced = _FENCE.match(line)
        if fenced:
            fence = None if fence == fenced.group(1) else fence or fenced.group(1)
        elif fence is None and (m := _HEADING.match(line.rstrip("\r\n"))):
            sections.append((begin, pos, [h for _, h in trail]))
            level = len(m.group(1))
            trail = [(lv, h) for lv, h in trail if lv < level] + [
                (level, f"{m.group(1)} {m.group(2)}")
            ]
            begin = pos
        pos += len(line)
    sections.append((begin, len(text), [h for _, h in trail]))
    return sections


def chunk_markdown(text: str, size: int = DEFAULT_SIZE, overlap: int = 1) -> list[Chunk]:
    """One chunk per section under its heading trail (`# A > ## B`); a section over `size`
    tokens is cut by sentences. A section that is only its heading is skipped: its title is in
    the location of the sections under it."""
    _check(size, overlap, "sentences")
    chunks: list[Chunk] = []
    for begin, stop, trail in markdown_sections(text):
        s, e = _trim(text, begin, stop)
        body = text.find("\n", s, e)
        if e <= s or (trail and (body < 0 or not text[body:e].strip())):
            continue
        where = " > ".join(trail)
        meta = {"headings": trail}
        if count_tokens(text[s:e]) <= size:
            chunks.append(Chunk(text[s:e], s, e, where, {"strategy": "markdown", **meta}))
        else:
            parts = chunk_sentences(text, size, overlap, start=s, end=e)
            chunks += [_tag(c, "markdown", where, part=k, **meta) for k, c in enumerate(parts)]
    if not chunks and text.strip():
        s, e = _trim(text, 0, len(text))
        chunks.append(Chunk(text[s:e], s, e, "", {"strategy": "markdown", "headings": []}))
    return chunks


# -- code ----------------------------------------------------------------------------------------


def chunk_code(
    text: str, language: str | None, size: int = DEFAULT_SIZE, overlap: int = 0
) -> list[Chunk]:
    """Functions, classes and methods as chunks (see `code_chunking`); line windows for a
    language without symbol support."""
    from .code_chunking import chunk_code as by_symbols

    return by_symbols(text, language, size, overlap)


def language_for(path_text: str) -> str | None:
    from .code_chunking import language_for as lookup

    return lookup(path_text)


# -- the file-level entry point ------------------------------------------------------------------

MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown", ".mdx"})
_LINE_FILES = (
    ".c .h .cc .cpp .hpp .java .kt .swift .cs .rb .php .sh .bash .zsh .sql .scala .r .pl .toml "
    ".yaml .yml .json .jsonl .xml .html .css .ini .cfg .conf .log .csv .tsv"
)
LINE_EXTENSIONS = frozenset(_LINE_FILES.split())


def choose_strategy(path_text: str) -> str:
    """markdown for .md, code for a language with symbols, lines for other code and data,
    sentences for the rest (prose)."""
    ext = _extension(path_text)
    if ext in MARKDOWN_EXTENSIONS:
        return "markdown"
    if language_for(path_text) is not None:
        return "code"
    return "lines" if ext in LINE_EXTENSIONS else "sentences"


def _extension(path_text: str) -> str:
    name = path_text.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return name[name.rfind(".") :] if "." in name else ""


def chunk_file(
    path_text: str,
    text: str,
    *,
    strategy: str = "auto",
    size: int = DEFAULT_SIZE,
    overlap: int | None = None,
) -> list[Chunk]:
    """Chunk a file's text by the strategy its name suggests (or the one given). `overlap` is in
    the strategy's unit: tokens, sentences (sentences, markdown) or lines (lines, code's line
    windows); None takes the strategy's default. Each chunk's metadata names the path."""
    if strategy not in STRATEGIES:
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"unknown chunking strategy {strategy!r}; one of {', '.join(STRATEGIES)}",
        )
    chosen = choose_strategy(path_text) if strategy == "auto" else strategy
    if chosen == "tokens":
        chunks = chunk_tokens(text, size, 32 if overlap is None else overlap)
    elif chosen == "sentences":
        chunks = chunk_sentences(text, size, 1 if overlap is None else overlap)
    elif chosen == "markdown":
        chunks = chunk_markdown(text, size, 1 if overlap is None else overlap)
    elif chosen == "code":
        chunks = chunk_code(text, language_for(path_text), size, 0 if overlap is None else overlap)
    else:
        chunks = chunk_lines(text, size, 2 if overlap is None else overlap)
    return [
        Chunk(c.text, c.start, c.end, c.location, {**c.metadata, "path": path_text}) for c in chunks
    ]


async def achunk_file(path_text: str, text: str, **options: Any) -> list[Chunk]:
    """`chunk_file` off the event loop: parsing a large file is CPU work."""
    return await asyncio.to_thread(chunk_file, path_text, text, **options)
