"""One typical call of every built-in tool, through the real pipeline: `python -m llmspell.bench
tools [--calls N]`.

A `Runtime` gets every built-in registered under a `Sandbox` whose file root is a temp directory
holding real inputs made before any timing: a 1000-row CSV, a text file, small PNGs (one with
text for OCR), a 4000x3000 JPEG (Pillow; its encoding is not timed), a 2 s WAV and a 2 s MP4
(PyAV), a zip of a few files, a three-page PDF, an XML catalog, a YAML file and a SQLite
database. `echo` is the one command process-executor may run. Nothing leaves the machine: the
tools that reach a service are configured (`[tools.NAME]` settings) to reach local ones started
for the run (`_tool_servers`: an HTTP site with fake search, Slack and GitHub endpoints, an
SMTP server, a TCP server), and the network policy allows those ports of 127.0.0.1 only.
Each tool in the catalog is called with its entry in `TYPICAL` via `runtime.call` (schema
validation, hooks, events, the handler): warm-up calls, then `--calls` timed calls (a fifth of
them for the slow tools), each timed on its own; median and p90 in µs per tool, grouped by
category. A call that writes uses a fresh name each time. Apart, `image-processor` resizes the
4000x3000 JPEG to 800 px wide, and, when Chromium is on PATH, `web-scraper` renders the page
(render = true) three times (median ms). A tool with no entry in `TYPICAL` is printed as "no
typical call"; a call that fails stops the run.
"""

from __future__ import annotations

import asyncio
import io
import math
import statistics
import struct
import tempfile
import time
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmspell.adapters.tools import register_builtins
from llmspell.adapters.tools.web._browser import find_browser
from llmspell.runtime import Result, Runtime
from llmspell.runtime.errors import LLMSpellError
from llmspell.runtime.sandbox import FilePolicy, NetworkPolicy, ProcessPolicy, Sandbox

from ._tool_servers import DATABASE, RENDER, SERVED, Per, Servers, database, serving

WORDS = (
    "The gateway routes each call through the pipeline. Hooks observe the call before and "
    "after it runs. A tool validates its arguments against a JSON Schema! Scripts reach the "
    "same tools as remote clients do. Does the sandbox keep files inside their roots? "
    "Results come back as text, data or binary parts.\n\n"
)
PROSE = WORDS * 16
"""About 5 KB of text in paragraphs: the text file, and the inline text of text tools."""
ITEMS = [{"id": n, "name": f"item-{n}", "score": (n * 37) % 100} for n in range(100)]
OLD_LINES = "\n".join(f"line {n}: value {n * 3}" for n in range(60))
NEW_LINES = OLD_LINES.replace("value 30", "value thirty").replace("line 45", "row 45")
VALUES = [round(math.sin(n / 7) * 50 + n / 10, 3) for n in range(1000)]
XPATH = "//book[price > 20]/title/text()"

