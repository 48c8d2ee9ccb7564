"""Runtime <-> MCP wire types, in one place: components to tools, results to content, prompts and
resources to their listings, errors to JSON-RPC codes. Pure functions, no I/O."""

from __future__ import annotations

import base64
from typing import Any

import mcp_types as types
from llmspell.runtime import (
    Annotations,
    BlobPart,
    Component,
    DataPart,
    ErrorCode,
    LLMSpellError,
    Part,
    Prompt,
    PromptMessage,
    Resource,
    ResourceLink,
    ResourcePart,
    Result,
    TextPart,
)
from llmspell.runtime.peer import ElicitReply, SamplingReply, SamplingRequest
from mcp.shared.exceptions import MCPError

Content = (
    types.TextContent
    | types.ImageContent
    | types.AudioContent
    | types.EmbeddedResource
    | types.ResourceLink
)

RATE_LIMITED = -32029
"""JSON-RPC has no code for "too many requests"; this one sits in the implementation-defined
server range (-32000 to -32099), with `data.retry_after` in seconds."""
_JSONRPC_CODES = {
    ErrorCode.UNKNOWN_COMPONENT: types.INVALID_PARAMS,
    ErrorCode.INVALID_ARGUMENTS: types.INVALID_PARAMS,
    ErrorCode.DENIED: types.INVALID_REQUEST,
    ErrorCode.RATE_LIMITED: RATE_LIMITED,
}
CALLER_ERRORS = frozenset({ErrorCode.UNKNOWN_COMPONENT, ErrorCode.DENIED, ErrorCode.RATE_LIMITED})
"""Failures of a tools/call that are the caller's, answered as JSON-RPC errors. Everything that
happened inside the tool (bad arguments included) is a result with isError, so a model can read
it and try again, as the spec asks."""


def tool(component: Component) -> types.Tool:
    a = component.annotations
    hints = types.ToolAnnotations(
        title=a.title,
        read_only_hint=a.read_only,
        destructive_hint=a.destructive,
        idempotent_hint=a.idempotent,
        open_world_hint=a.open_world,
    )
    return types.Tool(
        name=component.name,
        description=component.description or f"{component.kind} {component.name}",
        input_schema=component.input_schema,
        output_schema=component.output_schema,
        annotations=hints if hints.model_dump(exclude_none=True) else None,
    )


def call_result(result: Result) -> types.CallToolResult:
    """Data parts become structuredContent (and, as the spec recommends, a JSON text block
    when there is no text to show)."""
    content: list[Content] = []
    structured: Any = None
    texts = any(isinstance(p, TextPart) for p in result.parts)
    for part in result.parts:
        if isinstance(part, DataPart):
            if structured is None:
                structured = part.data
            if not texts:
                content.append(types.TextContent(text=_json(part.data)))
            continue
        content.append(content_block(part))
    if not isinstance(structured, dict):
        structured = None  # handshake-era structuredContent must be an object; the text has it
    return types.CallToolResult(
        content=content, structured_content=structured, is_error=result.is_error
    )


def content_block(part: Part) -> Content:
    if isinstance(part, TextPart):
        return types.TextContent(text=part.text)
    if isinstance(part, BlobPart):
        data = base64.b64encode(part.data).decode("ascii")
        if part.kind == "image":
            return types.ImageContent(data=data, mime_type=part.mime_type)
        if part.kind == "audio":
            return types.AudioContent(data=data, mime_type=part.mime_type)
        uri = f"attachment:///{part.name or 'blob'}"
        return types.EmbeddedResource(
            resource=types.BlobResourceContents(uri=uri, mime_type=part.mime_type, blob=data)
        )
    if isinstance(part, ResourcePart):
        return types.EmbeddedResource(resource=resource_contents(part))
    if isinstance(part, ResourceLink):
        return types.ResourceLink(
            uri=part.uri,
            name=part.name or part.uri,
            mime_type=part.mime_type,
            description=part.description,
        )
    return types.TextContent(text=_json(part.data))


