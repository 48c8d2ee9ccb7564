"""A test peer: a real HTTP server on 127.0.0.1 that answers in the LLM providers' wire formats
(OpenAI chat completions and SSE chunks, Anthropic messages and stream events) from a queue of
replies, and records every request so tests can assert what the SDKs sent. OpenAI embeddings
(`POST .../embeddings`) are answered by the server itself unless a reply is queued."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str | None, Any]] | None = None
    """Server-sent events as (event name or None, data); data "[DONE]" is sent raw."""
    delay: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: Any


class FakeLLM:
    def __init__(self, responder: Callable[[Recorded], Reply] | None = None) -> None:
        self.responder = responder
        """Answers when no queued reply is left."""
        self.replies: list[Reply | Callable[[Recorded], Reply]] = []
        self.requests: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def queue(self, *replies: Reply | Callable[[Recorded], Reply]) -> None:
        self.replies.extend(replies)

    def _next(self, recorded: Recorded) -> Reply:
        if not self.replies:
            if recorded.path.rstrip("/").endswith("/embeddings"):
                return embeddings_reply(recorded)
            if self.responder is not None:
                return self.responder(recorded)
            return Reply(500, {"error": {"message": "fake server: no reply queued"}})
        reply = self.replies.pop(0)
        return reply(recorded) if callable(reply) else reply

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                # A client that gave up (a timeout test) leaves nothing to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer()

            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                recorded = Recorded(
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw or b"null"),
                )
                fake.requests.append(recorded)
                reply = fake._next(recorded)
                if reply.delay:
                    threading.Event().wait(reply.delay)
                if reply.events is not None:
                    self.send_response(reply.status)
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("cache-control", "no-cache")
                    self.send_header("connection", "close")
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    for name, data in reply.events:
                        text = data if isinstance(data, str) else json.dumps(data)
                        chunk = (f"event: {name}\n" if name else "") + f"data: {text}\n\n"
                        self.wfile.write(chunk.encode())
                        self.wfile.flush()
                    self.close_connection = True
                    return
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def fake_llm(responder: Callable[[Recorded], Reply] | None = None) -> Iterator[FakeLLM]:
    server = FakeLLM(responder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- wire-format builders --------------------------------------------------------------------


def fake_embedding(text: str, dim: int = 8) -> list[float]:
    """A deterministic vector for a text: sha256 blocks spread over `dim` floats in [-1, 1),
    rounded to float32 so the base64 and float encodings give the same numbers."""
    out: list[float] = []
    block = 0
    while len(out) < dim:
        digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
        for i in range(0, len(digest), 4):
            value = int.from_bytes(digest[i : i + 4], "little") / 2**31 - 1.0
            out.append(struct.unpack("<f", struct.pack("<f", value))[0])
        block += 1
    return out[:dim]


def embeddings_reply(recorded: Recorded) -> Reply:
    """The OpenAI embeddings answer: one `fake_embedding` per input (of `dimensions` floats, 8
    if not asked), as floats or, when `encoding_format` is "base64" (the SDK's default), as
    base64 float32 like the real API."""
    body = recorded.body if isinstance(recorded.body, dict) else {}
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
        return Reply(400, {"error": {"message": "input must be a string or a list of strings"}})
    dim = body.get("dimensions") or 8
    data = []
    for i, text in enumerate(inputs):
        vector = fake_embedding(text, dim)
        encoded: Any = vector
        if body.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dim}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    tokens = sum(len(t.split()) for t in inputs)
    return Reply(
        body={
            "object": "list",
            "data": data,
            "model": body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def openai_completion(
    text: str | None = None,
    tool_calls: list[tuple[str, str, dict[str, Any]]] | None = None,
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": cid,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(args)},
            }
            for cid, name, args in tool_calls
        ]
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-test",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def openai_stream(
    pieces: list[str], tool_call: tuple[str, str, str] | None = None
) -> list[tuple[str | None, Any]]:
    base = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-test",
    }
    events: list[tuple[str | None, Any]] = [
        (
            None,
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            },
        )
    ]
    for piece in pieces:
        events.append(
            (
                None,
                {
                    **base,
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                },
            )
        )
    if tool_call:
        cid, name, args = tool_call
        half = len(args) // 2
        events.append(
            (
                None,
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [
                                    {
                                        "index": 0,
                                        "id": cid,
                                        "type": "function",
                                        "function": {"name": name, "arguments": args[:half]},
                                    }
                                ]
                            },
                            "finish_reason": None,
                        }
                    ],
                },
            )
        )
        events.append(
            (
                None,
                {
                    **base,
                    "choices": [
                        {
                            "index": 0,
                            "delta": {
                                "tool_calls": [{"index": 0, "function": {"arguments": args[half:]}}]
                            },
                            "finish_reason": None,
                        }
                    ],
                },
            )
        )
    events.append(
        (
            None,
            {
                **base,
                "choices": [
                    {
                        "index": 0,
                        "delta": {},
                        "finish_reason": "tool_calls" if tool_call else "stop",
                    }
                ],
            },
        )
    )
    events.append(
        (
            None,
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            },
        )
    )
    events.append((None, "[DONE]"))
    return events


def anthropic_message(
    text: str | None = None, tool_use: tuple[str, str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool_use:
        tid, name, args = tool_use
        content.append({"type": "tool_use", "id": tid, "name": name, "input": args})
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": content,
        "stop_reason": "tool_use" if tool_use else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 13, "output_tokens": 9},
    }


def anthropic_stream(
    pieces: list[str], tool_use: tuple[str, str, str] | None = None
) -> list[tuple[str | None, Any]]:
    events: list[tuple[str | None, Any]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    **anthropic_message(),
                    "content": [],
                    "usage": {"input_tokens": 13, "output_tokens": 1},
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    for piece in pieces:
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
        )
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    if tool_use:
        tid, name, args = tool_use
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 1,
                    "content_block": {"type": "tool_use", "id": tid, "name": name, "input": {}},
                },
            )
        )
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": args},
                },
            )
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 1}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "tool_use" if tool_use else "end_turn",
                    "stop_sequence": None,
                },
                "usage": {"output_tokens": 9},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def calculator_model(recorded: Recorded) -> Reply:
    """A tiny OpenAI-format "model": asked a question with a calculator offered, it calls the tool
    with the arithmetic it finds; given the tool's result, it answers with it. The answer depends
    on the real tool's output, so a client must complete the round trip to print it."""
    messages = recorded.body["messages"]
    if messages[-1]["role"] == "tool":
        return Reply(body=openai_completion(f"The answer is {messages[-1]['content']}."))
    question = next(m["content"] for m in reversed(messages) if m["role"] == "user")
    expression = "".join(ch for ch in question if ch in "0123456789+-*/(). ").strip()
    return Reply(
        body=openai_completion(tool_calls=[("call_1", "calculator", {"expression": expression})])
    )
