"""Input validation with validators compiled once per schema: it is on every call's path."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .errors import ErrorCode, LLMSpellError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

_cache: dict[str, Validator] = {}


def validator_for(schema: dict[str, Any]) -> Validator:
    """Compiled once per distinct schema. jsonschema is imported here, on first use, because it
    costs ~30 ms of start-up that a script calling no validated tool should not pay."""
    key = json.dumps(schema, sort_keys=True, default=str)
    found = _cache.get(key)
    if found is None:
        import jsonschema

        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        try:
            cls.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise InvalidSchema(f"invalid JSON Schema: {exc.message}") from None
        found = cls(schema, format_checker=cls.FORMAT_CHECKER)
        _cache[key] = found
    return found


class InvalidSchema(ValueError):
    """The schema itself is broken (not the arguments)."""


def _trivial(schema: dict[str, Any]) -> bool:
    return not (
        set(schema) - {"type", "description", "title", "$schema", "additionalProperties"}
    ) and (schema.get("type") in (None, "object"))


class CompiledSchema:
    """A schema bound to its validator; `check` raises INVALID_ARGUMENTS naming the field."""

    __slots__ = ("_trivial", "_validator", "schema")

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema
        self._trivial = _trivial(schema) and schema.get("additionalProperties", True) is not False
        self._validator = None if self._trivial else validator_for(schema)

    def check(self, component: str, arguments: dict[str, Any]) -> None:
        if self._validator is None:
            return
        if self._validator.is_valid(arguments):
            return
        from jsonschema.exceptions import best_match

        error = best_match(self._validator.iter_errors(arguments))
        if error is None:
            return
        path = "/".join(str(p) for p in error.absolute_path)
        field = path or (error.validator == "required" and _missing_field(error.message)) or ""
        where = f" at '{field}'" if field else ""
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"invalid arguments for {component!r}{where}: {error.message}",
            data={"field": field, "reason": error.message},
        )


def _missing_field(message: str) -> str:
    # jsonschema says "'x' is a required property"
    return message.split("'")[1] if message.count("'") >= 2 else ""
