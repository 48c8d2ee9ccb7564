"""The data and utility tools through the real pipeline: csv-analyzer, data-validation,
template-engine, diff-calculator, regex-tool, text-splitter and random-generator."""

from __future__ import annotations

import statistics
import string
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from llmspell.runtime import ErrorCode, Runtime

from .conftest import call, refused

CSV = (
    "name;age;score;active;joined\n"
    "ann;31;9.5;yes;2024-01-02\n"
    "bob;25;7;no;2023-05-06\n"
    "cid;;8.25;yes;2022-12-31\n"
    "dee;40;6;no;\n"
)


def conforms(rt: Runtime, tool: str, data: Any) -> None:
    """The structured result matches the output schema the tool advertises."""
    schema = rt.catalog.get(tool).output_schema
    assert schema is not None
    Draft202012Validator(schema).validate(data)


# -- csv-analyzer --------------------------------------------------------------------------------


async def test_csv_columns_sniff_the_delimiter_and_infer_types(rt: Runtime) -> None:
    result = await call(rt, "csv-analyzer", operation="columns", content=CSV)
    assert result.data["delimiter"] == ";" and result.data["rows"] == 4
    assert [(c["name"], c["type"]) for c in result.data["columns"]] == [
        ("name", "string"),
        ("age", "int"),
        ("score", "float"),
        ("active", "bool"),
        ("joined", "date"),
    ]


async def test_csv_stats_from_a_file(rt: Runtime, tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text(CSV.replace(";", ","), encoding="utf-8")
    result = await call(rt, "csv-analyzer", operation="stats", path="people.csv")
    cols = {c["name"]: c for c in result.data["columns"]}
    assert result.data["delimiter"] == ","
    age = cols["age"]
    assert (age["count"], age["nulls"], age["min"], age["max"], age["median"]) == (3, 1, 25, 40, 31)
    assert age["mean"] == 32 and age["stdev"] == pytest.approx(statistics.stdev([31, 25, 40]))
    assert cols["score"]["mean"] == pytest.approx((9.5 + 7 + 8.25 + 6) / 4)
    assert cols["joined"]["min"] == "2022-12-31" and cols["joined"]["max"] == "2024-01-02"
    assert cols["active"]["top"] == [{"value": "yes", "count": 2}, {"value": "no", "count": 2}]


@pytest.mark.parametrize(
    ("column", "operator", "value", "names"),
    [
        ("age", ">", 30, ["ann", "dee"]),
        ("age", "<=", "31", ["ann", "bob"]),
        ("score", "==", 7, ["bob"]),
        ("active", "==", True, ["ann", "cid"]),
        ("joined", ">=", "2023-01-01", ["ann", "bob"]),
        ("name", "contains", "e", ["dee"]),
        ("name", "!=", "bob", ["ann", "cid", "dee"]),
    ],
)
async def test_csv_filter(
    rt: Runtime, column: str, operator: str, value: Any, names: list[str]
) -> None:
    result = await call(
        rt,
        "csv-analyzer",
        operation="filter",
        content=CSV,
        column=column,
        operator=operator,
        value=value,
    )
    assert [r["name"] for r in result.data["records"]] == names
    assert result.data["matched"] == len(names)


async def test_csv_head_and_explicit_delimiter(rt: Runtime) -> None:
    result = await call(rt, "csv-analyzer", operation="head", content="a|b\n1|2\n3|4\n5|6\n", n=2)
    assert result.data["records"] == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert result.text == "a|b\n1|2\n3|4"
    forced = await call(rt, "csv-analyzer", operation="head", content="a;b\n1;2\n", delimiter=",")
    assert forced.data["records"] == [{"a;b": "1;2"}]


async def test_csv_refusals(rt: Runtime) -> None:
    err = await refused(
        rt, "csv-analyzer", operation="filter", content=CSV, column="height", operator=">", value=1
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        "csv-analyzer: unknown column 'height' (columns: name, age, score, active, joined)"
    )
    err = await refused(rt, "csv-analyzer", operation="columns")
    assert err.message == "csv-analyzer: give either 'content' or 'path' (a text file inside the roots)"
    err = await refused(rt, "csv-analyzer", operation="filter", content=CSV, column="age")
    assert err.code == ErrorCode.INVALID_ARGUMENTS and "'operator' is a required property" in (
        err.message
    )
    err = await refused(rt, "csv-analyzer", operation="columns", path="/etc/passwd")
    assert err.code == ErrorCode.DENIED


# -- data-validation -----------------------------------------------------------------------------


async def test_validation_lists_every_violation(rt: Runtime) -> None:
    schema = {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["email"],
            "properties": {"age": {"type": "integer", "minimum": 0}},
        },
    }
    rules = [
        {"field": "email", "required": True, "pattern": r"^[^@]+@[^@]+$"},
        {"field": "age", "type": "integer", "min": 18, "max": 120},
        {"field": "role", "enum": ["admin", "user"]},
        {"field": "address.city", "min_length": 2},
    ]
    data = [
        {"email": "a@x.org", "age": 30, "role": "admin", "address": {"city": "Oslo"}},
        {"age": -1, "role": "root", "address": {"city": "X"}},
        {"email": "nope", "age": "old"},
    ]
    result = await call(rt, "data-validation", data=data, schema=schema, rules=rules)
    assert result.data["valid"] is False
    found = {(v["source"], v["path"], v["keyword"]) for v in result.data["violations"]}
    assert found == {
        ("schema", "/1", "required"),
        ("schema", "/1/age", "minimum"),
        ("schema", "/2/age", "type"),
        ("rule", "/1/email", "required"),
        ("rule", "/1/age", "min"),
        ("rule", "/1/role", "enum"),
        ("rule", "/1/address/city", "min_length"),
        ("rule", "/2/email", "pattern"),
        ("rule", "/2/age", "type"),
        ("rule", "/2/age", "min"),
        ("rule", "/2/age", "max"),
    }
    assert result.data["count"] == 11
    conforms(rt, "data-validation", result.data)
    ok = await call(rt, "data-validation", json='{"age": 20}', rules=[{"field": "age", "min": 18}])
    assert ok.data == {"valid": True, "count": 0, "violations": []} and ok.text == "valid"


