"""Form fields from a JSON Schema and the submitted form back as the call's input: every type
the "try it" page offers, without a browser."""

from __future__ import annotations

import pytest
from llmspell.gateway.console.forms import FormError, fields, parse

SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "count": {"type": "integer"},
        "ratio": {"type": "number"},
        "loud": {"type": "boolean"},
        "mode": {"enum": ["fast", 2, None]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "sizes": {"type": "array", "items": {"type": "integer"}},
        "rows": {"type": "array", "items": {"type": "object"}},
        "box": {
            "type": "object",
            "properties": {
                "w": {"type": "integer"},
                "inner": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
            },
            "required": ["w"],
        },
        "free": {"type": "object"},
        "maybe": {"type": ["null", "string"]},
    },
    "required": ["text"],
}


def test_each_property_gets_its_widget() -> None:
    made = {f.name: f for f in fields(SCHEMA)}
    assert {n: f.widget for n, f in made.items()} == {
        "input.text": "string",
        "input.count": "integer",
        "input.ratio": "number",
        "input.loud": "boolean",
        "input.mode": "enum",
        "input.tags": "array",
        "input.sizes": "array",
        "input.rows": "array",
        "input.box": "object",
        "input.free": "json",
        "input.maybe": "string",
    }
    assert made["input.text"].required and not made["input.count"].required
    assert made["input.mode"].options == ["fast", 2, None]
    assert (made["input.sizes"].item, made["input.rows"].item) == ("integer", "json")
    assert [c.name for c in made["input.box"].children] == ["input.box.w", "input.box.inner"]
    assert made["input.box"].children[1].children[0].name == "input.box.inner.ok"


def test_a_form_becomes_typed_json() -> None:
    form = {
        "input.text": "hi",
        "input.count": "3",
        "input.ratio": "0.5",
        "input.loud": "false",
        "input.mode": "2",
        "input.tags": "a\n b \n\n",
        "input.sizes": "[1, 2]",
        "input.rows": '{"x": 1}\n{"x": 2}',
        "input.box.w": "7",
        "input.box.inner.ok": "true",
        "input.free": '{"k": [1]}',
        "input.maybe": "",
    }
    assert parse(form, SCHEMA) == {
        "text": "hi",
        "count": 3,
        "ratio": 0.5,
        "loud": False,
        "mode": 2,
        "tags": ["a", "b"],
        "sizes": [1, 2],
        "rows": [{"x": 1}, {"x": 2}],
        "box": {"w": 7, "inner": {"ok": True}},
        "free": {"k": [1]},
    }


def test_empty_fields_are_left_out_for_the_schema_to_judge() -> None:
    assert parse({"input.text": "", "input.count": "x1"}, SCHEMA) == {"count": "x1"}
    assert parse({}, SCHEMA) == {}
    needs_box = {**SCHEMA, "required": ["box"]}
    assert parse({}, needs_box) == {"box": {}}  # a required object is kept, for its own check


def test_the_raw_json_input_wins_and_bad_json_is_named() -> None:
    assert parse({"__json": '{"text": "raw"}', "input.text": "form"}, SCHEMA) == {"text": "raw"}
    with pytest.raises(FormError, match="must be an object"):
        parse({"__json": "[1]"}, SCHEMA)
    with pytest.raises(FormError, match="free: not valid JSON"):
        parse({"input.free": "{nope"}, SCHEMA)
