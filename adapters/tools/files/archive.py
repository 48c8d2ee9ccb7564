"""`archive-handler`: lists, extracts and creates zip and tar (gzip) archives inside the roots.

An archive is untrusted input: every entry is checked before the first byte is written (no
`..`, no absolute name, no link leading out of the destination, declared sizes and entry count
under the caps), and bytes are counted again while extracting, so neither zip-slip nor a
decompression bomb gets through on a lie in the headers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat as stat_mod
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from llmspell.runtime import Annotations, Component, ErrorCode, LLMSpellError, Result

from .._common import answer, refuse, tool
from ..sandbox.files import Roots

NAME = "archive-handler"
MAX_ENTRIES = 10_000
CHUNK = 64 * 1024
FORMATS = ("zip", "tar", "tar.gz", "tgz")
NOTHING = "nothing was extracted"


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    """Relative to the destination, `/`-separated, without `.` parts."""
    kind: str
    """file, directory, symlink, hardlink or other (a device or pipe)."""
    size: int
    link: str = ""
    member: Any = None


def _clean(name: str) -> str:
    """The entry's name relative to the destination, or refuse a name that could land elsewhere
    (zip-slip: `../x`, `/etc/x`, `C:\\x`)."""
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise refuse(NAME, f"entry {name!r} would extract outside the destination; {NOTHING}")
    return "/".join(p for p in parts if p not in ("", "."))


def _inside(path: str | Path, dest: Path) -> bool:
    path = Path(os.path.normpath(path))
    return path == dest or path.is_relative_to(dest)


def _format_of(target: Path, given: str | None) -> str:
    if given:
        return "tar.gz" if given == "tgz" else given
    name = target.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if name.endswith(".tar"):
        return "tar"
    if target.is_file():
        if zipfile.is_zipfile(target):
            return "zip"
        if tarfile.is_tarfile(target):
            with target.open("rb") as fh:
                return "tar.gz" if fh.read(2) == b"\x1f\x8b" else "tar"
    raise refuse(
        NAME, f"cannot tell the archive format of {target.name!r}; pass format (zip, tar, tar.gz)"
    )


def _open(target: Path, fmt: str) -> zipfile.ZipFile | tarfile.TarFile:
    try:
        if fmt == "zip":
            return zipfile.ZipFile(target)
        return tarfile.open(target, "r:*")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise refuse(NAME, f"{target.name!r} is not a valid {fmt} archive ({exc})") from None


def _entries(archive: zipfile.ZipFile | tarfile.TarFile, limit: int) -> tuple[list[Entry], bool]:
    """Up to `limit` entries, and whether there were more (a tar is read lazily)."""
    found: list[Entry] = []
    members = archive.infolist() if isinstance(archive, zipfile.ZipFile) else archive
    for member in members:
        if len(found) >= limit:
            return found, True
        if isinstance(archive, zipfile.ZipFile) and isinstance(member, zipfile.ZipInfo):
            found.append(_zip_entry(archive, member))
        elif isinstance(member, tarfile.TarInfo):
            kind = (
                "file"
                if member.isfile()
                else "directory"
                if member.isdir()
                else "symlink"
                if member.issym()
                else "hardlink"
                if member.islnk()
                else "other"
            )
            size = member.size if kind == "file" else 0
            found.append(Entry(member.name, kind, size, member.linkname, member))
    return found, False


def _zip_entry(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Entry:
    if member.create_system == 3 and stat_mod.S_ISLNK(member.external_attr >> 16):
        if member.file_size > 4096:
            raise refuse(NAME, f"symlink entry {member.filename!r} is implausibly large")
        link = archive.read(member).decode("utf-8", "replace")
        return Entry(member.filename, "symlink", 0, link, member)
    if member.is_dir():
        return Entry(member.filename, "directory", 0, member=member)
    return Entry(member.filename, "file", member.file_size, member=member)


def _plan(
    archive: zipfile.ZipFile | tarfile.TarFile,
    dest: Path,
    cap: int,
    max_entries: int,
    overwrite: bool,
) -> list[Entry]:
    """Check every entry before anything is written: a refusal here leaves the disk untouched."""
    entries, more = _entries(archive, max_entries)
    if more:
        raise refuse(
            NAME, f"the archive has more than {max_entries} entries (the entry limit); {NOTHING}"
        )
    total = 0
    planned: list[Entry] = []
    for entry in entries:
        name = _clean(entry.name)
        if not name:
            continue
        if entry.kind == "other":
            raise refuse(NAME, f"entry {entry.name!r} is a device or pipe; {NOTHING}")
        target = dest / name
        if entry.kind in ("symlink", "hardlink"):
            base = target.parent if entry.kind == "symlink" else dest
            if os.path.isabs(entry.link) or not _inside(base / entry.link, dest):
                raise refuse(
                    NAME,
                    f"{entry.kind} entry {entry.name!r} points to {entry.link!r}, "
                    f"outside the destination; {NOTHING}",
                )
        if isinstance(entry.member, tarfile.TarInfo):
            try:
                tarfile.data_filter(entry.member, str(dest))
            except tarfile.FilterError as exc:
                raise refuse(NAME, f"entry {entry.name!r}: {exc}; {NOTHING}") from None
        if not _inside(target.parent.resolve(), dest):
            raise refuse(
                NAME,
                f"entry {entry.name!r} would extract through a link out of the destination; "
                + NOTHING,
            )
        if entry.kind != "directory" and os.path.lexists(target) and not overwrite:
            raise refuse(NAME, f"{name!r} already exists; pass overwrite = true ({NOTHING})")
        total += entry.size
        if total > cap:
            raise refuse(
                NAME,
                f"the archive expands to more than {cap} bytes (the size limit); {NOTHING}",
            )
        planned.append(Entry(name, entry.kind, entry.size, entry.link, entry.member))
    return planned


def _stream(source: IO[bytes], target: Path, written: int, cap: int, executable: bool) -> int:
    """Copy one entry, counting bytes against the cap (headers can lie about sizes)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o755 if executable else 0o644)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > cap:
                out.close()
                target.unlink()
                raise refuse(
                    NAME,
                    f"the archive expands to more than {cap} bytes (the size limit); "
                    "extraction stopped",
                )
            out.write(chunk)
    return written


