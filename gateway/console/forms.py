"""A component's input JSON Schema as form fields, and a submitted form back as the call's
`input`. The server does both, so the form works without JavaScript and the script only
enhances it; the pipeline still checks the result against the schema, so a wrong value comes
back as the call's own `invalid_arguments` error rather than a second validator's opinion."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Widget = Literal["string", "number", "integer", "boolean", "enum", "array", "object", "json"]
PREFIX = "input"
RAW = "__json"
"""A textarea that, when filled, is the whole input as JSON (for schemas a form cannot say)."""
MAX_DEPTH = 4


class FormError(ValueError):
    """A field that cannot be turned into JSON at all (not one the schema refuses)."""


@dataclass(slots=True)
class Field:
    name: str
    """The form name: `input.a.b` for property `b` of object `a`."""
    label: str
    widget: Widget
    description: str = ""
    required: bool = False
    default: Any = None
    options: list[Any] = field(default_factory=list)
    children: list[Field] = field(default_factory=list)
    item: Widget = "string"
    """An array's item widget: scalars one per line, anything else JSON per line."""

    @property
    def placeholder(self) -> str:
        if self.widget == "array":
            return "one item per line (or a JSON array)"
        return "" if self.default is None else json.dumps(self.default)


def _type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


def _widget(schema: Mapping[str, Any], depth: int) -> Widget:
    if "enum" in schema or "const" in schema:
        return "enum"
    kind = _type(schema)
    if kind in ("string", "number", "integer", "boolean", "array"):
        return kind  # type: ignore[return-value]
    if kind == "object" and isinstance(schema.get("properties"), dict) and depth < MAX_DEPTH:
        return "object"
    return "json"


def fields(schema: Mapping[str, Any], prefix: str = PREFIX, depth: int = 0) -> list[Field]:
    """The fields for an object schema's properties, in their declared order."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    required = set(schema.get("required") or ())
    out = []
    for key, sub in properties.items():
        sub = sub if isinstance(sub, dict) else {}
        widget = _widget(sub, depth)
        made = Field(
            f"{prefix}.{key}",
            str(sub.get("title") or key),
            widget,
            str(sub.get("description") or ""),
            key in required,
            sub.get("default"),
        )
        if widget == "enum":
            made.options = list(sub["enum"]) if "enum" in sub else [sub["const"]]
        elif widget == "object":
            made.children = fields(sub, made.name, depth + 1)
        elif widget == "array":
            items = sub.get("items")
            item = _widget(items if isinstance(items, dict) else {}, MAX_DEPTH)
            made.item = item if item in ("string", "number", "integer", "boolean") else "json"
        out.append(made)
    return out


def parse(form: Mapping[str, str], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The call's `input` from the submitted form. Empty fields are left out, so a missing
    required one is the schema's error, reported as the pipeline reports it."""
    raw = (form.get(RAW) or "").strip()
    if raw:
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise FormError(f"the JSON input is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise FormError("the JSON input must be an object")
        return value
    return _object(form, fields(schema))


def _object(form: Mapping[str, str], listed: list[Field]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in listed:
        if f.widget == "object":
            value: Any = _object(form, f.children)
            if value or f.required:
                out[f.name.rsplit(".", 1)[1]] = value
            continue
        text = form.get(f.name, "")
        if text.strip() == "":
            continue
        out[f.name.rsplit(".", 1)[1]] = _value(f, text)
    return out


def _value(f: Field, text: str) -> Any:
    if f.widget == "enum":
        return _json(f, text)
    if f.widget == "array":
        stripped = text.strip()
        if stripped.startswith("["):
            return _json(f, stripped)
        return [_scalar(f, f.item, line.strip()) for line in stripped.splitlines() if line.strip()]
    return _scalar(f, f.widget, text)


def _scalar(f: Field, widget: Widget, text: str) -> Any:
    """A value of the widget's type; one that does not parse is passed on as the text, for
    the schema to refuse with its own message."""
    if widget == "string":
        return text
    if widget == "boolean":
        return {"true": True, "false": False}.get(text.strip().lower(), text)
    if widget in ("number", "integer"):
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if widget == "integer" and number.is_integer() else number
    return _json(f, text)


def _json(f: Field, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormError(f"{f.name.removeprefix(PREFIX + '.')}: not valid JSON: {exc}") from None
