"""The built-in hooks against a real runtime: `cache` answers a repeated call to a read-only or
idempotent tool without running it, `retry` runs an idempotent tool again after transient
failures (and never another tool), `redact` masks secrets in answers, `logging` writes one line
per call, and `usage` counts an agent's tokens from the local OpenAI-format server into the
state store, which `llmspell usage` prints."""

from __future__ import annotations

import asyncio
import logging
from asyncio.subprocess import PIPE
from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.hooks import install_builtins
from llmspell.conformance.peers.llm_server import Recorded, Reply, fake_llm, openai_completion
from llmspell.gateway.assembly import Mode, assemble
from llmspell.gateway.config import load
from llmspell.runtime import Invocation, LLMSpellError, Runtime
from llmspell.runtime.component import Annotations, Component
from llmspell.runtime.content import Result
from llmspell.runtime.errors import ErrorCode
from prometheus_client import CollectorRegistry, generate_latest

IDEMPOTENT = Annotations(idempotent=True)
READ_ONLY = Annotations(read_only=True)


def counting(
    rt: Runtime,
    name: str,
    annotations: Annotations,
    fail: int = 0,
    code: ErrorCode = ErrorCode.UNAVAILABLE,
) -> list[dict[str, Any]]:
    """A tool that records each run; its first `fail` runs raise `code`."""
    runs: list[dict[str, Any]] = []

    async def handler(inv: Invocation) -> Result:
        runs.append(inv.arguments)
        if len(runs) <= fail:
            raise LLMSpellError(code, f"down (run {len(runs)})")
        return Result.of({"run": len(runs), "args": inv.arguments})

    rt.catalog.register(Component(name, handler, annotations=annotations))
    return runs


async def call(rt: Runtime, name: str, **arguments: Any) -> Result:
    return await rt.pipeline.invoke(Invocation.create(name, arguments))


async def test_cache_serves_the_second_identical_call_without_running_the_tool() -> None:
    rt = Runtime()
    runs = counting(rt, "lookup", READ_ONLY)
    cache = install_builtins(rt, cache={"ttl": 60, "max_entries": 10}).cache
    first = await rt.pipeline.invoke(Invocation.create("lookup", {"a": 1, "b": [1, 2]}))
    second = await rt.pipeline.invoke(Invocation.create("lookup", {"b": [1, 2], "a": 1}))
    assert len(runs) == 1
    assert second.data == first.data == {"run": 1, "args": {"a": 1, "b": [1, 2]}}
    await call(rt, "lookup", a=2)  # other arguments: another entry
    assert len(runs) == 2
    assert cache is not None and cache.hits == 1


async def test_cache_never_serves_a_tool_not_annotated_read_only_or_idempotent() -> None:
    rt = Runtime()
    runs = counting(rt, "send", Annotations())
    install_builtins(rt, cache={})
    await call(rt, "send", to="x")
    await call(rt, "send", to="x")
    assert len(runs) == 2


async def test_cache_entries_expire_and_are_bounded() -> None:
    rt = Runtime()
    runs = counting(rt, "lookup", IDEMPOTENT)
    now = [0.0]
    cache = install_builtins(rt, cache={"ttl": 5, "max_entries": 2, "clock": lambda: now[0]}).cache
    assert cache is not None
    await call(rt, "lookup", k=1)
    now[0] = 6.0
    await call(rt, "lookup", k=1)  # expired: runs again
    assert len(runs) == 2
    await call(rt, "lookup", k=2)
    await call(rt, "lookup", k=3)
    assert len(cache) == 2  # the least recently used (k=1) went
    await call(rt, "lookup", k=1)
    assert len(runs) == 5


async def test_retry_runs_an_idempotent_tool_again_after_transient_failures() -> None:
    rt = Runtime()
    runs = counting(rt, "fetch", IDEMPOTENT, fail=2)
    retry = install_builtins(rt, retry={"max": 2, "backoff": 0.001}).retry
    result = await call(rt, "fetch", url="u")
    assert result.data["run"] == 3 and len(runs) == 3
    assert retry is not None and retry.retries == 2


async def test_retry_gives_up_after_max_and_the_caller_gets_the_failure() -> None:
    rt = Runtime()
    runs = counting(rt, "fetch", IDEMPOTENT, fail=10)
    install_builtins(rt, retry={"max": 2, "backoff": 0.001})
    with pytest.raises(LLMSpellError) as failed:
        await call(rt, "fetch")
    assert failed.value.code == ErrorCode.UNAVAILABLE and len(runs) == 3


async def test_retry_never_runs_a_tool_that_is_not_idempotent_again() -> None:
    rt = Runtime()
    runs = counting(rt, "charge", Annotations(destructive=True), fail=2)
    install_builtins(rt, retry={"max": 5, "backoff": 0.001})
    with pytest.raises(LLMSpellError) as failed:
        await call(rt, "charge")
    assert failed.value.code == ErrorCode.UNAVAILABLE and len(runs) == 1


