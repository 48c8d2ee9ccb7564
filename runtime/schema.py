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
    is one of the heavier imports, which a script calling no validated tool should not pay for."""
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
        """Raise INVALID_ARGUMENTS listing every violation, the most useful first (jsonschema's
        `best_match`), so one round trip tells a caller all it must fix."""
        if self._validator is None:
            return
        if self._validator.is_valid(arguments):
            return
        from jsonschema.exceptions import best_match, relevance

        errors = sorted(self._validator.iter_errors(arguments), key=relevance, reverse=True)
        best = best_match(errors)
        if best is None:
            return
        errors.sort(key=_usefulness)
        found = [] if errors[0].validator in _FIRST else [_violation(best)]
        for error in errors:
            violation = _violation(error)
            if violation not in found:
                found.append(violation)
        field, reason = found[0]["field"], found[0]["reason"]
        where = f" at '{field}'" if field else ""
        more = "".join(
            f"; and{' at ' + repr(v['field']) if v['field'] else ''}: {v['reason']}"
            for v in found[1:]
        )
        raise LLMSpellError(
            ErrorCode.INVALID_ARGUMENTS,
            f"invalid arguments for {component!r}{where}: {reason}{more}",
            data={"field": field, "reason": reason, "errors": found},
        )


_FIRST = {"required": 0, "type": 1}
"""A missing field or a wrong type is what a caller fixes first; an unexpected extra field
(often the misspelling of a missing one) reads better after it."""


def _usefulness(error: Any) -> int:
    return _FIRST.get(error.validator, 3 if error.validator == "additionalProperties" else 2)


def _violation(error: Any) -> dict[str, str]:
    path = "/".join(str(p) for p in error.absolute_path)
    field = path or (error.validator == "required" and _missing_field(error.message)) or ""
    return {"field": field, "reason": error.message}


def _missing_field(message: str) -> str:
    # jsonschema says "'x' is a required property"
    return message.split("'")[1] if message.count("'") >= 2 else ""
