"""Workflows declared in `llmspell.toml`: `${...}` templates, the config's checks (each error
names its key path), and config workflows run for real through the assembly: built-in tools,
the offline agent, sequential, parallel and loop."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from llmspell.gateway.assembly import Mode, assemble
from llmspell.gateway.config import ConfigError, GatewayConfig, load
from llmspell.runtime import DataPart, ErrorCode, Invocation, LLMSpellError, Result, TextPart
from llmspell.runtime.workflow import RunContext, template

AGENT = '[[agents]]\nname = "assistant"\nmodel = "offline/demo"\n'
SHOUT = """
[workflows.shout]
description = "upper-case, hash, ask"
input_schema = { type = "object", properties = { text = { type = "string" } }, required = ["text"] }
steps = [
  { name = "upper", tool = "text-manipulator", args = { operation = "uppercase", text = "${input.text}" } },
  { name = "digest", tool = "hash-calculator", args = { operation = "hash", input = "${steps.upper.text}" } },
  { name = "answer", agent = "assistant", args = "${steps.upper.text} ${steps.digest.data.digest}" },
]
"""


def write(tmp: Path, text: str) -> GatewayConfig:
    path = tmp / "llmspell.toml"
    path.write_text(text, encoding="utf-8")
    return load(path)


def problem(tmp: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        write(tmp, text)
    return str(caught.value)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def context() -> RunContext:
    ctx = RunContext({"n": 3, "name": "Ada", "items": [1, 2], "deep": {"a": {"b": True}}})
    ctx.steps["fetch"] = Result([TextPart("fetched"), DataPart({"user": {"ids": [7, 8]}})])
    ctx.state["k"] = "v"
    return ctx


# -- templates -------------------------------------------------------------------------------


async def test_a_lone_reference_keeps_its_value_and_type() -> None:
    ctx = context()
    assert await template.compile("${input.n}")(ctx) == 3
    assert await template.compile("${input.items}")(ctx) == [1, 2]
    assert await template.compile("${input.deep.a.b}")(ctx) is True
    assert await template.compile("${steps.fetch.data.user.ids.1}")(ctx) == 8
    assert await template.compile("${steps.fetch.data}")(ctx) == {"user": {"ids": [7, 8]}}
    assert await template.compile("${steps.fetch.is_error}")(ctx) is False
    assert await template.compile("${ state.k }")(ctx) == "v"
    assert await template.compile("${input}")(ctx) == ctx.input


async def test_references_in_text_are_interpolated_as_text_or_json() -> None:
    ctx = context()
    fn = template.compile("hi ${input.name}: n=${input.n} ids=${steps.fetch.data.user.ids}")
    assert await fn(ctx) == "hi Ada: n=3 ids=[7, 8]"
    assert await template.compile("${steps.fetch.text}!")(ctx) == "fetched!"
    assert await template.compile("cost $${input.n} is ${input.n}")(ctx) == "cost ${input.n} is 3"
    assert await template.compile("no references")(ctx) == "no references"


async def test_templates_apply_inside_tables_and_lists() -> None:
    fn = template.compile({"a": "${input.n}", "b": ["${input.name}", 5, {"c": "x${state.k}"}]})
    assert await fn(context()) == {"a": 3, "b": ["Ada", 5, {"c": "xv"}]}


async def test_loop_items_and_index() -> None:
    ctx = context().fork(item={"word": "w"}, index=2)
    assert await template.compile("${index}. ${item.word}")(ctx) == "2. w"
    assert await template.compile("${item}")(ctx) == {"word": "w"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("${input.missing}", "${input.missing}: input has no 'missing'"),
        ("${input.deep.a.c}", "input.deep.a has no 'c'"),
        ("${input.items.5}", "input.items has no '5'"),
        ("x ${steps.later.text}", "step 'later' has not run"),
        ("${steps.fetch.data.user.name}", "steps.fetch.data.user has no 'name'"),
        ("${item}", "${item}: not in a loop"),
    ],
)
async def test_an_unknown_reference_is_an_invalid_arguments_error_naming_it(
    text: str, named: str
) -> None:
    with pytest.raises(LLMSpellError) as caught:
        await template.compile(text)(context())
    assert caught.value.code == ErrorCode.INVALID_ARGUMENTS
    assert named in caught.value.message and "unknown reference" in caught.value.message


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("${nope.x}", "a reference starts with input, steps, state, item, index"),
        ("${input..x}", "an empty name between dots"),
        ("${steps}", "name the step"),
        ("${steps.a.body}", "a step has text, data, is_error, not 'body'"),
        ("${index.x}", "no fields"),
        ("half ${input.x", "unclosed"),
    ],
)
def test_malformed_references_fail_when_compiled(value: str, found: str) -> None:
    with pytest.raises(LLMSpellError) as caught:
        template.compile(value)
    assert found in caught.value.message
    assert list(template.problems({"k": value}, steps=["a"])) == [("k", caught.value.message)]


def test_problems_name_the_key_path_and_what_is_not_known() -> None:
    value = {"a": ["${steps.x.text}", "${item}"], "b": "${steps.y.data.z}", "c": 1}
    assert list(template.problems(value, steps=["y"])) == [
        ("a.0", "${steps.x.text} names no step that runs before it (those: y)"),
        ("a.1", "${item} is only defined in a loop's steps"),
    ]
    assert list(template.problems(value, steps=["x", "y"], loop=True)) == []
    assert template.single("${input.items}") is not None
    assert template.single("x ${input.items}") is None


# -- config checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "calculator" }, { name = "b" }]\n',
            "workflows.shout.steps.1: give exactly one of tool, agent or workflow",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "x", agent = "y" }]\n',
            "workflows.shout.steps.0: give exactly one of tool, agent or workflow",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t" }, { name = "a", tool = "t" }]\n',
            "workflows.shout.steps.1.name: 'a' is used by an earlier step",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t", args = { x = "${steps.b.text}" } },'
            ' { name = "b", tool = "t" }]\n',
            "workflows.shout.steps.0.args.x: ${steps.b.text} names no step that runs before it",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t", args = { x = ["${item}"] } }]\n',
            "workflows.shout.steps.0.args.x.0: ${item} is only defined in a loop's steps",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t", args = "${input.x}" }]\n',
            "workflows.shout.steps.0.args: a table (a string is an agent's text)",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t" }]\noutput = "${steps.z.text}"\n',
            "workflows.shout.output: ${steps.z.text} names no step",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t", args = { x = "${what.x}" } }]\n',
            "workflows.shout.steps.0.args.x: ${what.x}: a reference starts with input",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t" }]\nover = "${input.xs}"\n'
            "max_concurrency = 2\n",
            'workflows.shout.max_concurrency: only for type = "parallel"',
        ),
        (
            '[workflows.shout]\ntype = "loop"\nsteps = [{ name = "a", tool = "t" }]\n',
            'workflows.shout.over: a loop needs one reference to a list, e.g. "${input.items}"',
        ),
        (
            '[workflows.shout]\ntype = "fanout"\nsteps = [{ name = "a", tool = "t" }]\n',
            "workflows.shout.type: Input should be 'sequential', 'parallel' or 'loop'",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a.b", tool = "t" }]\n',
            "workflows.shout.steps.0.name: String should match pattern",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t", on_error = "ignore" }]\n',
            "workflows.shout.steps.0.on_error: Input should be 'fail' or 'continue'",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", tool = "t", tol = 1 }]\n',
            "workflows.shout.steps.0.tol: Extra inputs are not permitted",
        ),
        ("[workflows.shout]\nsteps = []\n", "workflows.shout.steps: List should have at least 1"),
        (
            '[workflows.shout]\ninput_schema = { type = "array" }\nsteps = [{ name = "a", tool = "t" }]\n',
            "workflows.shout.input_schema: Value error, a workflow takes an object",
        ),
        (
            '[workflows.shout]\nsteps = [{ name = "a", workflow = "shout" }]\n',
            "workflows.shout.steps.0.workflow: runs itself",
        ),
        (
            '[workflows.ping]\nsteps = [{ name = "a", workflow = "pong" }]\n'
            '[workflows.pong]\nsteps = [{ name = "a", tool = "t" }, { name = "b", workflow = "ping" }]\n',
            "workflows.ping.steps.0.workflow: runs 'ping' again",
        ),
    ],
)
def test_config_errors_name_the_key_path(tmp_path: Path, toml: str, message: str) -> None:
    assert message in problem(tmp_path, toml)


def test_every_problem_of_a_workflow_is_reported_at_once(tmp_path: Path) -> None:
    found = problem(
        tmp_path,
        '[workflows.w]\nsteps = [{ name = "a", tool = "t", args = { x = "${steps.q.text}" } },'
        ' { name = "a", tool = "t" }]\noutput = "${item}"\n',
    )
    assert "workflows.w.steps.0.args.x:" in found
    assert "workflows.w.steps.1.name:" in found
    assert "workflows.w.output:" in found


def test_a_good_config_parses_into_typed_steps(tmp_path: Path) -> None:
    config = write(tmp_path, AGENT + SHOUT)
    shout = config.workflows["shout"]
    assert shout.type == "sequential" and [s.target for s in shout.steps] == [
        "text-manipulator",
        "hash-calculator",
        "assistant",
    ]
    assert shout.steps[2].args == "${steps.upper.text} ${steps.digest.data.digest}"
    assert GatewayConfig().workflows == {}


# -- running config workflows ------------------------------------------------------------------


async def run(
    config: GatewayConfig, name: str, args: dict[str, Any]
) -> tuple[Result, list[str | None]]:
    seen: list[str | None] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    async with assemble(config, Mode.workflows()) as parts:
        inv = Invocation.create(name, args, progress=progress)
        return await parts.runtime.pipeline.invoke(inv), seen


async def test_a_config_workflow_chains_builtin_tools_and_the_offline_agent(tmp_path: Path) -> None:
    config = write(tmp_path, AGENT + SHOUT)
    async with assemble(config, Mode.workflows()) as parts:
        found = parts.runtime.catalog.get("shout")
        assert (found.kind, found.source, found.description) == (
            "workflow",
            "config",
            "upper-case, hash, ask",
        )
        assert found.input_schema["required"] == ["text"]
    result, seen = await run(config, "shout", {"text": "hello"})
    assert not result.is_error
    assert result.text == f"(offline demo model) You asked: HELLO {sha256('HELLO')}"
    assert [s["name"] for s in result.data["steps"]] == ["upper", "digest", "answer"]
    assert {s["status"] for s in result.data["steps"]} == {"ok"}
    assert seen == ["step 1/3: upper", "step 2/3: digest", "step 3/3: answer"]
    with pytest.raises(LLMSpellError, match="'text' is a required property"):
        await run(config, "shout", {})  # the input schema, checked by the pipeline


async def test_serve_mode_registers_config_workflows(tmp_path: Path) -> None:
    config = write(tmp_path, AGENT + SHOUT)
    assert "workflows" in Mode.serve().start
    async with assemble(config, Mode.serve()) as parts:
        assert parts.summary()["workflows"] == ["shout"]
    async with assemble(config, Mode.catalog()) as parts:
        assert "shout" not in parts.runtime.catalog


async def test_output_templates_and_a_continued_failure(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
[workflows.soft]
steps = [
  { name = "bad", tool = "calculator", args = { expression = "1/0" }, on_error = "continue" },
  { name = "sum", tool = "calculator", args = { expression = "${input.a} + ${input.b}" } },
]
output = { failed = "${steps.bad.is_error}", total = "${steps.sum.data.result}", line = "= ${steps.sum.text}" }
""",
    )
    result, _ = await run(config, "soft", {"a": 2, "b": 40})
    assert not result.is_error
    assert result.data["output"] == {"failed": True, "total": 42, "line": "= 42"}
    assert [s["status"] for s in result.data["steps"]] == ["failed", "ok"]


