"""`JSON`: canonical JSON (sorted keys), so Lua tables and JS objects encode identically."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..engine import HostFunction
from .arguments import API_ERROR, ScriptAPIError, need
from .binding import sync

if TYPE_CHECKING:
    from .host import ScriptHost


def bind(host: ScriptHost) -> dict[str, HostFunction]:
    return {"encode": sync(encode), "decode": sync(decode)}


def encode(value: Any, opts: Any = None) -> str:
    indent = opts.get("indent") if isinstance(opts, dict) else None
    separators = (",", ":") if indent is None else None
    try:
        return json.dumps(
            value,
            sort_keys=True,
            ensure_ascii=False,
            indent=indent,
            separators=separators,
            default=_unencodable,
        )
    except (TypeError, ValueError) as exc:
        raise ScriptAPIError(API_ERROR, f"JSON.encode: {exc}") from None


def decode(text: Any) -> Any:
    need(isinstance(text, str), "JSON.decode(text): text must be a string")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScriptAPIError(API_ERROR, f"JSON.decode: {exc}") from None


def _unencodable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    raise TypeError(f"cannot encode a {type(value).__name__}")
