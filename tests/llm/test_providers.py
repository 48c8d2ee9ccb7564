"""Each provider through its real SDK against a local server speaking the real wire format."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator

import pytest
from llmspell.adapters.llm.provider import Provider
from llmspell.adapters.llm.registry import create_provider
from llmspell.adapters.llm.spec import parse_model
from llmspell.adapters.llm.types import ChatRequest, Done, ImageInput, Message, TextDelta, ToolSpec
from llmspell.conformance.peers.llm_server import (
    FakeLLM,
    Reply,
    anthropic_message,
    anthropic_stream,
    fake_llm,
    openai_completion,
    openai_stream,
)
from llmspell.runtime import ErrorCode, LLMSpellError

CALC = ToolSpec(
    "calculator",
    "Evaluates arithmetic",
    {
        "type": "object",
        "properties": {"expression": {"type": "string"}},
        "required": ["expression"],
    },
)


@pytest.fixture
async def server() -> AsyncIterator[FakeLLM]:
    """The fake server, plus the providers built on it, closed while the loop still runs."""
    with fake_llm() as s:
        yield s
        for provider in OPEN:
            await provider.aclose()
        OPEN.clear()


OPEN: list[Provider] = []


def track(provider: Provider) -> Provider:
    OPEN.append(provider)
    return provider


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-anthropic")


def openai(server: FakeLLM, **extra: object) -> Provider:
    return track(
        create_provider(
            {
                "provider": "openai",
                "model": "gpt-test",
                "base_url": server.url + "/v1",
                "max_retries": 2,
                **extra,
            }
        )
    )


def ask(text: str, **kw: object) -> ChatRequest:
    return ChatRequest([Message("system", "Be brief."), Message("user", text)], **kw)  # type: ignore[arg-type]


# -- OpenAI --------------------------------------------------------------------------------------


async def test_openai_plain(server: FakeLLM) -> None:
    server.queue(Reply(body=openai_completion("Paris.")))
    done = await openai(server, temperature=0.2, max_tokens=50).complete(ask("Capital of France?"))
    assert done.text == "Paris." and done.tool_calls == []
    assert (done.usage.input_tokens, done.usage.output_tokens) == (11, 7)
    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test-openai"
    assert sent.body == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Capital of France?"},
        ],
        "temperature": 0.2,
        "max_tokens": 50,
    }


async def test_openai_streaming(server: FakeLLM) -> None:
    server.queue(Reply(events=openai_stream(["Hel", "lo ", "there"])))
    events = [e async for e in openai(server).stream(ask("hi"))]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo ", "there"]
    final = events[-1]
    assert isinstance(final, Done) and final.completion.text == "Hello there"
    assert final.completion.usage.total_tokens == 8
    assert server.requests[0].body["stream"] is True
    assert server.requests[0].body["stream_options"] == {"include_usage": True}


async def test_openai_tool_calls_plain_and_streamed(server: FakeLLM) -> None:
    server.queue(
        Reply(body=openai_completion(tool_calls=[("call_9", "calculator", {"expression": "6*7"})])),
        Reply(
            events=openai_stream([], tool_call=("call_10", "calculator", '{"expression": "1+1"}'))
        ),
    )
    provider = openai(server)
    done = await provider.complete(ask("6*7?", tools=[CALC]))
    assert [(c.id, c.name, c.arguments) for c in done.tool_calls] == [
        ("call_9", "calculator", {"expression": "6*7"})
    ]
    assert server.requests[0].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "calculator",
                "description": "Evaluates arithmetic",
                "parameters": CALC.parameters,
            },
        }
    ]
    events = [e async for e in provider.stream(ask("1+1?", tools=[CALC]))]
    final = events[-1]
    assert isinstance(final, Done)
    assert [(c.id, c.name, c.arguments) for c in final.completion.tool_calls] == [
        ("call_10", "calculator", {"expression": "1+1"})
    ]


async def test_openai_429_honours_retry_after(server: FakeLLM) -> None:
    server.queue(
        Reply(
            429,
            {"error": {"message": "slow down", "type": "rate_limit"}},
            headers={"retry-after": "1"},
        ),
        Reply(body=openai_completion("ok")),
    )
    started = time.monotonic()
    done = await openai(server).complete(ask("x"))
    assert done.text == "ok"
    assert time.monotonic() - started >= 0.95  # waited the second the server asked for
    assert len(server.requests) == 2


async def test_openai_500_then_success(server: FakeLLM) -> None:
    server.queue(
        Reply(500, {"error": {"message": "boom"}}), Reply(body=openai_completion("recovered"))
    )
    assert (await openai(server).complete(ask("x"))).text == "recovered"
    assert len(server.requests) == 2


async def test_openai_errors_name_provider_and_model(server: FakeLLM) -> None:
    server.queue(*[Reply(503, {"error": {"message": "overloaded"}})] * 3)
    with pytest.raises(LLMSpellError) as info:
        await openai(server, max_retries=1).complete(ask("x"))
    assert info.value.code == ErrorCode.PROVIDER_ERROR
    assert info.value.message == "openai/gpt-test: overloaded (HTTP 503)"


async def test_openai_timeout(server: FakeLLM) -> None:
    server.queue(Reply(body=openai_completion("late"), delay=2))
    with pytest.raises(LLMSpellError) as info:
        await openai(server, timeout=0.3, max_retries=0).complete(ask("x"))
    assert info.value.code == ErrorCode.TIMEOUT
    assert info.value.message == "openai/gpt-test: no answer within 0.3 s"


async def test_openai_images(server: FakeLLM) -> None:
    server.queue(Reply(body=openai_completion("a red dot")))
    png = b"\x89PNG\r\n\x1a\nfake"
    request = ChatRequest(
        [
            Message(
                "user",
                "What is this?",
                images=(
                    ImageInput("image/png", data=png),
                    ImageInput(url="https://example.test/cat.jpg"),
                ),
            )
        ]
    )
    await openai(server).complete(request)
    content = server.requests[0].body["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "What is this?"}
    assert content[1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(png).decode()},
    }
    assert content[2] == {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpg"}}


# -- Anthropic -----------------------------------------------------------------------------------


def anthropic(server: FakeLLM) -> Provider:
    return track(
        create_provider(
            {
                "provider": "anthropic",
                "model": "claude-test",
                "base_url": server.url,
                "max_retries": 0,
            }
        )
    )


async def test_anthropic_plain(server: FakeLLM) -> None:
    server.queue(Reply(body=anthropic_message("Bonjour.")))
    done = await anthropic(server).complete(ask("Say hello in French"))
    assert done.text == "Bonjour." and (done.usage.input_tokens, done.usage.output_tokens) == (
        13,
        9,
    )
    sent = server.requests[0]
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == "Bearer sk-test-anthropic"  # how this SDK sends api_key
    assert sent.headers["anthropic-version"]
    assert sent.body == {
        "model": "claude-test",
        "max_tokens": 4096,
        "system": "Be brief.",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Say hello in French"}]}
        ],
    }


async def test_anthropic_streaming_and_tool_use(server: FakeLLM) -> None:
    server.queue(
        Reply(
            events=anthropic_stream(
                ["Let me ", "compute."], tool_use=("toolu_1", "calculator", '{"expression": "2+2"}')
            )
        ),
        Reply(body=anthropic_message(tool_use=("toolu_2", "calculator", {"expression": "3*3"}))),
    )
    provider = anthropic(server)
    events = [e async for e in provider.stream(ask("2+2?", tools=[CALC]))]
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Let me ", "compute."]
    final = events[-1]
    assert isinstance(final, Done)
    assert final.completion.text == "Let me compute."
    assert [(c.id, c.name, c.arguments) for c in final.completion.tool_calls] == [
        ("toolu_1", "calculator", {"expression": "2+2"})
    ]
    assert server.requests[0].body["tools"] == [
        {
            "name": "calculator",
            "description": "Evaluates arithmetic",
            "input_schema": CALC.parameters,
        }
    ]
    assert server.requests[0].body["stream"] is True
    done = await provider.complete(ask("3*3?", tools=[CALC]))
    assert [(c.name, c.arguments) for c in done.tool_calls] == [
        ("calculator", {"expression": "3*3"})
    ]


async def test_anthropic_error(server: FakeLLM) -> None:
    server.queue(
        Reply(
            400,
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "max_tokens too large"},
            },
        )
    )
    with pytest.raises(LLMSpellError) as info:
        await anthropic(server).complete(ask("x"))
    assert info.value.message == "anthropic/claude-test: max_tokens too large (HTTP 400)"


# -- Ollama (its OpenAI-compatible endpoint) -----------------------------------------------------


async def test_ollama(server: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    server.queue(Reply(body=openai_completion("llama says hi")))
    provider = track(create_provider({"model": "ollama/llama3.2", "base_url": server.url + "/v1"}))
    assert (await provider.complete(ask("hi"))).text == "llama says hi"
    assert server.requests[0].path == "/v1/chat/completions"
    assert server.requests[0].body["model"] == "llama3.2"


# -- specifiers and configuration ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("gpt-4o", "malformed model specifier 'gpt-4o'"),
        ("/gpt", "malformed"),
        ("nosuch/model", "unknown provider 'nosuch'"),
        ({"provider": "openai"}, "needs both provider and model"),
        ({"model": "openai/x", "colour": "red"}, "unknown model option(s) colour"),
        (42, "not int"),
    ],
)
def test_bad_specifiers_list_known_providers(value: object, fragment: str) -> None:
    with pytest.raises(LLMSpellError) as info:
        parse_model(value)
    assert fragment in info.value.message
    assert "known providers: anthropic, deepseek, groq" in info.value.message


def test_specifier_forms() -> None:
    assert parse_model("openrouter/meta-llama/llama-3-8b").model == "meta-llama/llama-3-8b"
    spec = parse_model(
        {"model": "openai/gpt-4o-mini", "base_url": "http://127.0.0.1:9/v1", "temperature": 0.1}
    )
    assert (spec.provider, spec.model, spec.base_url, spec.temperature) == (
        "openai",
        "gpt-4o-mini",
        "http://127.0.0.1:9/v1",
        0.1,
    )
    assert "sk-" not in repr(parse_model({"model": "openai/x", "api_key": "sk-secret"}))


def test_missing_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    with pytest.raises(LLMSpellError) as info:
        create_provider("groq/llama-3.1-8b")
    assert info.value.code == ErrorCode.NOT_CONFIGURED
    assert (
        info.value.message
        == "groq/llama-3.1-8b: no API key; set GROQ_API_KEY in the environment or api_key in the config"
    )


async def test_missing_capability_is_named() -> None:
    provider = create_provider("anthropic/claude-test")
    try:
        with pytest.raises(LLMSpellError) as info:
            await provider.complete(ChatRequest([Message("user", "x")], json_mode=True))
    finally:
        await provider.aclose()
    assert info.value.message == "anthropic/claude-test does not support json_mode"