async def test_an_unknown_reference_at_run_time_fails_the_step_naming_it(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
[workflows.broken]
steps = [
  { name = "upper", tool = "text-manipulator", args = { operation = "uppercase", text = "${input.text}" } },
  { name = "use", tool = "hash-calculator", args = { operation = "hash", input = "${steps.upper.data.nope}" } },
  { name = "never", tool = "calculator", args = { expression = "1" } },
]
""",
    )
    result, seen = await run(config, "broken", {"text": "x"})
    assert result.is_error
    assert "step 'use' failed" in result.text
    assert (
        "unknown reference ${steps.upper.data.nope}: steps.upper.data has no 'nope'" in result.text
    )
    assert [s["status"] for s in result.data["steps"]] == ["ok", "failed", "skipped"]
    assert seen == ["step 1/3: upper"]
    missing, _ = await run(config, "broken", {})
    assert missing.is_error and "input has no 'text'" in missing.text


async def test_a_parallel_config_workflow_runs_each_step_as_a_branch(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        AGENT
        + """
[workflows.fan]
type = "parallel"
max_concurrency = 2
steps = [
  { name = "up", tool = "text-manipulator", args = { operation = "uppercase", text = "${input.text}" } },
  { name = "rev", tool = "text-manipulator", args = { operation = "reverse", text = "${input.text}" } },
  { name = "ask", agent = "assistant", args = "${input.text}" },
]
output = { up = "${steps.up.text}", rev = "${steps.rev.text}", ask = "${steps.ask.text}" }

[workflows.first]
type = "parallel"
join = "any"
steps = [
  { name = "bad", tool = "calculator", args = { expression = "1/0" } },
  { name = "good", tool = "calculator", args = { expression = "6*7" } },
]
""",
    )
    result, seen = await run(config, "fan", {"text": "abc"})
    assert not result.is_error
    assert result.data["output"] == {
        "up": "ABC",
        "rev": "cba",
        "ask": "(offline demo model) You asked: abc",
    }
    assert sorted(s["name"] for s in result.data["steps"]) == [
        "ask/assistant",
        "rev/text-manipulator",
        "up/text-manipulator",
    ]
    assert len(seen) == 3 and all(m and m.startswith("step ") for m in seen)
    first, _ = await run(config, "first", {})
    assert not first.is_error and first.text == "42" and first.data["winner"] == "good"


async def test_a_loop_config_workflow_runs_its_steps_per_item(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        AGENT
        + """
[workflows.each]
type = "loop"
over = "${input.items}"
max_iterations = 3
steps = [
  { name = "up", tool = "text-manipulator", args = { operation = "uppercase", text = "${item.word}" } },
  { name = "say", agent = "assistant", args = "${index}: ${steps.up.text}" },
]
""",
    )
    words = [{"word": w} for w in ("a", "b", "c", "d")]
    result, seen = await run(config, "each", {"items": words})
    assert not result.is_error
    assert result.data["iterations"] == 3 and result.data["stopped"] == "max_iterations"
    assert [r["text"] for r in result.data["results"]] == [
        f"(offline demo model) You asked: {i}: {w}" for i, w in ((1, "A"), (2, "B"), (3, "C"))
    ]
    assert seen == [f"step {i}/6: {n}" for i, n in enumerate(["up", "say"] * 3, start=1)]
    notalist, _ = await run(config, "each", {"items": "abc"})
    assert notalist.is_error and "`over` must give a list, not str" in notalist.text


async def test_a_config_workflow_may_run_another_and_names_cannot_clash(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
[workflows.inner]
steps = [{ name = "calc", tool = "calculator", args = { expression = "${input.e}" } }]
[workflows.outer]
steps = [
  { name = "run", workflow = "inner", args = { e = "${input.e}" } },
  { name = "twice", tool = "calculator", args = { expression = "2 * ${steps.run.text}" } },
]
""",
    )
    result, _ = await run(config, "outer", {"e": "20 + 1"})
    assert not result.is_error and result.text == "42"
    clash = write(
        tmp_path, '[workflows.calculator]\nsteps = [{ name = "a", tool = "uuid-generator" }]\n'
    )
    with pytest.raises(ConfigError, match=r"workflows\.calculator: the name is taken by builtin"):
        async with assemble(clash, Mode.workflows()):
            pass