TYPICAL: dict[str, dict[str, Any]] = {
    # files
    "file-operations": {"operation": "read", "path": "corpus/notes.txt"},
    "archive-handler": {
        "operation": "extract",
        "path": "bundle.zip",
        "destination": Per("out/unzipped-{i}"),
    },
    "file-watcher": {"paths": ["watched"], "duration": 0.05, "debounce_ms": 10},
    "file-converter": {"operation": "format", "path": "table.csv", "to_format": "json"},
    "file-search": {"path": "corpus", "pattern": "**/*.txt", "regex": "sandbox"},
    "document-reader": {"path": "report.pdf"},
    # data
    "json-processor": {
        "operation": "query",
        "data": {"items": ITEMS},
        "query": "items[?score > `50`].name",
    },
    "csv-analyzer": {"operation": "stats", "path": "table.csv"},
    "data-validation": {
        "data": {"name": "gateway", "port": 8080, "tags": ["mcp", "a2a"], "owner": {"id": 7}},
        "rules": [
            {"field": "name", "required": True, "type": "string", "min_length": 1},
            {"field": "port", "type": "integer", "min": 1, "max": 65535},
            {"field": "tags", "type": "array", "max_length": 10},
            {"field": "owner.id", "required": True, "type": "integer"},
        ],
    },
    "template-engine": {
        "template": "{% for it in items %}{{ it.name }}={{ it.score }}\n{% endfor %}",
        "variables": {"items": ITEMS[:20]},
    },
    "xml-processor": {"operation": "query", "path": "catalog.xml", "xpath": XPATH},
    "yaml-processor": {
        "operation": "query",
        "path": "config.yaml",
        "query": "services[?port > `8000`].name",
    },
    "data-transformer": {
        "rows": ITEMS,
        "steps": [
            {"op": "map", "compute": {"bucket": "score // 25", "double": "score * 2"}},
            {"op": "filter", "where": {"field": "score", "op": ">=", "value": 10}},
            {
                "op": "group",
                "by": ["bucket"],
                "aggregates": [{"fn": "count"}, {"fn": "avg", "field": "score", "as": "mean"}],
            },
            {"op": "sort", "keys": [{"field": "bucket", "order": "desc"}]},
        ],
    },
    "statistical-analyzer": {"operation": "describe", "values": VALUES},
    "text-analyzer": {"operation": "keywords", "text": PROSE, "top": 10},
    # utilities
    "calculator": {"expression": "2 ** 10 + sqrt(16) * x - y / 3", "variables": {"x": 3, "y": 9}},
    "text-manipulator": {"operation": "snake_case", "text": "Hello World From The Gateway"},
    "date-time-handler": {
        "operation": "convert",
        "datetime": "2024-03-10T12:00:00Z",
        "to": "Europe/Paris",
    },
    "uuid-generator": {"version": 4},
    "hash-calculator": {"operation": "hash", "input": PROSE, "algorithm": "sha256"},
    "base64-encoder": {"operation": "encode", "input": PROSE[:1000]},
    "diff-calculator": {"operation": "text", "old": OLD_LINES, "new": NEW_LINES},
    "regex-tool": {"operation": "find_all", "pattern": r"\b[Tt]he \w+", "text": PROSE},
    "text-splitter": {"operation": "sentences", "text": PROSE, "chunk_size": 500},
    "random-generator": {"operation": "password", "length": 20},
    # system
    "environment-reader": {"operation": "get", "name": "PATH"},
    "process-executor": {"command": "echo", "args": ["hello", "gateway"]},
    "system-monitor": {"operation": "memory"},
    # media
    "image-processor": {"operation": "thumbnail", "path": "small.png", "max_size": 128},
    "audio-processor": {"operation": "trim", "path": "tone.wav", "start": 0.5, "end": 1.5},
    "video-processor": {"operation": "thumbnail", "path": "clip.mp4", "time": 1.0},
    "ocr-extractor": {"path": "sign.png", "psm": 7},
    # charts
    "data-visualizer": {
        "type": "bar",
        "data": [{"month": f"2024-{m:02d}", "calls": 100 + m * 37 % 90} for m in range(1, 13)],
        "x": "month",
        "y": "calls",
        "title": "Calls per month",
    },
    # code
    "code-search": {"operation": "definitions", "path": "code", "name": "total*"},
    # ai (the first call of the summarizer loads the embedding model: a warm-up)
    "language-detector": {"text": PROSE[:200], "languages": ["en", "fr", "de", "es"]},
    "sentiment-analyzer": {"text": PROSE},
    "text-summarizer": {"text": PROSE, "sentences": 3},
    "text-classifier": {"text": PROSE[:300], "labels": ["technology", "sports", "cooking"]},
    "named-entity-recognizer": {"text": PROSE},
    "image-analyzer": {"path": "small.png", "colours": 5},
    # knowledge (the bench's runtime has no collection: an honest empty answer)
    "semantic-search": {"collection": "bench", "query": "circuit breaker"},
    "embedding-generator": {"texts": [PROSE], "model": "offline/hash"},
    # web, messaging, database-connector, service-checker: calls that reach a local service
    **SERVED,
}

SLOW = frozenset(
    {
        "file-watcher",
        "process-executor",
        "image-processor",
        "audio-processor",
        "video-processor",
        "ocr-extractor",
        "data-visualizer",
    }
)
"""Tools timed with a fifth of `--calls` (at least one): each call takes milliseconds."""
WARMUP, SLOW_WARMUP = 3, 1
RENDER_CALLS = 3
RESIZE = {"operation": "resize", "path": "photo.jpg", "width": 800}
PHOTO_SIZE = (4000, 3000)


# -- inputs ------------------------------------------------------------------------------------


