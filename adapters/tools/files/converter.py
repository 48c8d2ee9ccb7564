"""`file-converter`: text encodings, line endings and CSV/JSON/YAML, from a file in the roots or
inline content, returned or written to a file in the roots (under the write cap).

Only the standard library's codecs are used to guess an encoding (a BOM, then strict UTF-8,
then cp1252 and latin-1), which is right for the common cases and never refuses to decode."""

from __future__ import annotations

import asyncio
import base64
import codecs
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from llmspell.runtime import Annotations, Component, Result

from .._common import answer, refuse, tool
from ..sandbox.files import Roots

NAME = "file-converter"
NEWLINES = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}
DATA_FORMATS = ("csv", "json", "yaml")
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise refuse(NAME, f"unknown encoding {name!r}") from None


def decode(data: bytes, encoding: str, shown: str) -> tuple[str, str]:
    """The text and the encoding it was read with ('auto' guesses)."""
    if encoding == "auto":
        for bom, name in BOMS:
            if data.startswith(bom):
                return data.decode(name), name
        for name in ("utf-8", "cp1252"):
            try:
                return data.decode(name), name
            except UnicodeDecodeError:
                continue
        return data.decode("latin-1"), "latin-1"
    name = _codec(encoding)
    try:
        return data.decode(name), name
    except UnicodeDecodeError as exc:
        raise refuse(NAME, f"{shown} is not valid {name} (byte {exc.start})") from None


def _parse(text: str, fmt: str, delimiter: str) -> Any:
    if fmt == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise refuse(
                NAME,
                f"the input is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            ) from None
    if fmt == "yaml":
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            reason = " ".join(str(exc).split())
            raise refuse(NAME, f"the input is not valid YAML ({reason})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[dict[str, Any]] = []
    try:
        for row in reader:
            if None in row:
                raise refuse(NAME, f"CSV line {reader.line_num} has more fields than the header")
            rows.append({k: "" if v is None else v for k, v in row.items()})
    except csv.Error as exc:
        raise refuse(NAME, f"the input is not valid CSV (line {reader.line_num}: {exc})") from None
    return rows


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _dump(value: Any, fmt: str, delimiter: str) -> str:
    if fmt == "json":
        return json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "yaml":
        import yaml

        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)
    out = io.StringIO()
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list) and all(isinstance(r, dict) for r in value):
        columns = list(dict.fromkeys(k for row in value for k in row))
        writer = csv.DictWriter(out, columns, delimiter=delimiter, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in value)
    elif isinstance(value, list) and all(isinstance(r, list) for r in value):
        rows = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        rows.writerows([_cell(v) for v in row] for row in value)
    else:
        raise refuse(
            NAME, f"CSV output needs a list of objects or of rows, not {type(value).__name__}"
        )
    return out.getvalue()


def _format_of(args: dict[str, Any]) -> str:
    if "from_format" in args:
        return str(args["from_format"])
    suffix = Path(args.get("path", "")).suffix.lower().lstrip(".")
    suffix = "yaml" if suffix == "yml" else suffix
    if suffix in DATA_FORMATS:
        return suffix
    raise refuse(NAME, "cannot tell the input's format; pass from_format (csv, json or yaml)")


def _convert(args: dict[str, Any], raw: bytes | None) -> tuple[str, bytes, dict[str, Any]]:
    """(the output text, its bytes, what was done)."""
    op: str = args["operation"]
    if raw is None:
        text, source = args["content"], "utf-8"
    else:
        text, source = decode(raw, args.get("from_encoding", "auto"), repr(args["path"]))
    target = _codec(args.get("to_encoding") or (source if op == "line_endings" else "utf-8"))
    info: dict[str, Any] = {"from_encoding": source, "to_encoding": target}
    if op == "line_endings":
        newline = NEWLINES[args["newline"]]
        info["newline"] = args["newline"]
        info["lines"] = len(re.findall(r"\r\n|\r|\n", text))
        text = re.sub(r"\r\n|\r|\n", newline, text)
    elif op == "format":
        fmt = _format_of(args)
        delimiter: str = args.get("delimiter", ",")
        info.update(from_format=fmt, to_format=args["to_format"])
        text = _dump(_parse(text, fmt, delimiter), args["to_format"], delimiter)
    try:
        data = text.encode(target, args.get("errors", "strict"))
    except UnicodeEncodeError as exc:
        raise refuse(
            NAME,
            f"{text[exc.start : exc.end]!r} (position {exc.start}) cannot be written in "
            f"{target}; pass errors = 'replace' or 'ignore'",
        ) from None
    return text, data, info


def _write(roots: Roots, shown: str, data: bytes) -> None:
    roots.check_write(NAME, shown, len(data))
    target = roots.resolve(NAME, shown)
    if not target.parent.is_dir():
        raise refuse(NAME, f"the directory of {shown!r} does not exist")
    if target.is_dir():
        raise refuse(NAME, f"{shown!r} is a directory")
    target.write_bytes(data)


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        if ("path" in args) == ("content" in args):
            raise refuse(NAME, "give either 'path' (a file inside the allowed roots) or 'content'")
        raw = None
        if "path" in args:
            raw = await roots.read_bytes(NAME, args["path"])
        elif len(args["content"].encode("utf-8", "surrogatepass")) > roots.max_read:
            raise refuse(NAME, f"'content' is over the {roots.max_read}-byte read limit")
        text, data, info = await asyncio.to_thread(_convert, args, raw)
        info["bytes"] = len(data)
        if "output" in args:
            await asyncio.to_thread(_write, roots, args["output"], data)
            info["output"] = args["output"]
            return answer(f"wrote {len(data)} bytes to {args['output']}", info)
        info["content"] = text
        if args["operation"] == "encoding":
            info["base64"] = base64.b64encode(data).decode("ascii")
        return answer(text, info)

    encodings = "Python codec name, e.g. utf-8, latin-1, cp1252, utf-16"
    return tool(
        NAME,
        "Converts text between encodings (e.g. latin-1 to utf-8), line endings (lf, crlf, cr) "
        "and data formats (CSV, JSON, YAML). Input is a file inside the allowed roots or inline "
        "content; the result is returned or written to 'output' inside the roots.",
        {
            "path": {"type": "string", "minLength": 1, "description": "The input file"},
            "content": {"type": "string", "description": "The input text, instead of a path"},
            "output": {
                "type": "string",
                "minLength": 1,
                "description": "Write the result here (replacing it) instead of returning it",
            },
            "from_encoding": {
                "type": "string",
                "default": "auto",
                "description": f"The input file's encoding: 'auto' guesses; {encodings}",
            },
            "to_encoding": {
                "type": "string",
                "description": f"The output's encoding ({encodings}); default utf-8 for "
                "encoding and format, the input's for line_endings",
            },
            "errors": {
                "type": "string",
                "enum": ["strict", "replace", "ignore"],
                "default": "strict",
                "description": "What to do with characters the output encoding cannot hold",
            },
            "newline": {"type": "string", "enum": list(NEWLINES)},
            "from_format": {"type": "string", "enum": list(DATA_FORMATS)},
            "to_format": {"type": "string", "enum": list(DATA_FORMATS)},
            "delimiter": {"type": "string", "minLength": 1, "maxLength": 1, "default": ","},
        },
        handle,
        operations={"encoding": [], "line_endings": ["newline"], "format": ["to_format"]},
        annotations=Annotations(
            read_only=False, destructive=True, idempotent=True, open_world=False
        ),
    )