async def test_validation_refusals(rt: Runtime) -> None:
    err = await refused(rt, "data-validation", data={"a": 1})
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == "data-validation: give 'schema' (a JSON Schema), 'rules', or both"
    err = await refused(rt, "data-validation", data=3, rules=[{"field": "a"}])
    assert err.message == "data-validation: 'rules' apply to an object or a list of objects"
    err = await refused(rt, "data-validation", data={}, schema={"type": "nonsense"})
    assert err.message.startswith("data-validation: 'schema' is not a valid JSON Schema:")
    err = await refused(
        rt, "data-validation", data={"a": "x"}, rules=[{"field": "a", "pattern": "("}]
    )
    assert err.message.startswith("data-validation: bad pattern '(':")
    # through the pipeline's input schema: a rule with an unknown key
    err = await refused(rt, "data-validation", data={}, rules=[{"field": "a", "minimum": 1}])
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert "Additional properties are not allowed ('minimum' was unexpected)" in err.message


# -- template-engine -----------------------------------------------------------------------------


async def test_template_renders_with_autoescape(rt: Runtime) -> None:
    source = "{% for u in users %}{{ u.name }}={{ u.n * 2 }};{% endfor %}{{ tag }}"
    variables = {"users": [{"name": "a", "n": 1}, {"name": "b", "n": 5}], "tag": "<b>"}
    plain = await call(rt, "template-engine", template=source, variables=variables)
    assert plain.text == "a=2;b=10;<b>"
    escaped = await call(
        rt, "template-engine", template=source, variables=variables, autoescape=True
    )
    assert escaped.data == {"result": "a=2;b=10;&lt;b&gt;"}
    conforms(rt, "template-engine", escaped.data)
    lax = await call(rt, "template-engine", template="[{{ missing }}]")
    assert lax.text == "[]"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
async def test_template_sandbox_refuses_escapes(rt: Runtime, source: str) -> None:
    err = await refused(rt, "template-engine", template=source)
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message.startswith("template-engine: refused by the sandbox: access to attribute")
    assert "is unsafe" in err.message


async def test_template_refusals(rt: Runtime) -> None:
    err = await refused(rt, "template-engine", template="ok\n{% if %}")
    assert err.message == (
        "template-engine: syntax error on line 2: Expected an expression, got 'end of statement "
        "block'"
    )
    err = await refused(rt, "template-engine", template="{{ nope }}", strict=True)
    assert err.message == "template-engine: undefined: 'nope' is undefined"
    err = await refused(rt, "template-engine", template="{{ 'x' * 10000000 }}")
    assert (
        err.message == "template-engine: refused by the sandbox: repeating makes over 100000 items"
    )
    err = await refused(rt, "template-engine", template="{{ 2 ** 100000 }}")
    assert (
        err.message
        == "template-engine: refused by the sandbox: exponent 100000 is larger than 1000"
    )
    err = await refused(rt, "template-engine", template="{{ x }}", variables=[1])
    assert err.code == ErrorCode.INVALID_ARGUMENTS and "is not of type 'object'" in err.message


