"""`xml-processor`: XPath queries, well-formedness and XSD validation, XML -> JSON and
JSON -> XML.

Parsing is hardened twice. defusedxml reads the document first and refuses any entity
declaration (the billion-laughs expansion and external entities that read local files or URLs);
lxml then parses with entities unresolved, no DTD loading and no network. An XSD that pulls in
other schemas (xs:import / xs:include / xs:redefine with a schemaLocation) is refused, since
libxml2 would fetch them itself.

The JSON shape (both ways): an element is an object; attributes are keys starting with '@', the
text is '#text' (or the plain value when the element has nothing else), child elements are keys
by tag, a repeated tag becomes a list. Namespaced tags keep their prefix ('ns:tag')."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from llmspell.runtime import Component, Result
from llmspell.runtime.sandbox import MAX_READ

from .._common import PURE, answer, json_value, need, plain_number, refuse, tool
from ..sandbox.files import Roots

NAME = "xml-processor"
MAX_RESULTS = 1000
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_NAME_OK = re.compile(r"^[A-Za-z_][\w.\-]*(:[A-Za-z_][\w.\-]*)?$")


def _etree() -> Any:
    return need("lxml.etree", "web", NAME)


def _parser() -> Any:
    etree = _etree()
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
    )


def _defuse(data: bytes) -> None:
    """Refuse entity declarations and external references before lxml sees the document."""
    defusedxml = need("defusedxml", "web", NAME)
    defused = need("defusedxml.ElementTree", "web", NAME)

    try:
        defused.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.EntitiesForbidden as exc:
        kind = "external entity" if exc.sysid or exc.pubid else "entity"
        raise refuse(
            NAME,
            f"the document declares the {kind} {exc.name!r}: entity declarations are refused "
            f"(they enable billion-laughs expansion and external-entity reads)",
        ) from None
    except (defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as exc:
        raise refuse(NAME, f"the document refers to an external resource: {exc}") from None
    except Exception:  # not well-formed: lxml says where, below
        pass


def _as_bytes(text: str) -> bytes:
    """Inline text as UTF-8 bytes, its declaration saying so (lxml takes no str with one)."""
    match = _DECLARATION.match(text)
    if match:
        decl = re.sub(r"encoding\s*=\s*['\"][^'\"]*['\"]", 'encoding="UTF-8"', match.group(0))
        text = decl + text[match.end() :]
    return text.encode("utf-8")


def parse(data: bytes, what: str = "the document") -> Any:
    """A hardened lxml tree of `data`, or a refusal naming where it is not well-formed."""
    etree = _etree()
    _defuse(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise refuse(NAME, f"{what} is not well-formed XML: {exc}") from None
    if root is None:
        raise refuse(NAME, f"{what} is empty")
    return root


def _tag(el: Any) -> str:
    etree = _etree()
    qname = etree.QName(el)
    return f"{el.prefix}:{qname.localname}" if el.prefix else str(qname.localname)


def to_json(el: Any) -> Any:
    etree = _etree()
    out: dict[str, Any] = {}
    for key, value in el.attrib.items():
        qname = etree.QName(key)
        out["@" + (str(qname.localname) if qname.namespace is None else str(key))] = value
    for child in el:
        if not isinstance(child.tag, str):  # comments, processing instructions
            continue
        tag, value = _tag(child), to_json(child)
        if tag not in out:
            out[tag] = value
        elif isinstance(out[tag], list):  # an element's value is never a list itself
            out[tag].append(value)
        else:
            out[tag] = [out[tag], value]
    text = "".join([el.text or ""] + [c.tail or "" for c in el]).strip()
    if not out:
        return text if text else None
    if text:
        out["#text"] = text
    return out


def from_json(value: Any, root: str | None) -> Any:
    etree = _etree()
    if root is None:
        if not isinstance(value, dict) or len(value) != 1:
            raise refuse(NAME, "give 'root' (the element name) unless 'data' has exactly one key")
        ((root, value),) = value.items()
    assert root is not None
    element = etree.Element(_check_name(root))
    _fill(element, value)
    return element


def _check_name(name: str) -> str:
    if not _NAME_OK.match(name) or name.lower().startswith("xml"):
        raise refuse(NAME, f"{name!r} is not a usable XML element or attribute name")
    return name.split(":", 1)[1] if ":" in name else name


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(plain_number(value))
    return str(value)


def _fill(element: Any, value: Any) -> None:
    etree = _etree()
    if not isinstance(value, dict):
        if isinstance(value, list):
            raise refuse(NAME, f"a list needs a key to repeat under <{element.tag}>")
        element.text = _scalar(value)
        return
    for key, item in value.items():
        if key == "#text":
            element.text = _scalar(item)
        elif key.startswith("@"):
            element.set(_check_name(key[1:]), _scalar(item))
        else:
            for one in item if isinstance(item, list) else [item]:
                _fill(etree.SubElement(element, _check_name(key)), one)


def _xpath_item(tree: Any, item: Any) -> Any:
    etree = _etree()
    if isinstance(item, etree._Element) and isinstance(item.tag, str):
        return {
            "tag": _tag(item),
            "path": tree.getpath(item),
            "attributes": dict(item.attrib),
            "text": (item.text or "").strip(),
            "xml": etree.tostring(item, encoding="unicode", with_tail=False),
        }
    if isinstance(item, etree._Element):  # a comment or processing instruction
        return etree.tostring(item, encoding="unicode", with_tail=False)
    if isinstance(item, bool):
        return item
    if isinstance(item, float):
        return plain_number(item)
    return str(item)


def _schema_refs(schema_root: Any) -> list[str]:
    ns = "{http://www.w3.org/2001/XMLSchema}"
    return [
        el.get("schemaLocation")
        for tag in ("import", "include", "redefine", "override")
        for el in schema_root.iter(ns + tag)
        if el.get("schemaLocation")
    ]


def work(args: dict[str, Any], data: bytes | None) -> Result:
    etree = _etree()
    op = args["operation"]
    if op == "from_json":
        value = json_value(args, NAME, "from_json")
        element = from_json(value, args.get("root"))
        out = etree.tostring(element, encoding="unicode", pretty_print=args.get("pretty", True))
        return answer(out, {"xml": out})
    assert data is not None
    if op == "validate":
        try:
            root = parse(data)
        except Exception as exc:
            message = getattr(exc, "message", str(exc))
            if "not well-formed" not in message and "is empty" not in message:
                raise
            return answer(
                message, {"valid": False, "well_formed": False, "errors": [{"message": message}]}
            )
        if "schema" not in args:
            return answer("well-formed", {"valid": True, "well_formed": True, "errors": []})
        schema_root = parse(_as_bytes(args["schema"]), "'schema'")
        refs = _schema_refs(schema_root)
        if refs:
            raise refuse(
                NAME,
                f"the XSD refers to other schema files ({', '.join(refs)}); "
                f"give one self-contained schema",
            )
        try:
            schema = etree.XMLSchema(schema_root)
        except etree.XMLSchemaParseError as exc:
            raise refuse(NAME, f"'schema' is not a valid XSD: {exc}") from None
        valid = schema.validate(root)
        errors = [
            {"line": e.line, "column": e.column, "message": e.message} for e in schema.error_log
        ]
        text = "valid" if valid else "\n".join(f"line {e['line']}: {e['message']}" for e in errors)
        return answer(text, {"valid": bool(valid), "well_formed": True, "errors": errors})
    root = parse(data)
    if op == "query":
        namespaces = args.get("namespaces") or None
        try:
            found = root.xpath(args["xpath"], namespaces=namespaces)
        except etree.XPathError as exc:
            raise refuse(NAME, f"bad XPath {args['xpath']!r}: {exc}") from None
        tree = root.getroottree()
        if isinstance(found, list):
            items = [_xpath_item(tree, i) for i in found[:MAX_RESULTS]]
            result = {"results": items, "count": len(found)}
            result["truncated"] = len(found) > MAX_RESULTS
            shown = [i["xml"] if isinstance(i, dict) else i for i in items]
            return answer("\n".join(map(str, shown)) or "(no match)", result)
        value = _xpath_item(tree, found)
        return answer(json.dumps(value), {"result": value})
    if op == "to_json":
        value = {_tag(root): to_json(root)}
        out = json.dumps(value, ensure_ascii=False, indent=2)
        return answer(out, {"result": value})
    raise refuse(NAME, f"unknown operation {op!r}")


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        data: bytes | None = None
        if args["operation"] != "from_json":
            if ("xml" in args) == ("path" in args):
                raise refuse(NAME, "give either 'xml' (the text) or 'path' (a file in the roots)")
            if "path" in args:
                data = await roots.read_bytes(NAME, args["path"])
            else:
                data = _as_bytes(args["xml"])
        return await asyncio.to_thread(work, args, data)

    return tool(
        NAME,
        "Processes XML safely (entity declarations, DTD loading and network access are refused): "
        "query with XPath 1.0 (elements, counts, strings), validate (well-formedness, or against "
        "an XSD: every error with its line), to_json (attributes as '@name', text as '#text', "
        "repeated tags as lists) and from_json (the same shape back to XML). The XML comes inline "
        "('xml') or from a file inside the roots ('path').",
        {
            "xml": {"type": "string", "maxLength": MAX_READ, "description": "The XML text"},
            "path": {"type": "string", "minLength": 1, "description": "An XML file in the roots"},
            "xpath": {"type": "string", "minLength": 1, "description": "query: an XPath 1.0"},
            "namespaces": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "query: prefix -> namespace URI, for the XPath",
            },
            "schema": {"type": "string", "minLength": 1, "description": "validate: an XSD"},
            "json": {"type": "string", "description": "from_json: JSON text"},
            "data": {"description": "from_json: a JSON value"},
            "root": {"type": "string", "minLength": 1, "description": "from_json: root element"},
            "pretty": {"type": "boolean", "default": True},
        },
        handle,
        operations={
            "query": ["xpath"],
            "validate": [],
            "to_json": [],
            "from_json": [],
        },
        annotations=PURE,
    )