def _extract(
    archive: zipfile.ZipFile | tarfile.TarFile, dest: Path, plan: list[Entry], cap: int
) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    written = 0
    for entry in plan:
        target = dest / entry.name
        if entry.kind == "directory":
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if not _inside(target.parent.resolve(), dest):  # an earlier entry's link
            raise LLMSpellError(
                ErrorCode.DENIED, f"{NAME}: entry {entry.name!r} leads out of the destination"
            )
        if target.is_symlink() or (entry.kind != "file" and os.path.lexists(target)):
            target.unlink()
        if entry.kind == "symlink":
            os.symlink(entry.link, target)
        elif entry.kind == "hardlink":
            source = dest / _clean(entry.link)
            if not _inside(source.resolve(), dest) or not source.is_file():
                raise refuse(NAME, f"hardlink entry {entry.name!r} has no target in the archive")
            os.link(source, target)
        elif isinstance(archive, zipfile.ZipFile):
            executable = bool((entry.member.external_attr >> 16) & 0o100)
            with archive.open(entry.member) as source_fh:
                written = _stream(source_fh, target, written, cap, executable)
        else:
            handle = archive.extractfile(entry.member)
            assert handle is not None
            with handle:
                written = _stream(handle, target, written, cap, bool(entry.member.mode & 0o100))
    return written


def _sources(roots: Roots, files: list[str], base: Path, base_shown: str) -> list[tuple[Path, str]]:
    """(real path, name in the archive) for each file and directory, walked; every one is
    resolved through the roots, so a symlink out of them is denied rather than archived."""
    found: list[tuple[Path, str]] = []
    for given in files:
        lexical = Path(os.path.normpath(roots.paths[0] / given))
        real = roots.resolve(NAME, given)
        if not real.exists():
            raise refuse(NAME, f"{given!r} does not exist")
        if not _inside(lexical, base):
            raise refuse(NAME, f"{given!r} is not under the base directory {base_shown!r}")
        if lexical != base:  # the base itself has no name inside the archive
            found.append((real, lexical.relative_to(base).as_posix()))
        if real.is_dir():
            for folder, dirs, names in os.walk(real):
                for child in sorted(dirs) + sorted(names):
                    path = Path(folder) / child
                    arcname = (lexical / path.relative_to(real)).relative_to(base).as_posix()
                    resolved = roots.resolve(NAME, str(path))
                    if resolved.is_dir() and path.is_symlink():
                        continue  # a link to a directory inside the roots: not followed
                    found.append((resolved, arcname))
    return found


