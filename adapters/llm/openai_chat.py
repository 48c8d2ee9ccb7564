"""OpenAI chat completions, and every endpoint that speaks them (Groq, OpenRouter, vLLM, LM
Studio, llama.cpp, Ollama's /v1...), through the official `openai` SDK. The SDK does the retries:
exponential backoff on 429/5xx, honouring Retry-After."""

from __future__ import annotations

import base64
import json
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


class OpenAIChat:
    def __init__(self, spec: ModelSpec) -> None:
        import openai  # imported per use: the SDK costs ~300 ms and 40 MB to import

        self.spec = spec
        self.capabilities = WIRE_CAPABILITIES["openai"]
        self._openai = openai
        self._client = openai.AsyncOpenAI(**sdk_options(spec))

    async def aclose(self) -> None:
        await self._client.close()

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        require(self.spec, self.capabilities, request)
        params: dict[str, Any] = {
            "model": self.spec.model,
            "messages": [_message(m) for m in request.messages],
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
        temperature = (
            request.temperature if request.temperature is not None else self.spec.temperature
        )
        if temperature is not None:
            params["temperature"] = temperature
        max_tokens = request.max_tokens or self.spec.max_tokens
        if max_tokens:
            params["max_tokens"] = max_tokens
        if request.json_mode:
            params["response_format"] = {"type": "json_object"}
        return params

    async def complete(self, request: ChatRequest) -> Completion:
        params = self._params(request)
        try:
            response = await self._client.chat.completions.create(**params)
        except Exception as exc:
            raise self._error(exc) from exc
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=choice.message.content or "",
            tool_calls=[
                _tool_call(tc.id, tc.function.name, tc.function.arguments)
                for tc in choice.message.tool_calls or []
            ],
            usage=Usage(usage.prompt_tokens, usage.completion_tokens) if usage else Usage(),
            finish_reason=choice.finish_reason,
        )

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        params = self._params(request)
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage, finish = Usage(), None
        try:
            stream = await self._client.chat.completions.create(**params)
            async for chunk in stream:
                if chunk.usage:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    finish = choice.finish_reason or finish
                    delta = choice.delta
                    if delta.content:
                        text.append(delta.content)
                        yield TextDelta(delta.content)
                    for tc in delta.tool_calls or []:
                        slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                        slot["id"] = tc.id or slot["id"]
                        if tc.function:
                            slot["name"] += tc.function.name or ""
                            slot["arguments"] += tc.function.arguments or ""
        except Exception as exc:
            raise self._error(exc) from exc
        yield Done(
            Completion(
                text="".join(text),
                tool_calls=[
                    _tool_call(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())
                ],
                usage=usage,
                finish_reason=finish,
            )
        )

    def _error(self, exc: Exception) -> Exception:
        return sdk_error(self.spec, self._openai, exc, self._client.base_url)


def _tool_call(call_id: str | None, name: str, arguments: str | None) -> ToolCall:
    try:
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        args = {"_raw": arguments}
    return ToolCall(
        call_id or f"call_{name}", name, args if isinstance(args, dict) else {"value": args}
    )


def _message(m: Message) -> dict[str, Any]:
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.text}
    out: dict[str, Any] = {"role": m.role}
    if m.images:
        parts: list[dict[str, Any]] = [{"type": "text", "text": m.text}] if m.text else []
        for img in m.images:
            url = (
                img.url
                or f"data:{img.mime_type};base64,{base64.b64encode(img.data or b'').decode()}"
            )
            parts.append({"type": "image_url", "image_url": {"url": url}})
        out["content"] = parts
    else:
        out["content"] = m.text
    if m.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for c in m.tool_calls
        ]
    return out
