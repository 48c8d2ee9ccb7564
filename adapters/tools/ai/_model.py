"""How an `ai` tool asks a model: a one-turn LLM agent (no tools) on the `provider/model` the call
names, with the endpoint and key coming only from `[tools.NAME]` settings or the environment.

A call may name a model (`openai/gpt-4o-mini`, `ollama/llama3.2`, `offline/echo`) but never its
endpoint, key or a transcript file: those would let a caller send the configured key to a host
of its choosing or read files outside the sandbox. Settings: `base_url`, `api_key_env`,
`api_key`, `timeout`, `temperature`, `max_tokens`, and `models` (a list: when given, only these
may be named).

The agent runs on the pipeline the tool environment carries when it carries one (so `before_llm`
and `after_llm` hooks apply), else on a private, empty pipeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llmspell.runtime import Annotations, ErrorCode, LLMSpellError

from .._common import refuse

if TYPE_CHECKING:
    from llmspell.runtime import Pipeline

    from ..env import ToolEnv

MODEL_PROPERTY: dict[str, Any] = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_.-]+/.+$",
    "description": "Ask this LLM ('provider/model', e.g. 'openai/gpt-4o-mini' or "
    "'ollama/llama3.2') instead of the offline method; its endpoint and key come from the "
    "tool's settings or the environment",
}

MAY_ASK_A_MODEL = Annotations(read_only=True, idempotent=False, destructive=False, open_world=True)
"""Reads nothing it changes; offline it is repeatable, but with `model` it reaches an outside
service whose answers vary, so it claims neither idempotence nor a closed world."""

_SETTINGS = ("base_url", "api_key_env", "api_key", "timeout", "temperature", "max_tokens")


def model_spec(env: ToolEnv, tool_name: str, name: str) -> Any:
    """The call's `provider/model` with this tool's configured endpoint options."""
    from llmspell.adapters.llm.spec import parse_model

    settings = env.settings_for(tool_name)
    allowed = settings.get("models")
    if allowed is not None and name not in list(allowed):
        raise refuse(tool_name, f"model {name!r} is not one of the configured models {allowed}")
    spec = parse_model(name)
    if spec.provider == "offline" and spec.model not in ("echo", "demo"):
        raise refuse(tool_name, "the offline models a call may name are 'echo' and 'demo'")
    return spec.with_overrides(**{k: settings[k] for k in _SETTINGS if k in settings})


def _pipeline(env: ToolEnv) -> Pipeline:
    from llmspell.runtime import Catalog, EventBus, HookRegistry, Pipeline

    return env.pipeline or Pipeline(Catalog(), HookRegistry(), EventBus())


async def ask(
    env: ToolEnv,
    tool_name: str,
    model: str,
    system: str,
    text: str,
    images: Sequence[bytes] = (),
) -> str:
    """One question to the model; its text answer."""
    from llmspell.adapters.llm.agent import Agent, AgentSpec

    spec = AgentSpec(
        name=tool_name,
        model=model_spec(env, tool_name, model),
        system_prompt=system,
        max_steps=1,  # no tools: one turn is the whole answer
    )
    agent = Agent(spec, _pipeline(env))
    try:
        reply = await agent.execute(text, list(images))
    finally:
        await agent.aclose()
    return reply.text


def schema_instructions(schema: dict[str, Any]) -> str:
    return (
        "Answer with a single JSON object and nothing else (no prose, no code fence). "
        "It must validate against this JSON Schema:\n" + json.dumps(schema, indent=1)
    )


async def ask_json(
    env: ToolEnv,
    tool_name: str,
    model: str,
    system: str,
    text: str,
    schema: dict[str, Any],
    images: Sequence[bytes] = (),
) -> dict[str, Any]:
    """A structured answer: the schema goes in the instructions (every provider can follow
    those), and the reply is parsed and validated; a reply that does not fit is an error that
    quotes its start, so the caller sees what the model said."""
    from llmspell.runtime.schema import CompiledSchema

    said = await ask(
        env, tool_name, model, f"{system}\n\n{schema_instructions(schema)}", text, images
    )
    value = parse_json_object(said)
    failure = None
    if value is None:
        failure = "did not answer with a JSON object"
    else:
        try:
            CompiledSchema(schema).check(tool_name, value)
        except LLMSpellError as exc:
            failure = f"answered JSON that does not fit the schema ({exc})"
    if failure is not None or value is None:
        raise LLMSpellError(
            ErrorCode.COMPONENT_FAILED,
            f"{tool_name}: {model} {failure}: {said[:200]!r}",
            data={"model": model, "answer": said[:2000]},
        )
    return value


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in a reply: the whole text, a fenced block, or the outermost braces."""
    candidates = [text.strip()]
    candidates += [m.group(1).strip() for m in _FENCE.finditer(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None