def _photo() -> bytes:
    """A 4000x3000 JPEG with gradients and grain, so it encodes like a photo, not a flat fill."""
    from PIL import Image

    width, height = PHOTO_SIZE
    ramp = Image.linear_gradient("L")
    red = ramp.resize((width, height))
    blue = ramp.rotate(90).resize((width, height))
    green = Image.effect_noise((width, height), 40)
    buf = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def _png(size: tuple[int, int], text: str | None = None) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    if text is None:
        img = Image.linear_gradient("L").resize(size).convert("RGB")
    else:
        img = Image.new("RGB", size, "white")
        ImageDraw.Draw(img).text((30, 50), text, fill="black", font=ImageFont.load_default(48))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def sine_wav(seconds: float = 2.0, rate: int = 44100) -> bytes:
    """A 440 Hz mono sine as 16-bit WAV, encoded by PyAV."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate, layout="mono")
        total, done = int(seconds * rate), 0
        while done < total:
            count = min(4096, total - done)
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            samples = (
                int(8000 * math.sin(2 * math.pi * 440 * (done + k) / rate)) for k in range(count)
            )
            frame.planes[0].update(struct.pack(f"<{count}h", *samples))
            frame.sample_rate, frame.pts = rate, done
            container.mux(stream.encode(frame))
            done += count
        container.mux(stream.encode(None))
    return buf.getvalue()


def _mp4(seconds: int = 2, fps: int = 25) -> bytes:
    """320x240 MPEG-4 video in MP4, a colour that changes every frame."""
    import av
    from PIL import Image

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for n in range(seconds * fps):
            colour = (n * 5 % 256, 128, 255 - n * 5 % 256)
            image = Image.new("RGB", (320, 240), colour)
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]  # PyAV's stub
            frame.pts = n
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buf.getvalue()


def pdf(*pages: str) -> bytes:
    """A minimal valid PDF with one line of Helvetica text per page."""
    kids = " ".join(f"{4 + 2 * n} 0 R" for n in range(len(pages)))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for n, text in enumerate(pages):
        stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET"
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * n} 0 R >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out + trailer.encode()


def _csv(rows: int = 1000) -> str:
    cities = ("Paris", "Lyon", "Berlin", "Madrid", "Oslo", "Rome", "Vienna")
    lines = ["id,name,city,score,joined"]
    for n in range(rows):
        day = f"2024-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
        lines.append(f"{n},user{n},{cities[n % len(cities)]},{(n * 7919) % 1000 / 10},{day}")
    return "\n".join(lines) + "\n"


def _catalog(books: int = 200) -> str:
    rows = "".join(
        f'<book id="b{n}"><title>Book {n}</title><author>Author {n % 17}</author>'
        f"<price>{(n * 13) % 50 + 0.99}</price><year>{1990 + n % 34}</year></book>"
        for n in range(books)
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<catalog>{rows}</catalog>\n'


def _config(services: int = 40) -> str:
    lines = ["version: 3", "services:"]
    for n in range(services):
        lines += [
            f"  - name: service-{n}",
            f"    port: {7990 + n * 5}",
            f"    replicas: {n % 4 + 1}",
            f"    tags: [tier-{n % 3}, {'public' if n % 2 else 'internal'}]",
        ]
    return "\n".join(lines) + "\n"


def prepare(folder: Path) -> None:
    """Write every input file the typical calls read under `folder` (not timed)."""
    for sub in ("corpus/docs", "watched", "out", "code"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for n in range(20):  # a small source tree for code-search
        (folder / f"code/module{n}.py").write_text(
            f"def total_{n}(items):\n    return sum(items)\n\n\nclass Cart{n}:\n"
            f"    def add(self, item):\n        return total_{n}([item])\n"
        )
    (folder / "corpus/notes.txt").write_text(PROSE)
    for n in range(5):
        (folder / f"corpus/docs/page{n}.txt").write_text(WORDS * (n + 1))
    (folder / "corpus/docs/readme.md").write_text("# Corpus\n\n" + WORDS)
    (folder / "watched/seen.txt").write_text("quiet\n")
    (folder / "table.csv").write_text(_csv())
    (folder / "small.png").write_bytes(_png((640, 480)))
    (folder / "sign.png").write_bytes(_png((900, 160), "Seven gateways"))
    (folder / "photo.jpg").write_bytes(_photo())
    (folder / "tone.wav").write_bytes(sine_wav())
    (folder / "clip.mp4").write_bytes(_mp4())
    (folder / "report.pdf").write_bytes(pdf("First page", "Second page", "Third page"))
    (folder / "catalog.xml").write_text(_catalog())
    (folder / "config.yaml").write_text(_config())
    database(folder / DATABASE)
    with zipfile.ZipFile(folder / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((folder / "corpus").rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())


# -- timing ------------------------------------------------------------------------------------


def _fill(value: Any, facts: dict[str, Any]) -> Any:
    if isinstance(value, Per):
        return value.fill(facts)
    if isinstance(value, dict):
        return {k: _fill(v, facts) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, facts) for v in value]
    return value


class CallFailed(Exception):
    pass


async def _one(runtime: Runtime, name: str, args: dict[str, Any]) -> float:
    """Seconds for one `runtime.call`; an error result or a refusal raises CallFailed."""
    started = time.perf_counter()
    try:
        result: Result = await runtime.call(name, args)
    except LLMSpellError as exc:
        raise CallFailed(f"{exc.code}: {exc.message}") from exc
    seconds = time.perf_counter() - started
    if result.is_error:
        raise CallFailed(str(result.parts[0]) if result.parts else "error result")
    return seconds


async def _series(
    call: Callable[[int], Awaitable[float]], warmup: int, calls: int, counter: list[int]
) -> list[float]:
    """Seconds of each of `calls` timed calls after `warmup` untimed ones."""
    for _ in range(warmup):
        counter[0] += 1
        await call(counter[0])
    times = []
    for _ in range(calls):
        counter[0] += 1
        times.append(await call(counter[0]))
    return times


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


@dataclass
class Row:
    name: str
    category: str
    times: list[float] | None = None
    """Seconds per call; None when the tool has no typical call."""


def _runtime(folder: Path, servers: Servers) -> Runtime:
    """Every built-in under a sandbox whose files are `folder`'s, whose one command is `echo`
    and whose network is the local servers' ports, configured to reach them."""
    sandbox = Sandbox(
        files=FilePolicy(roots=(folder,)),
        process=ProcessPolicy(allow=("echo",)),
        network=NetworkPolicy(allow=servers.allow),
    )
    runtime = Runtime()
    register_builtins(
        runtime.catalog, sandbox, settings=servers.settings(folder / DATABASE), state=runtime.state
    )
    return runtime


