"""`uuid-generator`, `hash-calculator` and `base64-encoder`: small, pure, standard-library tools."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from typing import Any

from llmspell.runtime import Annotations, Component, Result

from .._common import PURE, answer, refuse, tool
from ..sandbox.files import Roots

UUID_VERSIONS = [1, 4, 5, *([7] if hasattr(uuid, "uuid7") else [])]
NAMESPACES = {
    "dns": uuid.NAMESPACE_DNS,
    "url": uuid.NAMESPACE_URL,
    "oid": uuid.NAMESPACE_OID,
    "x500": uuid.NAMESPACE_X500,
}
ALGORITHMS = ["md5", "sha1", "sha256", "sha512"]


async def make_uuids(args: dict[str, Any]) -> Result:
    version, count, fmt = (
        args.get("version", 4),
        args.get("count", 1),
        args.get("format", "hyphenated"),
    )
    if version == 5:
        namespace_arg = args.get("namespace", "dns")
        try:
            namespace = NAMESPACES.get(namespace_arg) or uuid.UUID(namespace_arg)
        except ValueError:
            raise refuse(
                "uuid-generator", f"namespace {namespace_arg!r} is not dns/url/oid/x500 or a UUID"
            ) from None
        if "name" not in args:
            raise refuse("uuid-generator", "version 5 needs 'name'")
        made = [uuid.uuid5(namespace, args["name"])] * count
    else:
        maker = {1: uuid.uuid1, 4: uuid.uuid4, 7: getattr(uuid, "uuid7", uuid.uuid4)}[version]
        made = [maker() for _ in range(count)]
    renderers: dict[str, Callable[[uuid.UUID], str]] = {
        "hyphenated": str,
        "simple": lambda u: u.hex,
        "urn": lambda u: u.urn,
    }
    render = renderers[fmt]
    out = [render(u) for u in made]
    return answer("\n".join(out), {"uuids": out, "version": version})


def uuid_component() -> Component:
    return tool(
        "uuid-generator",
        "Generates UUIDs: version 4 (random, default), 1 (time), 5 (namespace + name)"
        + (", 7 (time-ordered)" if 7 in UUID_VERSIONS else "")
        + "; formats hyphenated, simple or urn.",
        {
            "version": {"type": "integer", "enum": UUID_VERSIONS, "default": 4},
            "count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1},
            "format": {
                "type": "string",
                "enum": ["hyphenated", "simple", "urn"],
                "default": "hyphenated",
            },
            "namespace": {
                "type": "string",
                "description": "For version 5: dns, url, oid, x500 or a UUID",
            },
            "name": {"type": "string", "description": "For version 5: the name to hash"},
        },
        make_uuids,
        annotations=Annotations(
            read_only=True, idempotent=False, destructive=False, open_world=False
        ),
    )


def hash_component(roots: Roots) -> Component:
    async def digest(args: dict[str, Any]) -> Result:
        algorithm, encoding = args.get("algorithm", "sha256"), args.get("encoding", "hex")
        if "input" in args and "file" in args:
            raise refuse("hash-calculator", "give either 'input' or 'file', not both")
        if "file" in args:
            data = await roots.read_bytes("hash-calculator", args["file"])
        elif "input" in args:
            data = args["input"].encode("utf-8")
        else:
            raise refuse("hash-calculator", "'input' or 'file' is required")
        import hashlib
        import hmac

        raw = hashlib.new(algorithm, data).digest()
        value = raw.hex() if encoding == "hex" else base64.b64encode(raw).decode("ascii")
        out: dict[str, Any] = {"algorithm": algorithm, "encoding": encoding, "digest": value}
        if args["operation"] == "verify":
            expected = args["expected"].strip()
            expected = expected.lower() if encoding == "hex" else expected
            out["valid"] = hmac.compare_digest(value, expected)
            return answer("match" if out["valid"] else "mismatch", out)
        return answer(value, out)

    return tool(
        "hash-calculator",
        "Hashes text or a file (md5, sha1, sha256, sha512; hex or base64) or verifies a digest.",
        {
            "input": {"type": "string", "description": "Text to hash (UTF-8)"},
            "file": {"type": "string", "description": "A file to hash, inside the allowed roots"},
            "algorithm": {"type": "string", "enum": ALGORITHMS, "default": "sha256"},
            "encoding": {"type": "string", "enum": ["hex", "base64"], "default": "hex"},
            "expected": {"type": "string", "description": "For verify: the digest to compare with"},
        },
        digest,
        operations={"hash": [], "verify": ["expected"]},
        annotations=PURE,
    )


async def transcode(args: dict[str, Any]) -> Result:
    variant = args.get("variant", "standard")
    text: str = args["input"]
    if args["operation"] == "encode":
        raw = text.encode("utf-8")
        out = (
            base64.urlsafe_b64encode(raw) if variant == "url_safe" else base64.b64encode(raw)
        ).decode("ascii")
        return answer(out, {"result": out, "variant": variant})
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    try:
        raw = (
            base64.urlsafe_b64decode(padded)
            if variant == "url_safe"
            else base64.b64decode(padded, validate=True)
        )
    except (binascii.Error, ValueError) as exc:
        raise refuse("base64-encoder", f"input is not valid {variant} base64: {exc}") from None
    try:
        decoded = raw.decode("utf-8")
        return answer(decoded, {"result": decoded, "variant": variant, "binary": False})
    except UnicodeDecodeError:
        hexed = raw.hex()
        return answer(
            hexed, {"result": hexed, "variant": variant, "binary": True, "encoding": "hex"}
        )


def base64_component() -> Component:
    return tool(
        "base64-encoder",
        "Encodes UTF-8 text to Base64 or decodes Base64 (standard or URL-safe). Binary results "
        "that are not UTF-8 come back as hex.",
        {
            "input": {"type": "string"},
            "variant": {"type": "string", "enum": ["standard", "url_safe"], "default": "standard"},
        },
        transcode,
        required=["input"],
        operations={"encode": [], "decode": []},
        annotations=PURE,
    )