async def test_retry_does_not_retry_a_failure_that_is_not_transient() -> None:
    rt = Runtime()
    runs = counting(rt, "parse", IDEMPOTENT, fail=2, code=ErrorCode.INVALID_ARGUMENTS)
    install_builtins(rt, retry={"max": 3, "backoff": 0.001})
    with pytest.raises(LLMSpellError):
        await call(rt, "parse")
    assert len(runs) == 1


async def test_redact_masks_secrets_and_patterns_in_text_and_data() -> None:
    rt = Runtime()

    async def leak(inv: Invocation) -> Result:
        from llmspell.runtime.content import DataPart, TextPart

        return Result([TextPart("key=hunter2 tok=sk-ABCDEFGHIJ"), DataPart({"k": ["hunter2"]})])

    rt.catalog.register(Component("leak", leak))
    install_builtins(rt, redact={"secrets": ["hunter2"], "patterns": [r"sk-[A-Z]{10}"]})
    result = await call(rt, "leak")
    assert result.text == "key=[REDACTED] tok=[REDACTED]"
    assert result.data == {"k": ["[REDACTED]"]}


async def test_logging_writes_one_line_per_call(caplog: pytest.LogCaptureFixture) -> None:
    rt = Runtime()
    counting(rt, "ok", Annotations())
    counting(rt, "down", Annotations(), fail=1)
    install_builtins(rt, logging=True, redact={"secrets": ["down (run 1)"]})
    with caplog.at_level(logging.INFO, logger="llmspell.calls"):
        await call(rt, "ok")
        with pytest.raises(LLMSpellError):
            await call(rt, "down")
    lines = [r.getMessage() for r in caplog.records if r.name == "llmspell.calls"]
    assert len(lines) == 2
    assert lines[0].startswith("tool ok caller=local status=ok duration_ms=")
    assert lines[1].startswith("tool down caller=local status=unavailable duration_ms=")
    assert "[REDACTED]" in lines[1] and "run 1" not in lines[1]


def echo(recorded: Recorded) -> Reply:
    return Reply(body=openai_completion("hi there"))


async def test_usage_counts_tokens_per_agent_and_model_and_the_cli_prints_them(
    tmp_path: Path, cli_env: dict[str, str], llmspell_cmd: list[str]
) -> None:
    with fake_llm(echo) as server:
        config = tmp_path / "llmspell.toml"
        config.write_text(
            f"""
builtins = false
[state]
path = "state.db"
[builtin_hooks]
usage = {{ prices = {{ "openai/gpt-test" = {{ input = 2.0, output = 8.0 }} }} }}
[[agents]]
name = "helper"
model = {{ model = "openai/gpt-test", base_url = "{server.url}/v1" }}
""",
            encoding="utf-8",
        )
        async with assemble(load(str(config)), Mode.serve()) as assembly:
            helper = assembly.agents[0]
            await helper.execute("hello")
            await helper.execute("again")
            usage = assembly.builtin_hooks.usage if assembly.builtin_hooks else None
            assert usage is not None
            spent = usage.totals[("helper", "openai/gpt-test")]
            stored = await assembly.runtime.state.get("usage", "helper|openai/gpt-test")
            registry = CollectorRegistry()
            registry.register(usage)  # what /metrics shows once the lead wires it in
            exposed = generate_latest(registry).decode()
    assert spent[0] > 0 and spent[1] > 0
    assert stored["calls"] == 2 and stored["input_tokens"] == spent[0]
    cost = (spent[0] * 2.0 + spent[1] * 8.0) / 1_000_000  # dollars per million tokens
    assert stored["cost_usd"] == pytest.approx(cost)
    assert (
        f'llmspell_llm_cost_usd_total{{agent="helper",model="openai/gpt-test"}} {cost}' in exposed
    )
    assert (
        f'llmspell_llm_tokens_total{{agent="helper",direction="input",model="openai/gpt-test"}} '
        f"{float(spent[0])}" in exposed
    )
    proc = await asyncio.create_subprocess_exec(
        *llmspell_cmd, "usage", "--config", str(config), stdout=PIPE, stderr=PIPE, env=cli_env
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, stderr.decode()
    out = stdout.decode()
    header, row = out.splitlines()
    assert header.split() == ["AGENT", "MODEL", "INPUT", "OUTPUT", "TOTAL", "COST", "USD"]
    assert row.split() == [
        "helper",
        "openai/gpt-test",
        str(spent[0]),
        str(spent[1]),
        str(spent[0] + spent[1]),
        f"{cost:.6f}",
    ]