# -- diff-calculator -----------------------------------------------------------------------------


async def test_text_diff(rt: Runtime) -> None:
    result = await call(
        rt,
        "diff-calculator",
        operation="text",
        old="a\nb\nc\n",
        new="a\nB\nc\nd\n",
        old_label="v1",
        new_label="v2",
        context=0,
    )
    assert result.data["added"] == 2 and result.data["removed"] == 1
    assert result.data["diff"] == "--- v1\n+++ v2\n@@ -2 +2 @@\n-b\n+B\n@@ -3,0 +4 @@\n+d\n"
    same = await call(rt, "diff-calculator", operation="text", old="x", new="x")
    assert same.data["identical"] is True and same.text == "identical"
    # a removed line that itself starts with '--' is still counted
    dashes = await call(rt, "diff-calculator", operation="text", old="--x\n", new="")
    assert (dashes.data["added"], dashes.data["removed"]) == (0, 1)


async def test_json_diff(rt: Runtime) -> None:
    old = {"a": 1, "b": [1, 2, 3, 4], "c": {"x/y": True}, "gone": "z"}
    new = {"a": 1.0, "b": [1, 5], "c": {"x/y": 1}, "new": None}
    result = await call(rt, "diff-calculator", operation="json", old=old, new=new)
    assert result.data["changes"] == [
        {"op": "remove", "path": "/gone", "old": "z"},
        {"op": "replace", "path": "/b/1", "old": 2, "new": 5},
        {"op": "remove", "path": "/b/3", "old": 4},
        {"op": "remove", "path": "/b/2", "old": 3},
        {"op": "replace", "path": "/c/x~1y", "old": True, "new": 1},
        {"op": "add", "path": "/new", "new": None},
    ]
    assert (result.data["add"], result.data["remove"], result.data["replace"]) == (1, 3, 2)
    parsed = await call(rt, "diff-calculator", operation="json", old="[1]", new="[2]", parse=True)
    assert parsed.data["changes"] == [{"op": "replace", "path": "/0", "old": 1, "new": 2}]


async def test_diff_refusals(rt: Runtime) -> None:
    err = await refused(rt, "diff-calculator", operation="text", old={"a": 1}, new="x")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == "diff-calculator: text: 'old' and 'new' must be strings"
    err = await refused(rt, "diff-calculator", operation="json", old="{", new="1", parse=True)
    assert err.message.startswith("diff-calculator: 'old' is not valid JSON:")
    err = await refused(rt, "diff-calculator", operation="text", old="a")
    assert "'new' is a required property" in err.message


# -- regex-tool ----------------------------------------------------------------------------------


async def test_regex_operations(rt: Runtime) -> None:
    found = await call(
        rt,
        "regex-tool",
        operation="find_all",
        pattern=r"(?P<l>[a-z])(\d)",
        text="a1 B2 c3 d4",
        flags=["ignorecase"],
        max_matches=3,
    )
    assert [m["match"] for m in found.data["matches"]] == ["a1", "B2", "c3"]
    assert found.data["truncated"] is True
    assert found.data["matches"][1] == {
        "match": "B2",
        "start": 3,
        "end": 5,
        "groups": ["B", "2"],
        "named": {"l": "B"},
    }
    first = await call(
        rt,
        "regex-tool",
        operation="match",
        pattern=r"^b.c$",
        text="a\nb\nc",
        flags=["multiline", "dotall"],
    )
    assert first.data["matched"] is True and first.data["match"] == "b\nc"
    miss = await call(rt, "regex-tool", operation="match", pattern="z", text="abc")
    assert miss.data == {"matched": False} and miss.text == "no match"
    swapped = await call(
        rt,
        "regex-tool",
        operation="replace",
        pattern=r"(\w)(\d)",
        text="a1 b2 c3",
        replacement=r"\2\1",
        count=2,
    )
    assert swapped.data == {"result": "1a 2b c3", "replacements": 2}
    parts = await call(rt, "regex-tool", operation="split", pattern=r"[,;]\s*", text="a, b;c")
    assert parts.data == {"parts": ["a", "b", "c"], "count": 3, "truncated": False}


