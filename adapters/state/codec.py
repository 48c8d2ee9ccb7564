"""Values as JSON text, exactly: bytes are tagged `{"$bytes": BASE64}`, and a one-key object
whose key is a tag is wrapped as `{"$map": {...}}`, so no stored value is mistaken for a tag.
Text is ASCII-escaped JSON, so any Python string (lone surrogates included) round-trips."""

from __future__ import annotations

import base64
import json
from typing import Any

BYTES = "$bytes"
MAP = "$map"
_TAGS = (BYTES, MAP)


def encode(value: Any) -> str:
    """The stored form of a value that `check_value` accepted."""
    return json.dumps(_tag(value), ensure_ascii=True, separators=(",", ":"))


def decode(text: str) -> Any:
    return _untag(json.loads(text))


def _tag(value: Any) -> Any:
    if isinstance(value, bytes):
        return {BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        inner = {k: _tag(v) for k, v in value.items()}
        return {MAP: inner} if len(inner) == 1 and next(iter(inner)) in _TAGS else inner
    if isinstance(value, list | tuple):
        return [_tag(v) for v in value]
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == BYTES and isinstance(inner, str):
                return base64.b64decode(inner)
            if key == MAP and isinstance(inner, dict):
                return {k: _untag(v) for k, v in inner.items()}
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value
