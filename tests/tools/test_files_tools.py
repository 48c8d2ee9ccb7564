"""The `files` built-ins through the real pipeline: archives (zip-slip, bombs), watching,
conversion, search and document text, all confined to the test's temporary root."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from llmspell.adapters.tools.files import archive
from llmspell.runtime import ErrorCode, FilePolicy, LLMSpellError, Runtime, Sandbox

from llmspell.bench.tools import pdf

from .conftest import call, refused, runtime_with

# -- archive-handler ---------------------------------------------------------------------------


def _tree(root: Path) -> None:
    (root / "src" / "sub").mkdir(parents=True)
    (root / "src" / "a.txt").write_text("alpha")
    (root / "src" / "sub" / "b.txt").write_text("beta" * 100)


@pytest.mark.parametrize(
    ("name", "fmt"), [("out.zip", "zip"), ("out.tar", "tar"), ("out.tgz", "tar.gz")]
)
async def test_archive_round_trip(rt: Runtime, tmp_path: Path, name: str, fmt: str) -> None:
    _tree(tmp_path)
    made = await call(rt, "archive-handler", operation="create", path=name, files=["src"])
    assert made.data["format"] == fmt and made.data["entries"] == 4
    listing = await call(rt, "archive-handler", operation="list", path=name)
    files = {e["name"].rstrip("/"): e for e in listing.data["entries"]}
    assert files["src/sub/b.txt"]["size"] == 400 and files["src/sub"]["type"] == "directory"
    assert listing.data["truncated"] is False
    done = await call(rt, "archive-handler", operation="extract", path=name, destination="out")
    assert done.data["bytes"] == 405
    assert (tmp_path / "out/src/sub/b.txt").read_text() == "beta" * 100
    err = await refused(rt, "archive-handler", operation="extract", path=name, destination="out")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert (
        "'src/a.txt' already exists; pass overwrite = true (nothing was extracted)" in err.message
    )
    again = await call(
        rt, "archive-handler", operation="extract", path=name, destination="out", overwrite=True
    )
    assert again.data["bytes"] == 405
    err = await refused(rt, "archive-handler", operation="create", path=name, files=["src"])
    assert err.message == f"archive-handler: {name!r} already exists; pass overwrite = true"


async def test_zip_slip_extracts_nothing(rt: Runtime, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    rt = runtime_with(Sandbox(files=FilePolicy(roots=(root,))))
    with zipfile.ZipFile(root / "evil.zip", "w") as zf:
        zf.writestr("fine.txt", "ok")
        zf.writestr("../../escaped.txt", "pwned")
    err = await refused(
        rt, "archive-handler", operation="extract", path="evil.zip", destination="d"
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        "archive-handler: entry '../../escaped.txt' would extract outside the destination; "
        "nothing was extracted"
    )
    assert not (tmp_path / "escaped.txt").exists() and not (root / "d").exists()


@pytest.mark.parametrize(
    ("member", "link", "fragment"),
    [
        ("../../escaped.txt", None, "entry '../../escaped.txt' would extract outside"),
        ("/tmp/escaped.txt", None, "entry '/tmp/escaped.txt' would extract outside"),
        ("link", "../../..", "symlink entry 'link' points to '../../..', outside the destination"),
        ("link", "/etc", "symlink entry 'link' points to '/etc', outside the destination"),
        (
            "hard",
            "../../escaped.txt",
            "hardlink entry 'hard' points to '../../escaped.txt', outside",
        ),
    ],
)
async def test_tar_slip_extracts_nothing(
    tmp_path: Path, member: str, link: str | None, fragment: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    rt = runtime_with(Sandbox(files=FilePolicy(roots=(root,))))
    with tarfile.open(root / "evil.tar", "w") as tf:
        ok = tarfile.TarInfo("fine.txt")
        ok.size = 2
        tf.addfile(ok, io.BytesIO(b"ok"))
        info = tarfile.TarInfo(member)
        if link is None:
            info.size = 5
            tf.addfile(info, io.BytesIO(b"pwned"))
        else:
            info.type = tarfile.SYMTYPE if member == "link" else tarfile.LNKTYPE
            info.linkname = link
            tf.addfile(info)
            then = tarfile.TarInfo("link/escaped.txt")
            then.size = 5
            tf.addfile(then, io.BytesIO(b"pwned"))
    err = await refused(
        rt, "archive-handler", operation="extract", path="evil.tar", destination="d"
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert fragment in err.message and err.message.endswith("nothing was extracted")
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped.txt").exists()
    assert not (root / "d").exists()


async def test_zip_bomb_is_refused(rt: Runtime, tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", b"\0" * (11 * 1024 * 1024))  # over the 10 MiB write limit
    assert (tmp_path / "bomb.zip").stat().st_size < 100_000
    err = await refused(
        rt, "archive-handler", operation="extract", path="bomb.zip", destination="d"
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        "archive-handler: the archive expands to more than 10485760 bytes (the size limit); "
        "nothing was extracted"
    )
    assert not (tmp_path / "d").exists()
    err = await refused(
        rt, "archive-handler", operation="extract", path="bomb.zip", destination="d", max_bytes=1000
    )
    assert "more than 1000 bytes" in err.message


def test_extract_counts_streamed_bytes(tmp_path: Path) -> None:
    """Headers can understate sizes: the copy itself stops at the cap and removes the file."""
    target = tmp_path / "big.bin"
    with pytest.raises(LLMSpellError) as info:
        archive._stream(io.BytesIO(b"x" * 200_000), target, 0, 100_000, False)
    assert info.value.code == ErrorCode.INVALID_ARGUMENTS
    assert info.value.message == (
        "archive-handler: the archive expands to more than 100000 bytes (the size limit); "
        "extraction stopped"
    )
    assert not target.exists()


async def test_archive_entry_limit_and_bad_input(rt: Runtime, tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as zf:
        for i in range(3):
            zf.writestr(f"f{i}.txt", "x")
    err = await refused(
        rt, "archive-handler", operation="extract", path="many.zip", destination="d", max_entries=2
    )
    assert "more than 2 entries (the entry limit); nothing was extracted" in err.message
    (tmp_path / "fake.zip").write_bytes(b"not a zip at all")
    err = await refused(rt, "archive-handler", operation="list", path="fake.zip")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message.startswith("archive-handler: 'fake.zip' is not a valid zip archive")
    err = await refused(rt, "archive-handler", operation="extract", path="many.zip")
    assert (
        err.code == ErrorCode.INVALID_ARGUMENTS
        and "'destination' is a required property" in err.message
    )
    err = await refused(rt, "archive-handler", operation="list", path="x.zip", format="rar")
    assert err.data["field"] == "format"


async def test_archive_create_denies_symlink_out_of_roots(rt: Runtime, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    outside.write_text("secret")
    try:
        (tmp_path / "dir").mkdir()
        (tmp_path / "dir" / "leak.txt").symlink_to(outside)
        err = await refused(rt, "archive-handler", operation="create", path="a.zip", files=["dir"])
        assert err.code == ErrorCode.DENIED and "is outside the allowed roots" in err.message
        assert not (tmp_path / "a.zip").exists()
    finally:
        outside.unlink()


# -- file-watcher ------------------------------------------------------------------------------


async def test_watcher_reports_changes(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "watched").mkdir()
    task = asyncio.create_task(
        call(rt, "file-watcher", paths=["watched"], duration=10, max_events=1, debounce_ms=50)
    )
    await asyncio.sleep(0.5)
    (tmp_path / "watched" / "new.txt").write_text("hi")
    result = await asyncio.wait_for(task, 10)
    assert result.data["events"] == [{"change": "added", "path": "watched/new.txt"}]
    assert result.data["truncated"] is True and result.data["duration"] < 10


async def test_watcher_quiet_duration_and_refusals(rt: Runtime, tmp_path: Path) -> None:
    result = await call(rt, "file-watcher", duration=0.3)
    assert result.data["events"] == [] and result.text == "no changes"
    err = await refused(rt, "file-watcher", paths=["missing"])
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == "file-watcher: 'missing' does not exist"
    err = await refused(rt, "file-watcher", paths=["/etc"])
    assert err.code == ErrorCode.DENIED
    err = await refused(rt, "file-watcher", duration=1000)
    assert err.data["field"] == "duration" and "maximum of 300" in err.message


async def test_watcher_stops_when_cancelled(rt: Runtime) -> None:
    started = time.monotonic()
    task = asyncio.create_task(call(rt, "file-watcher", duration=120))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 3
    started = time.monotonic()
    with pytest.raises(LLMSpellError) as info:
        await rt.call("file-watcher", {"duration": 120}, timeout=0.3)
    assert info.value.code == ErrorCode.TIMEOUT
    assert info.value.message == "tool 'file-watcher' timed out"
    assert time.monotonic() - started < 3


# -- file-converter ----------------------------------------------------------------------------


async def test_converter_encodings(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("café naïve".encode("latin-1"))
    result = await call(
        rt,
        "file-converter",
        operation="encoding",
        path="latin.txt",
        from_encoding="latin-1",
        output="utf8.txt",
    )
    assert (tmp_path / "utf8.txt").read_bytes() == "café naïve".encode()
    assert result.data["from_encoding"] == "iso8859-1" and result.data["to_encoding"] == "utf-8"
    guessed = await call(rt, "file-converter", operation="encoding", path="latin.txt")
    assert guessed.text == "café naïve" and guessed.data["from_encoding"] == "cp1252"
    back = await call(
        rt, "file-converter", operation="encoding", content="é", to_encoding="latin-1"
    )
    assert base64.b64decode(back.data["base64"]) == b"\xe9"
    err = await refused(
        rt, "file-converter", operation="encoding", content="€ ok", to_encoding="latin-1"
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        "file-converter: '€' (position 0) cannot be written in iso8859-1; "
        "pass errors = 'replace' or 'ignore'"
    )
    err = await refused(rt, "file-converter", operation="encoding", content="x", to_encoding="nope")
    assert err.message == "file-converter: unknown encoding 'nope'"
    err = await refused(rt, "file-converter", operation="encoding", path="utf8.txt", content="x")
    assert "give either 'path'" in err.message


async def test_converter_line_endings(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "unix.txt").write_bytes(b"a\nb\r\nc\rd")
    await call(
        rt,
        "file-converter",
        operation="line_endings",
        path="unix.txt",
        newline="crlf",
        output="w.txt",
    )
    assert (tmp_path / "w.txt").read_bytes() == b"a\r\nb\r\nc\r\nd"
    lf = await call(rt, "file-converter", operation="line_endings", content="x\r\ny", newline="lf")
    assert lf.text == "x\ny" and lf.data["lines"] == 1
    err = await refused(rt, "file-converter", operation="line_endings", content="x")
    assert "'newline' is a required property" in err.message


async def test_converter_data_formats(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("name,age\nAda,36\nAlan,41\n")
    as_json = await call(
        rt, "file-converter", operation="format", path="people.csv", to_format="json"
    )
    assert json.loads(as_json.text) == [{"name": "Ada", "age": "36"}, {"name": "Alan", "age": "41"}]
    as_yaml = await call(
        rt,
        "file-converter",
        operation="format",
        content=as_json.text,
        from_format="json",
        to_format="yaml",
    )
    assert yaml.safe_load(as_yaml.text) == json.loads(as_json.text)
    await call(
        rt,
        "file-converter",
        operation="format",
        content="- {a: 1, b: {c: 2}}\n- {a: 3}\n",
        from_format="yaml",
        to_format="csv",
        output="out.csv",
    )
    assert (tmp_path / "out.csv").read_text() == 'a,b\n1,"{""c"": 2}"\n3,\n'
    err = await refused(
        rt,
        "file-converter",
        operation="format",
        content="{bad",
        from_format="json",
        to_format="yaml",
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        "file-converter: the input is not valid JSON (line 1, column 2: "
        "Expecting property name enclosed in double quotes)"
    )
    err = await refused(rt, "file-converter", operation="format", content="a: 1", to_format="csv")
    assert "cannot tell the input's format; pass from_format" in err.message
    err = await refused(
        rt, "file-converter", operation="format", content="42", from_format="json", to_format="csv"
    )
    assert err.message == "file-converter: CSV output needs a list of objects or of rows, not int"


async def test_converter_sandbox(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    rt = runtime_with(Sandbox(files=FilePolicy(roots=(root,), max_write=4)))
    err = await refused(rt, "file-converter", operation="encoding", path="link.txt")
    assert err.code == ErrorCode.DENIED
    assert err.message.startswith("file-converter: 'link.txt' is outside the allowed roots")
    err = await refused(rt, "file-converter", operation="encoding", content="x", output="../x.txt")
    assert err.code == ErrorCode.DENIED
    err = await refused(rt, "file-converter", operation="encoding", content="hello", output="o.txt")
    assert err.message == "file-converter: 'o.txt': 5 bytes is over the 4-byte write limit"
    assert not (root / "o.txt").exists() and not (tmp_path / "x.txt").exists()


# -- file-search -------------------------------------------------------------------------------


async def test_search_glob_and_regex(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("import os\n\ndef main():\n    return os.sep\n")
    (tmp_path / "pkg" / "b.py").write_text("print('hi')\n")
    (tmp_path / "pkg" / "blob.py").write_bytes(b"os\x00\x01binary")
    (tmp_path / "notes.md").write_text("os notes\n")
    found = await call(rt, "file-search", pattern="**/*.py")
    assert [r["path"] for r in found.data["results"]] == ["pkg/a.py", "pkg/b.py", "pkg/blob.py"]
    lines = await call(
        rt, "file-search", path="pkg", pattern="*.py", regex=r"\bOS\b", ignore_case=True
    )
    assert lines.data["results"] == [
        {"path": "pkg/a.py", "line": 1, "text": "import os"},
        {"path": "pkg/a.py", "line": 4, "text": "    return os.sep"},
    ]
    assert lines.data["skipped"] == 1 and lines.data["truncated"] is False
    few = await call(rt, "file-search", regex="os", max_results=1)
    assert len(few.data["results"]) == 1 and few.data["truncated"] is True
    err = await refused(rt, "file-search", regex="(")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message.startswith("file-search: invalid regex '(': missing ), unterminated")
    err = await refused(rt, "file-search", pattern="../*")
    assert err.message == "file-search: pattern '../*' must be relative and must not contain '..'"
    err = await refused(rt, "file-search", max_results=0)
    assert err.data["field"] == "max_results"


async def test_search_skips_symlinks_out_of_roots(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("password")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    (root / "plain.txt").write_text("password here")
    rt = runtime_with(Sandbox(files=FilePolicy(roots=(root,))))
    result = await call(rt, "file-search", regex="password")
    assert [r["path"] for r in result.data["results"]] == ["plain.txt"]
    assert result.data["skipped"] == 1
    err = await refused(rt, "file-search", path="..")
    assert err.code == ErrorCode.DENIED


# -- document-reader ---------------------------------------------------------------------------


async def test_documentpdf(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "doc.pdf").write_bytes(pdf("First page", "Second page", "Third page"))
    full = await call(rt, "document-reader", path="doc.pdf")
    assert full.data["pages"] == 3 and full.data["format"] == "pdf"
    assert full.text == "First page\n\nSecond page\n\nThird page"
    some = await call(
        rt,
        "document-reader",
        data=base64.b64encode(pdf("One", "Two", "Three")).decode(),
        pages="2-3",
    )
    assert some.text == "Two\n\nThree" and some.data["pages_read"] == [2, 3]
    err = await refused(rt, "document-reader", path="doc.pdf", pages="4")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == "document-reader: page 4 is out of range (the document has 3 pages)"
    err = await refused(rt, "document-reader", path="doc.pdf", pages="first")
    assert err.data["field"] == "pages"
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\ngarbage")
    err = await refused(rt, "document-reader", path="broken.pdf")
    assert err.message.startswith("document-reader: not a valid PDF")


async def test_document_docx(rt: Runtime, tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Report", level=1)
    document.add_paragraph("Plain words.")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([("k", "v"), ("a", "1")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.save(str(tmp_path / "report.docx"))
    result = await call(rt, "document-reader", path="report.docx")
    assert result.text == "# Report\n\nPlain words.\n\nk | v\na | 1"
    assert result.data["tables"] == 1
    (tmp_path / "unnamed").write_bytes((tmp_path / "report.docx").read_bytes())
    assert (await call(rt, "document-reader", path="unnamed")).data["format"] == "docx"


async def test_document_html_text_and_refusals(rt: Runtime, tmp_path: Path) -> None:
    html = (
        "<html><head><script>var x = 1;</script></head>"
        "<body><h2>Title</h2><p>See <a href='https://x.org'>this</a>.</p></body></html>"
    )
    result = await call(rt, "document-reader", data=base64.b64encode(html.encode()).decode())
    assert result.data["format"] == "html"
    assert result.text == "## Title\n\nSee [this](https://x.org)."
    (tmp_path / "old.txt").write_bytes("résumé".encode("latin-1"))
    text = await call(rt, "document-reader", path="old.txt", max_chars=3)
    assert text.text == "rés" and text.data["truncated"] is True
    err = await refused(rt, "document-reader", path="old.txt", pages="1")
    assert err.message == "document-reader: 'pages' applies to PDF documents only"
    err = await refused(rt, "document-reader", data=base64.b64encode(b"\x00\x01\x02").decode())
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        "document-reader: cannot tell the document's format; pass format (pdf, docx, html, text)"
    )
    err = await refused(rt, "document-reader", data="***")
    assert err.message == "document-reader: 'data' is not valid base64"
    err = await refused(rt, "document-reader", path="/etc/hostname")
    assert err.code == ErrorCode.DENIED


async def test_document_reader_names_the_missing_extra(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pypdf", None)
    (tmp_path / "doc.pdf").write_bytes(pdf("x"))
    err = await refused(rt, "document-reader", path="doc.pdf")
    assert err.code == ErrorCode.NOT_CONFIGURED
    assert err.message == (
        "document-reader: needs the 'docs' extra (pip install 'llmspell[docs]'); "
        "pypdf is not installed"
    )


async def test_files_tools_are_listed_with_honest_annotations(rt: Runtime) -> None:
    names = {
        "archive-handler": False,
        "file-watcher": True,
        "file-converter": False,
        "file-search": True,
        "document-reader": True,
    }
    for name, read_only in names.items():
        component = rt.catalog.get(name)
        assert component.category == "files"
        assert component.annotations.read_only is read_only
        assert component.annotations.open_world is False
