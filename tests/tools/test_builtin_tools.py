"""Built-in tools through the real pipeline: schemas, operations, refusals and the file sandbox."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llmspell.adapters.tools import register_builtins
from llmspell.runtime import ErrorCode, Runtime

from .conftest import call, refused

# -- calculator --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2 + 3", 5),
        ("7 / 2", 3.5),
        ("2 ** 10 + sqrt(16)", 1028),
        ("max(3, 9, 4) % 5", 4),
        ("round(pi, 3)", 3.142),
        ("floor(-2.5) + ceil(2.1)", 0),
        ("10 // 3", 3),
        ("factorial(5)", 120),
    ],
)
async def test_calculator(rt: Runtime, expression: str, expected: float) -> None:
    result = await call(rt, "calculator", expression=expression)
    assert result.data["result"] == expected
    assert type(result.data["result"]) is type(expected)
    assert result.text == str(expected)


async def test_calculator_variables(rt: Runtime) -> None:
    result = await call(
        rt, "calculator", expression="rate * hours", variables={"rate": 12.5, "hours": 4}
    )
    assert result.data["result"] == 50


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("1 / 0", "division by zero"),
        ("2 ** 100000", "exponent"),
        ("__import__('os')", "__import__"),
        ("(1).__class__", "cannot evaluate"),
        ("nope + 1", "unknown name 'nope'"),
        ("factorial(10000)", "factorial"),
        ("'a' * 3", "not a number"),
    ],
)
async def test_calculator_refuses(rt: Runtime, expression: str, fragment: str) -> None:
    err = await refused(rt, "calculator", expression=expression)
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert fragment in err.message


async def test_schema_names_missing_and_wrong_fields(rt: Runtime) -> None:
    err = await refused(rt, "calculator")
    assert err.code == ErrorCode.INVALID_ARGUMENTS and err.data["field"] == "expression"
    err = await refused(rt, "calculator", expression=3)
    assert err.data["field"] == "expression" and "not of type 'string'" in err.message
    err = await refused(rt, "text-manipulator", operation="replace", text="x")
    assert "'pattern' is a required property" in err.message
    err = await refused(rt, "text-manipulator", operation="shout", text="x")
    assert err.data["field"] == "operation"


# -- uuid, hash, base64 ------------------------------------------------------------------------


async def test_uuid_generator(rt: Runtime) -> None:
    many = await call(rt, "uuid-generator", count=3)
    assert len(set(many.data["uuids"])) == 3 and all(
        uuid.UUID(u).version == 4 for u in many.data["uuids"]
    )
    v5 = await call(rt, "uuid-generator", version=5, namespace="dns", name="example.org")
    assert v5.data["uuids"] == [str(uuid.uuid5(uuid.NAMESPACE_DNS, "example.org"))]
    simple = await call(rt, "uuid-generator", format="simple")
    assert len(simple.text) == 32 and "-" not in simple.text
    err = await refused(rt, "uuid-generator", version=5)
    assert "name" in err.message


@pytest.mark.parametrize("algorithm", ["md5", "sha1", "sha256", "sha512"])
async def test_hash_text_and_verify(rt: Runtime, algorithm: str) -> None:
    expected = hashlib.new(algorithm, "héllo".encode()).hexdigest()
    result = await call(rt, "hash-calculator", operation="hash", algorithm=algorithm, input="héllo")
    assert result.text == expected
    ok = await call(
        rt,
        "hash-calculator",
        operation="verify",
        algorithm=algorithm,
        input="héllo",
        expected=expected.upper(),
    )
    assert ok.data["valid"] is True
    bad = await call(
        rt,
        "hash-calculator",
        operation="verify",
        algorithm=algorithm,
        input="hello",
        expected=expected,
    )
    assert bad.data["valid"] is False and bad.text == "mismatch"


async def test_hash_file_inside_roots_only(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "data.bin").write_bytes(b"\x00\x01payload")
    result = await call(rt, "hash-calculator", operation="hash", file="data.bin", encoding="base64")
    assert result.text == base64.b64encode(hashlib.sha256(b"\x00\x01payload").digest()).decode()
    err = await refused(rt, "hash-calculator", operation="hash", file="/etc/passwd")
    assert err.code == ErrorCode.DENIED


async def test_base64(rt: Runtime) -> None:
    enc = await call(rt, "base64-encoder", operation="encode", input="ü>?")
    assert enc.text == base64.b64encode("ü>?".encode()).decode()
    url = await call(rt, "base64-encoder", operation="encode", input="ü>?", variant="url_safe")
    assert url.text == base64.urlsafe_b64encode("ü>?".encode()).decode()
    binary = await call(
        rt, "base64-encoder", operation="decode", input=base64.b64encode(b"\xff\xfe").decode()
    )
    assert binary.data == {
        "result": "fffe",
        "variant": "standard",
        "binary": True,
        "encoding": "hex",
    }
    err = await refused(rt, "base64-encoder", operation="decode", input="***")
    assert err.code == ErrorCode.INVALID_ARGUMENTS and "not valid standard base64" in err.message


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200), variant=st.sampled_from(["standard", "url_safe"]))
async def test_base64_round_trip(text: str, variant: str) -> None:
    rt = Runtime()
    register_builtins(rt.catalog)
    enc = await rt.call(
        "base64-encoder", {"operation": "encode", "input": text, "variant": variant}
    )
    dec = await rt.call(
        "base64-encoder", {"operation": "decode", "input": enc.text, "variant": variant}
    )
    assert dec.data["result"] == text


# -- text and json -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("uppercase", "HELLO WORLDWIDE HTTPSERVER"),
        ("snake_case", "hello_worldwide_http_server"),
        ("kebab_case", "hello-worldwide-http-server"),
        ("camel_case", "helloWorldwideHttpServer"),
        ("reverse", "revreSPTTH ediwdlroW olleh"),
    ],
)
async def test_text_cases(rt: Runtime, operation: str, expected: str) -> None:
    result = await call(
        rt, "text-manipulator", operation=operation, text="hello Worldwide HTTPServer"
    )
    assert result.text == expected


async def test_text_other_operations(rt: Runtime) -> None:
    assert (await call(rt, "text-manipulator", operation="trim", text="  x  ")).text == "x"
    rep = await call(
        rt,
        "text-manipulator",
        operation="replace",
        text="a1b22",
        pattern=r"\d+",
        replacement="#",
        regex=True,
    )
    assert rep.data == {"result": "a#b#", "replacements": 2}
    plain = await call(
        rt, "text-manipulator", operation="replace", text="a.b.c", pattern=".", replacement="-"
    )
    assert plain.data == {"result": "a-b-c", "replacements": 2}
    split = await call(rt, "text-manipulator", operation="split", text="a,b,,c", separator=",")
    assert split.data["result"] == ["a", "b", "", "c"]
    count = await call(rt, "text-manipulator", operation="count", text="one two\nthree ✓")
    assert count.data == {"characters": 15, "words": 4, "lines": 2}
    cut = await call(rt, "text-manipulator", operation="truncate", text="abcdefgh", length=5)
    assert cut.text == "ab..."
    err = await refused(
        rt, "text-manipulator", operation="replace", text="x", pattern="(", regex=True
    )
    assert "bad regular expression" in err.message


@settings(max_examples=60, deadline=None)
# Words of two letters or more: single letters make camelCase ambiguous ("a a a" -> "aAA").
@given(
    words=st.lists(st.text(alphabet="abcdefghij", min_size=2, max_size=6), min_size=1, max_size=5)
)
async def test_case_conversions_are_idempotent(words: list[str]) -> None:
    rt = Runtime()
    register_builtins(rt.catalog)
    text = " ".join(words)
    for op in ("snake_case", "kebab_case", "camel_case"):
        once = await rt.call("text-manipulator", {"operation": op, "text": text})
        twice = await rt.call("text-manipulator", {"operation": op, "text": once.text})
        assert once.text == twice.text


async def test_json_processor(rt: Runtime) -> None:
    doc = {"people": [{"name": "Ada", "age": 36}, {"name": "Alan", "age": 41}]}
    q = await call(
        rt, "json-processor", operation="query", data=doc, query="people[?age > `40`].name"
    )
    assert q.data["result"] == ["Alan"]
    q2 = await call(
        rt, "json-processor", operation="query", json='{"a": {"b": [1, 2]}}', query="a.b[1]"
    )
    assert q2.data["result"] == 2
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    bad = await call(rt, "json-processor", operation="validate", data={"age": "x"}, schema=schema)
    assert bad.data["valid"] is False and bad.data["errors"][0]["path"] == "age"
    good = await call(rt, "json-processor", operation="validate", data={"age": 3}, schema=schema)
    assert good.data == {"valid": True, "errors": []}
    mini = await call(rt, "json-processor", operation="minify", json='{ "a" : [1, 2] }')
    assert mini.text == '{"a":[1,2]}'
    err = await refused(rt, "json-processor", operation="query", json="{oops", query="a")
    assert "not valid JSON" in err.message
    err = await refused(rt, "json-processor", operation="query", data={}, query="[[[")
    assert "bad JMESPath" in err.message


# -- date-time ---------------------------------------------------------------------------------


async def test_date_time(rt: Runtime) -> None:
    conv = await call(
        rt,
        "date-time-handler",
        operation="convert",
        datetime="2026-03-29T00:30:00Z",
        to="Europe/Paris",
    )
    assert conv.text == "2026-03-29T01:30:00+01:00"
    later = await call(
        rt,
        "date-time-handler",
        operation="add",
        datetime="2026-03-29T00:30:00+00:00",
        hours=1,
        minutes=30,
    )
    assert later.text == "2026-03-29T02:00:00+00:00"
    diff = await call(
        rt,
        "date-time-handler",
        operation="diff",
        datetime="2026-01-01",
        other="2026-01-02T12:00:00",
    )
    assert diff.data["hours"] == 36
    parsed = await call(
        rt,
        "date-time-handler",
        operation="parse",
        datetime="March 5 2026 4pm",
        timezone="America/New_York",
    )
    assert parsed.text == "2026-03-05T16:00:00-05:00"
    fmt = await call(
        rt,
        "date-time-handler",
        operation="format",
        datetime="2026-07-04T10:00:00Z",
        format="%A %d %B",
    )
    assert fmt.text == "Saturday 04 July"
    err = await refused(rt, "date-time-handler", operation="now", timezone="Mars/Olympus")
    assert "unknown time zone" in err.message
    err = await refused(rt, "date-time-handler", operation="parse", datetime="not a date at all")
    assert "cannot parse" in err.message


# -- file-operations ---------------------------------------------------------------------------


async def test_file_round_trip(rt: Runtime, tmp_path: Path) -> None:
    await call(
        rt,
        "file-operations",
        operation="write",
        path="notes/a.txt",
        content="héllo\n",
        create_dirs=True,
    )
    await call(rt, "file-operations", operation="append", path="notes/a.txt", content="more")
    read = await call(rt, "file-operations", operation="read", path="notes/a.txt")
    assert read.text == "héllo\nmore" and (tmp_path / "notes/a.txt").read_text() == "héllo\nmore"
    listing = await call(rt, "file-operations", operation="list", path=".", recursive=True)
    assert [e["name"] for e in listing.data["entries"]] == ["notes", "notes/a.txt"]
    info = await call(rt, "file-operations", operation="stat", path="notes/a.txt")
    assert info.data["type"] == "file" and info.data["size"] == len("héllo\nmore".encode())
    assert (await call(rt, "file-operations", operation="exists", path="nope")).data[
        "exists"
    ] is False
    err = await refused(rt, "file-operations", operation="delete", path="notes")
    assert "not empty" in err.message
    await call(rt, "file-operations", operation="delete", path="notes", recursive=True)
    assert not (tmp_path / "notes").exists()
    err = await refused(rt, "file-operations", operation="read", path="missing.txt")
    assert "does not exist" in err.message


@pytest.mark.parametrize("path", ["../outside.txt", "sub/../../outside.txt", "/etc/passwd"])
async def test_file_escapes_are_denied(rt: Runtime, tmp_path: Path, path: str) -> None:
    err = await refused(rt, "file-operations", operation="read", path=path)
    assert err.code == ErrorCode.DENIED
    assert str(tmp_path.resolve()) in err.message


async def test_symlink_out_of_root_is_denied(rt: Runtime, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"outside-{os.getpid()}.txt"
    outside.write_text("secret")
    try:
        (tmp_path / "link.txt").symlink_to(outside)
        err = await refused(rt, "file-operations", operation="read", path="link.txt")
        assert err.code == ErrorCode.DENIED
        err = await refused(rt, "file-operations", operation="write", path="link.txt", content="x")
        assert err.code == ErrorCode.DENIED
        assert outside.read_text() == "secret"
    finally:
        outside.unlink()


async def test_cannot_delete_the_root(rt: Runtime, tmp_path: Path) -> None:
    err = await refused(rt, "file-operations", operation="delete", path=".", recursive=True)
    assert err.code == ErrorCode.DENIED and tmp_path.exists()
