"""Anthropic's Messages API through the official `anthropic` SDK (retries with backoff and
Retry-After are the SDK's)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

from .provider import WIRE_CAPABILITIES, require, sdk_error, sdk_options
from .spec import ModelSpec
from .types import (
    ChatRequest,
    Completion,
    Done,
    Message,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)

DEFAULT_MAX_TOKENS = 4096  # the Messages API requires max_tokens


class AnthropicMessages:
    def __init__(self, spec: ModelSpec) -> None:
        import anthropic  # ~0.9 s to import: only when an Anthropic model is used

        self.spec = spec
        self.capabilities = WIRE_CAPABILITIES["anthropic"]
        self._anthropic = anthropic
        self._client = anthropic.AsyncAnthropic(**sdk_options(spec))

    async def aclose(self) -> None:
        await self._client.close()

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        require(self.spec, self.capabilities, request)
        system = "\n\n".join(m.text for m in request.messages if m.role == "system")
        params: dict[str, Any] = {
            "model": self.spec.model,
            "max_tokens": request.max_tokens or self.spec.max_tokens or DEFAULT_MAX_TOKENS,
            "messages": _messages([m for m in request.messages if m.role != "system"]),
        }
        if system:
            params["system"] = system
        if request.tools:
            params["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in request.tools
            ]
        temperature = (
            request.temperature if request.temperature is not None else self.spec.temperature
        )
        if temperature is not None:
            params["temperature"] = temperature
        return params

    async def complete(self, request: ChatRequest) -> Completion:
        params = self._params(request)
        try:
            response = await self._client.messages.create(**params)
        except Exception as exc:
            raise self._error(exc) from exc
        return _completion(response)

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        params = self._params(request)
        try:
            async with self._client.messages.stream(**params) as stream:
                async for event in stream:
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        yield TextDelta(event.delta.text)
                final = await stream.get_final_message()
        except Exception as exc:
            raise self._error(exc) from exc
        yield Done(_completion(final))

    def _error(self, exc: Exception) -> Exception:
        return sdk_error(self.spec, self._anthropic, exc, self._client.base_url)


def _completion(message: Any) -> Completion:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in message.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            calls.append(ToolCall(block.id, block.name, dict(block.input or {})))
    usage = message.usage
    return Completion(
        text="".join(texts),
        tool_calls=calls,
        usage=Usage(usage.input_tokens, usage.output_tokens) if usage else Usage(),
        finish_reason=message.stop_reason,
    )


def _messages(messages: list[Message]) -> list[dict[str, Any]]:
    """Tool results travel as user-role tool_result blocks; consecutive ones share one message."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            block = {"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.text}
            if (
                out
                and out[-1]["role"] == "user"
                and isinstance(out[-1]["content"], list)
                and all(b.get("type") == "tool_result" for b in out[-1]["content"])
            ):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
            continue
        content: list[dict[str, Any]] = []
        for img in m.images:
            if img.url:
                content.append({"type": "image", "source": {"type": "url", "url": img.url}})
            else:
                data = base64.b64encode(img.data or b"").decode()
                content.append(
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": img.mime_type, "data": data},
                    }
                )
        if m.text:
            content.append({"type": "text", "text": m.text})
        for call in m.tool_calls:
            content.append(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
            )
        out.append({"role": m.role, "content": content})
    return out