def part(block: Any) -> Part:
    """MCP content (from a client's sampling reply) back to a runtime part."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return TextPart(block.text)
    if kind in ("image", "audio"):
        return BlobPart(base64.b64decode(block.data), block.mime_type)
    if kind == "resource":
        return resource_part(block.resource)
    if kind == "resource_link":
        return ResourceLink(block.uri, block.name, block.mime_type, block.description)
    return TextPart(str(block))


def resource_contents(
    part: ResourcePart,
) -> types.TextResourceContents | types.BlobResourceContents:
    if part.blob is not None:
        return types.BlobResourceContents(
            uri=part.uri,
            mime_type=part.mime_type,
            blob=base64.b64encode(part.blob).decode("ascii"),
        )
    return types.TextResourceContents(uri=part.uri, mime_type=part.mime_type, text=part.text or "")


def prompt(p: Prompt) -> types.Prompt:
    return types.Prompt(
        name=p.name,
        description=p.description or None,
        arguments=[
            types.PromptArgument(
                name=a.name, description=a.description or None, required=a.required
            )
            for a in p.arguments
        ],
    )


def prompt_message(message: PromptMessage) -> types.PromptMessage:
    return types.PromptMessage(role=message.role, content=content_block(message.content))


def resource(r: Resource) -> types.Resource:
    return types.Resource(
        uri=r.uri, name=r.name, description=r.description or r.name, mime_type=r.mime_type
    )


def resource_template(r: Resource) -> types.ResourceTemplate:
    return types.ResourceTemplate(
        uri_template=r.uri, name=r.name, description=r.description or r.name, mime_type=r.mime_type
    )


def sampling_params(request: SamplingRequest) -> types.CreateMessageRequestParams:
    return types.CreateMessageRequestParams(
        messages=[
            types.SamplingMessage(role=m.role, content=content_block(m.content))  # type: ignore[arg-type]
            for m in request.messages
        ],
        max_tokens=request.max_tokens,
        system_prompt=request.system_prompt,
        temperature=request.temperature,
    )


def sampling_reply(result: types.CreateMessageResult) -> SamplingReply:
    content = result.content
    block = content[0] if isinstance(content, list) else content
    return SamplingReply(part(block), result.model, result.stop_reason, result.role)


def elicit_reply(result: types.ElicitResult) -> ElicitReply:
    return ElicitReply(result.action, dict(result.content) if result.content else None)


# -- the client side: what an upstream server sends, as runtime values ---------------------------


def tool_result(result: types.CallToolResult) -> Result:
    """Content blocks become parts in order; structuredContent rides along as a data part, so
    `call_result` gives back the same blocks and the same structuredContent."""
    parts = [part(block) for block in result.content]
    if result.structured_content is not None:
        parts.append(DataPart(result.structured_content))
    return Result(parts, bool(result.is_error))


def resource_part(
    contents: types.TextResourceContents | types.BlobResourceContents,
) -> ResourcePart:
    if isinstance(contents, types.BlobResourceContents):
        return ResourcePart(
            str(contents.uri), contents.mime_type, blob=base64.b64decode(contents.blob)
        )
    return ResourcePart(str(contents.uri), contents.mime_type, text=contents.text)


def tool_annotations(hints: types.ToolAnnotations | None) -> Annotations:
    if hints is None:
        return Annotations()
    return Annotations(
        title=hints.title,
        read_only=hints.read_only_hint,
        destructive=hints.destructive_hint,
        idempotent=hints.idempotent_hint,
        open_world=hints.open_world_hint,
    )


def sampling_request(params: types.CreateMessageRequestParams) -> SamplingRequest:
    messages = []
    for m in params.messages:
        content = m.content
        block = content[0] if isinstance(content, list) and content else content
        messages.append(PromptMessage(m.role, part(block)))
    return SamplingRequest(messages, params.max_tokens, params.system_prompt, params.temperature)


def create_message_result(reply: SamplingReply) -> types.CreateMessageResult:
    return types.CreateMessageResult(
        role=reply.role,  # type: ignore[arg-type]
        content=content_block(reply.content),  # type: ignore[arg-type]
        model=reply.model or "unknown",
        stop_reason=reply.stop_reason,
    )


def mcp_error(exc: LLMSpellError) -> MCPError:
    return MCPError(
        _JSONRPC_CODES.get(exc.code, types.INTERNAL_ERROR), exc.message, exc.data or None
    )


def unknown_tool(name: str, suggestions: list[str]) -> MCPError:
    """tools/call of a name not in the catalog: invalid params, with the closest names."""
    hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
    return MCPError(
        types.INVALID_PARAMS,
        f"unknown tool {name!r}{hint}",
        {"name": name, "suggestions": suggestions},
    )


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