@dataclass
class Measured:
    rows: list[Row]
    resized: list[float]
    rendered: list[float] | None = None
    """web-scraper render=true, when a browser was found."""


async def _measure(folder: Path, calls: int) -> Measured:
    async with serving() as servers:
        runtime = _runtime(folder, servers)
        facts = servers.facts()
        counter = [0]
        rows: list[Row] = []
        for component in runtime.catalog.list("tool"):
            row = Row(component.name, component.category or "-")
            rows.append(row)
            template = TYPICAL.get(component.name)
            if template is None:
                continue
            slow = component.name in SLOW

            async def call(i: int, name: str = component.name, tpl: Any = template) -> float:
                return await _one(runtime, name, _fill(tpl, facts | {"i": i}))

            n = max(1, calls // 5) if slow else calls
            try:
                row.times = await _series(call, SLOW_WARMUP if slow else WARMUP, n, counter)
            except CallFailed as exc:
                raise CallFailed(f"{component.name}: {exc}") from None

        async def resize(i: int) -> float:
            return await _one(runtime, "image-processor", RESIZE)

        measured = Measured(rows, await _series(resize, SLOW_WARMUP, max(1, calls // 5), counter))
        if find_browser(None):

            async def render(i: int) -> float:
                return await _one(runtime, "web-scraper", _fill(RENDER, facts))

            try:
                measured.rendered = await _series(render, 1, RENDER_CALLS, counter)
            except CallFailed as exc:
                raise CallFailed(f"web-scraper render=true: {exc}") from None
    return measured


# -- the report --------------------------------------------------------------------------------


def _print(measured: Measured, calls: int) -> None:
    rows, resized = measured.rows, measured.resized
    from llmspell.adapters.tools.registry import CATEGORIES

    order = {c: n for n, c in enumerate(CATEGORIES)}
    print(
        f"tools: one typical call per built-in via runtime.call, median and p90 of {calls} calls "
        f"({max(1, calls // 5)} for {', '.join(sorted(SLOW))})"
    )
    category = None
    for row in sorted(rows, key=lambda r: (order.get(r.category, len(order)), r.category)):
        if row.category != category:
            category = row.category
            print(f"\n[{category}]")
        if row.times is None:
            print(f"tool {row.name:<20} {row.category:<10} no typical call")
            continue
        median, high = statistics.median(row.times) * 1e6, p90(row.times) * 1e6
        print(
            f"tool {row.name:<20} {row.category:<10} "
            f"median_us={median:>10.1f} p90_us={high:>10.1f} calls={len(row.times)}"
        )
    width, height = PHOTO_SIZE
    median, high = statistics.median(resized) * 1e3, p90(resized) * 1e3
    print(
        f"\nresize image-processor {width}x{height} jpeg to 800 px wide "
        f"median_ms={median:.1f} p90_ms={high:.1f} calls={len(resized)}"
    )
    if measured.rendered:
        median, high = statistics.median(measured.rendered) * 1e3, p90(measured.rendered) * 1e3
        print(
            f"render web-scraper render=true (headless Chromium) "
            f"median_ms={median:.1f} p90_ms={high:.1f} calls={len(measured.rendered)}"
        )
    else:
        print("render web-scraper render=true: no Chromium on PATH, not timed")
    stale = sorted(set(TYPICAL) - {row.name for row in rows})
    if stale:
        print(f"typical calls for tools not in the catalog: {', '.join(stale)}")


def run(calls: int = 50) -> int:
    calls = max(1, calls)
    with tempfile.TemporaryDirectory(prefix="llmspell-bench-tools-") as tmp:
        folder = Path(tmp).resolve()
        prepare(folder)
        try:
            measured = asyncio.run(_measure(folder, calls))
        except CallFailed as exc:
            print(f"tools: a typical call failed: {exc}")
            return 1
    _print(measured, calls)
    return 0
