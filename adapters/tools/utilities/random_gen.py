"""`random-generator`: integers, floats, choices, samples, passwords and tokens from the
operating system's secure source (`secrets`), never the predictable `random` module, because
its output may well become a credential."""

from __future__ import annotations

import secrets
import string
from typing import Any

from llmspell.runtime import Annotations, Component, Result

from .._common import answer, refuse, tool

NAME = "random-generator"
CLASSES = {
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "symbols": "!#$%&()*+,-./:;<=>?@[]^_{|}~",
}
AMBIGUOUS = set("Il1O0o|`'\"")
_SYSTEM = secrets.SystemRandom()


def _password(length: int, classes: list[str], plain: bool) -> str:
    """At least one character of each class, the rest from all of them, shuffled."""
    pools = [
        "".join(c for c in CLASSES[name] if not (plain and c in AMBIGUOUS)) for name in classes
    ]
    chars = [secrets.choice(pool) for pool in pools]
    every = "".join(pools)
    chars += [secrets.choice(every) for _ in range(length - len(chars))]
    _SYSTEM.shuffle(chars)
    return "".join(chars)


def generate(args: dict[str, Any]) -> list[Any]:
    op, count = args["operation"], args.get("count", 1)
    if op == "integer":
        low, high = args.get("min", 0), args.get("max", 100)
        if any(isinstance(v, float) and not v.is_integer() for v in (low, high)):
            raise refuse(NAME, "integer: 'min' and 'max' must be whole numbers")
        low, high = int(low), int(high)
        if low > high:
            raise refuse(NAME, f"'min' ({low}) is greater than 'max' ({high})")
        return [low + secrets.randbelow(high - low + 1) for _ in range(count)]
    if op == "float":
        low, high = args.get("min", 0.0), args.get("max", 1.0)
        if low > high:
            raise refuse(NAME, f"'min' ({low}) is greater than 'max' ({high})")
        return [_SYSTEM.uniform(low, high) for _ in range(count)]
    if op == "choice":
        items = args["items"]
        return [secrets.choice(items) for _ in range(count)]
    if op == "sample":
        items = args["items"]
        if count > len(items):
            raise refuse(NAME, f"cannot sample {count} of {len(items)} items without repeats")
        return _SYSTEM.sample(items, count)
    if op == "password":
        length = args.get("length", 16)
        classes = args.get("classes", list(CLASSES))
        if length < len(classes):
            raise refuse(NAME, f"a {length}-character password cannot hold {len(classes)} classes")
        plain = args.get("exclude_ambiguous", False)
        return [_password(length, classes, plain) for _ in range(count)]
    if op == "token":
        size, fmt = args.get("bytes", 32), args.get("format", "hex")
        make = secrets.token_hex if fmt == "hex" else secrets.token_urlsafe
        return [make(size) for _ in range(count)]
    raise refuse(NAME, f"unknown operation {op!r}")


async def handle(args: dict[str, Any]) -> Result:
    values = generate(args)
    return answer("\n".join(map(str, values)), {"operation": args["operation"], "values": values})


def component() -> Component:
    return tool(
        NAME,
        "Secure random values (OS entropy via secrets): integer in [min, max], float in "
        "[min, max], choice (with repeats) or sample (without) from items, password (length, "
        "character classes, at least one of each) and token (hex or URL-safe, 'bytes' long).",
        {
            "min": {"type": "number", "description": "integer/float: lower bound (default 0)"},
            "max": {"type": "number", "description": "integer/float: upper bound"},
            "count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
            "items": {"type": "array", "minItems": 1, "description": "choice/sample: from these"},
            "length": {"type": "integer", "minimum": 1, "maximum": 1024, "default": 16},
            "classes": {
                "type": "array",
                "items": {"type": "string", "enum": list(CLASSES)},
                "minItems": 1,
                "uniqueItems": True,
                "description": "password: character classes (default all)",
            },
            "exclude_ambiguous": {"type": "boolean", "description": "password: no Il1O0o|"},
            "bytes": {"type": "integer", "minimum": 8, "maximum": 1024, "default": 32},
            "format": {"type": "string", "enum": ["hex", "urlsafe"], "default": "hex"},
        },
        handle,
        operations={
            "integer": [],
            "float": [],
            "choice": ["items"],
            "sample": ["items"],
            "password": [],
            "token": [],
        },
        annotations=Annotations(
            read_only=True, idempotent=False, destructive=False, open_world=False
        ),
        output_schema={
            "type": "object",
            "properties": {"operation": {"type": "string"}, "values": {"type": "array"}},
            "required": ["operation", "values"],
        },
    )