def _create(roots: Roots, args: dict[str, Any], cap: int, max_entries: int) -> Result:
    shown: str = args["path"]
    target = roots.resolve(NAME, shown)
    fmt = _format_of(target, args.get("format"))
    if os.path.lexists(target) and not args.get("overwrite"):
        raise refuse(NAME, f"{shown!r} already exists; pass overwrite = true")
    base_shown: str = args.get("base", ".")
    base = Path(os.path.normpath(roots.paths[0] / base_shown))
    roots.resolve(NAME, base_shown)
    sources = _sources(roots, args["files"], base, base_shown)
    if len(sources) > max_entries:
        raise refuse(NAME, f"{len(sources)} entries is over the {max_entries}-entry limit")
    total = sum(p.stat().st_size for p, _ in sources if p.is_file())
    if total > cap:
        raise refuse(NAME, f"the files total {total} bytes, over the {cap}-byte limit")
    partial = target.with_name(f".{target.name}.partial")
    try:
        if fmt == "zip":
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
                for path, arcname in sources:
                    zf.write(path, arcname)
        else:
            with tarfile.open(partial, "w:gz" if fmt == "tar.gz" else "w") as tf:
                for path, arcname in sources:
                    tf.add(path, arcname, recursive=False)
        os.replace(partial, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    size = target.stat().st_size
    return answer(
        f"created {shown} ({fmt}, {len(sources)} entries, {size} bytes)",
        {"path": shown, "format": fmt, "entries": len(sources), "bytes": size},
    )


def _run(roots: Roots, args: dict[str, Any]) -> Result:
    op: str = args["operation"]
    cap = min(args.get("max_bytes", roots.max_write), roots.max_write)
    max_entries = min(args.get("max_entries", MAX_ENTRIES), MAX_ENTRIES)
    if op == "create":
        return _create(roots, args, cap, max_entries)
    shown: str = args["path"]
    target = roots.resolve(NAME, shown)
    if not target.is_file():
        raise refuse(NAME, f"{shown!r} does not exist or is not a file")
    if target.stat().st_size > roots.max_read:
        raise refuse(NAME, f"{shown!r} is over the {roots.max_read}-byte read limit")
    fmt = _format_of(target, args.get("format"))
    with _open(target, fmt) as archive:
        if op == "list":
            entries, more = _entries(archive, max_entries)
            rows = [{"name": e.name, "type": e.kind, "size": e.size} for e in entries]
            for row, e in zip(rows, entries, strict=True):
                if e.link:
                    row["link"] = e.link
            text = "\n".join(f"{r['name']}\t{r['type']}\t{r['size']}" for r in rows)
            return answer(
                text,
                {
                    "path": shown,
                    "format": fmt,
                    "entries": rows,
                    "total_size": sum(e.size for e in entries),
                    "truncated": more,
                },
            )
        dest_shown: str = args["destination"]
        dest = roots.resolve(NAME, dest_shown)
        if dest.exists() and not dest.is_dir():
            raise refuse(NAME, f"destination {dest_shown!r} is not a directory")
        plan = _plan(archive, dest, cap, max_entries, bool(args.get("overwrite")))
        written = _extract(archive, dest, plan, cap)
    return answer(
        f"extracted {len(plan)} entries ({written} bytes) to {dest_shown}",
        {
            "path": shown,
            "destination": dest_shown,
            "format": fmt,
            "entries": [e.name for e in plan],
            "bytes": written,
        },
    )


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        try:
            return await asyncio.to_thread(_run, roots, args)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
            raise refuse(NAME, f"{args['path']!r} is damaged ({exc})") from None

    return tool(
        NAME,
        "Lists, extracts and creates zip, tar and tar.gz archives inside the allowed roots. "
        "Extraction refuses entries that would land outside the destination and archives that "
        "expand past the size or entry limit, before writing anything.",
        {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "The archive (read for list/extract, written by create)",
            },
            "destination": {
                "type": "string",
                "minLength": 1,
                "description": "extract: the directory to extract into (created if missing)",
            },
            "files": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "description": "create: files and directories (walked) to put in the archive",
            },
            "base": {
                "type": "string",
                "description": "create: names in the archive are relative to this directory "
                "(default: the first root)",
            },
            "format": {"type": "string", "enum": list(FORMATS)},
            "overwrite": {
                "type": "boolean",
                "description": "extract: replace existing files; create: replace the archive",
            },
            "max_bytes": {
                "type": "integer",
                "minimum": 1,
                "description": "Cap on the uncompressed total (never above the write limit)",
            },
            "max_entries": {"type": "integer", "minimum": 1, "maximum": MAX_ENTRIES},
        },
        handle,
        required=["path"],
        operations={"list": [], "extract": ["destination"], "create": ["files"]},
        annotations=Annotations(
            read_only=False, destructive=True, idempotent=False, open_world=False
        ),
    )