async def test_regex_catastrophic_backtracking_times_out(rt: Runtime) -> None:
    started = time.monotonic()
    err = await refused(
        rt, "regex-tool", operation="match", pattern="(a|aa)+$", text="a" * 40 + "b", timeout=0.2
    )
    assert time.monotonic() - started < 5
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == (
        "regex-tool: pattern '(a|aa)+$' ran over the 0.2s time limit (catastrophic "
        "backtracking?); simplify it or shorten the text"
    )
    # the classic (a+)+$ is defused by the regex engine itself and answers at once
    fine = await call(rt, "regex-tool", operation="match", pattern="(a+)+$", text="a" * 30 + "b")
    assert fine.data == {"matched": False}


async def test_regex_refusals(rt: Runtime) -> None:
    err = await refused(rt, "regex-tool", operation="match", pattern="(a", text="x")
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == "regex-tool: bad pattern '(a': missing ) at position 2"
    err = await refused(
        rt, "regex-tool", operation="replace", pattern="a", text="a", replacement=r"\9"
    )
    assert err.message == "regex-tool: bad replacement '\\\\9': invalid group reference"
    err = await refused(rt, "regex-tool", operation="replace", pattern="a", text="a")
    assert "'replacement' is a required property" in err.message
    err = await refused(
        rt, "regex-tool", operation="match", pattern="a", text="a", flags=["global"]
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS and "'global' is not one of" in err.message


# -- text-splitter -------------------------------------------------------------------------------


def exact_slices(text: str, chunks: list[dict[str, Any]]) -> bool:
    return all(text[c["start"] : c["end"]] == c["text"] for c in chunks)


async def test_split_by_characters_with_overlap(rt: Runtime) -> None:
    text = string.ascii_lowercase[:10]
    result = await call(
        rt, "text-splitter", operation="characters", text=text, chunk_size=4, overlap=1
    )
    assert [(c["start"], c["end"], c["text"]) for c in result.data["chunks"]] == [
        (0, 4, "abcd"),
        (3, 7, "defg"),
        (6, 10, "ghij"),
    ]
    conforms(rt, "text-splitter", result.data)


async def test_split_by_sentences_and_paragraphs(rt: Runtime) -> None:
    text = "One is here. Two is there! Three? Four."
    sentences = await call(rt, "text-splitter", operation="sentences", text=text, chunk_size=26)
    assert [c["text"] for c in sentences.data["chunks"]] == [
        "One is here. Two is there!",
        "Three? Four.",
    ]
    overlapping = await call(
        rt, "text-splitter", operation="sentences", text=text, chunk_size=20, overlap=13
    )
    assert [c["text"] for c in overlapping.data["chunks"]] == [
        "One is here.",
        "Two is there! Three?",
        "Three? Four.",  # 'Three?' (6 characters) is carried over; 'Two is there! ' is too long
    ]
    doc = "First para\nstill first.\n\n\nSecond para.\n \nThird, much longer paragraph here."
    paras = await call(rt, "text-splitter", operation="paragraphs", text=doc, chunk_size=40)
    assert [c["text"] for c in paras.data["chunks"]] == [
        "First para\nstill first.\n\n\nSecond para.",
        "Third, much longer paragraph here.",
    ]
    assert exact_slices(text, overlapping.data["chunks"]) and exact_slices(
        doc, paras.data["chunks"]
    )


async def test_split_by_markdown_headings(rt: Runtime) -> None:
    md = "Intro.\n\n# Guide\n\nRead me.\n\n## Install\n\n```\n# not a heading\n```\n\n# API\nCall it."
    result = await call(rt, "text-splitter", operation="markdown", text=md, chunk_size=200)
    chunks = result.data["chunks"]
    assert [(c["headings"], c["text"].splitlines()[0]) for c in chunks] == [
        ([], "Intro."),
        (["Guide"], "# Guide"),
        (["Guide", "Install"], "## Install"),
        (["API"], "# API"),
    ]
    assert "# not a heading" in chunks[2]["text"] and exact_slices(md, chunks)


async def test_split_refusals(rt: Runtime) -> None:
    err = await refused(
        rt, "text-splitter", operation="characters", text="abc", chunk_size=5, overlap=5
    )
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == "text-splitter: 'overlap' (5) must be smaller than 'chunk_size' (5)"
    err = await refused(
        rt, "text-splitter", operation="characters", text="a" * 20_001, chunk_size=2
    )
    assert err.message == "text-splitter: that makes over 10000 chunks; raise 'chunk_size'"
    err = await refused(rt, "text-splitter", operation="words", text="abc")
    assert err.data["field"] == "operation"


# -- random-generator ----------------------------------------------------------------------------


async def test_random_values(rt: Runtime) -> None:
    ints = await call(rt, "random-generator", operation="integer", min=5, max=7, count=200)
    assert set(ints.data["values"]) == {5, 6, 7}  # 200 draws miss one of 3 with p < 1e-34
    floats = await call(rt, "random-generator", operation="float", min=-1, max=1, count=50)
    assert all(-1 <= v <= 1 for v in floats.data["values"])
    picks = await call(rt, "random-generator", operation="sample", items=["a", "b", "c"], count=3)
    assert sorted(picks.data["values"]) == ["a", "b", "c"]
    choice = await call(rt, "random-generator", operation="choice", items=[{"k": 1}], count=2)
    assert choice.data["values"] == [{"k": 1}, {"k": 1}]
    tokens = await call(rt, "random-generator", operation="token", bytes=16, count=2)
    assert all(len(t) == 32 and int(t, 16) >= 0 for t in tokens.data["values"])
    assert len(set(tokens.data["values"])) == 2
    conforms(rt, "random-generator", tokens.data)


async def test_random_passwords_hold_each_class(rt: Runtime) -> None:
    result = await call(
        rt,
        "random-generator",
        operation="password",
        length=12,
        classes=["digits", "upper"],
        exclude_ambiguous=True,
        count=20,
    )
    for pw in result.data["values"]:
        assert len(pw) == 12
        assert any(c.isdigit() for c in pw) and any(c.isupper() for c in pw)
        assert set(pw) <= set(string.digits + string.ascii_uppercase) - set("O01I")


async def test_random_annotations_and_refusals(rt: Runtime) -> None:
    hints = rt.catalog.get("random-generator").annotations
    assert hints.read_only is True and hints.idempotent is False
    err = await refused(rt, "random-generator", operation="integer", min=9, max=1)
    assert err.code == ErrorCode.INVALID_ARGUMENTS
    assert err.message == "random-generator: 'min' (9) is greater than 'max' (1)"
    err = await refused(rt, "random-generator", operation="sample", items=[1, 2], count=3)
    assert err.message == "random-generator: cannot sample 3 of 2 items without repeats"
    err = await refused(rt, "random-generator", operation="password", length=2)
    assert err.message == "random-generator: a 2-character password cannot hold 4 classes"
    err = await refused(rt, "random-generator", operation="choice")
    assert "'items' is a required property" in err.message


def test_new_tools_are_registered_with_categories(rt: Runtime) -> None:
    from llmspell.adapters.tools import builtin_tools

    categories = {c.name: c.category for c in builtin_tools()}
    assert {n: categories[n] for n in ("csv-analyzer", "data-validation", "template-engine")} == {
        "csv-analyzer": "data",
        "data-validation": "data",
        "template-engine": "data",
    }
    for name in ("diff-calculator", "regex-tool", "text-splitter", "random-generator"):
        assert categories[name] == "utilities"


async def test_csv_row_cap_and_empty_input(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmspell.adapters.tools.data import csv_analyzer

    monkeypatch.setattr(csv_analyzer, "MAX_ROWS", 2)
    capped = await call(rt, "csv-analyzer", operation="stats", content="n\n1\n2\n3\n4\n")
    assert capped.data["truncated"] is True and capped.data["rows"] == 2
    assert capped.data["columns"][0]["max"] == 2
    err = await refused(rt, "csv-analyzer", operation="columns", content="")
    assert err.message == "csv-analyzer: the CSV has no rows"
    (tmp_path / "latin1.csv").write_bytes("name\nJos\xe9\n".encode("latin-1"))
    err = await refused(rt, "csv-analyzer", operation="head", path="latin1.csv")
    assert err.message == "csv-analyzer: 'latin1.csv' is not UTF-8 text"
    headless = await call(
        rt, "csv-analyzer", operation="head", content="1,x\n2,y\n", has_header=False
    )
    assert headless.data["records"] == [
        {"column1": "1", "column2": "x"},
        {"column1": "2", "column2": "y"},
    ]
