"""The control API's calls against a real `llmspell gateway`: components listed and called
through the pipeline, the model override reaching a workflow's agent step, and every error in
its JSON shape with the right status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcpserver.conftest import RunningGateway, gateway

CONFIG = """
name = "control"
scripts = ["nap.lua"]

[http]
max_body = 4096

[a2a]
enabled = false

[[agents]]
name = "assistant"
model = "offline/demo"
description = "Answers in the demo model's words"

[workflows.ask]
description = "Has the assistant answer"
input_schema = { type = "object", properties = { text = { type = "string" } }, required = ["text"] }

[[workflows.ask.steps]]
name = "answer"
agent = "assistant"
args = "${input.text}"

[policy]
default = "allow"

[[policy.rules]]
effect = "deny"
components = ["hash-calculator"]
"""
NAP = """
Tool.define {
  name = "nap",
  description = "Sleeps for s seconds",
  input_schema = { type = "object", properties = { s = { type = "number" } }, required = { "s" } },
  handler = function(args) sleep(args.s) return "woke" end,
}
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder: Path = tmp_path_factory.mktemp("control")
    (folder / "llmspell.toml").write_text(CONFIG)
    (folder / "nap.lua").write_text(NAP)
    running: RunningGateway
    with gateway(config=folder / "llmspell.toml", cwd=folder) as running:
        base = running.url.removesuffix("/mcp")
        with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as client:
            yield client


def error_of(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return str(error["message"])


def test_components_lists_each_kind_with_its_schema(api: httpx.Client) -> None:
    everything = api.get("/components").json()
    names = {c["name"]: c for c in everything}
    assert names["ask"]["kind"] == "workflow"
    assert names["assistant"]["input_schema"]["required"] == ["text"]
    assert names["calculator"]["input_schema"]["properties"]["expression"]
    assert "hash-calculator" not in names  # denied to this caller, so not listed
    workflows = api.get("/components", params={"kind": "workflow"}).json()
    assert [c["name"] for c in workflows] == ["ask"]
    assert {c["kind"] for c in api.get("/components?kind=tool").json()} == {"tool"}
    error_of(api.get("/components?kind=robot"), 400, "bad_request")


def test_a_tool_call_returns_the_result_as_scripts_see_it(api: httpx.Client) -> None:
    reply = api.post("/tools/calculator", json={"input": {"expression": "6*7"}})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["is_error"] is False
    assert body["text"] == "42"
    assert body["data"]["result"] == 42
    assert body["parts"][0] == {"type": "text", "text": "42"}


def test_an_agent_and_a_workflow_answer_on_their_own_model(api: httpx.Client) -> None:
    agent = api.post("/agents/assistant", json={"input": {"text": "hello"}}).json()
    assert agent["text"] == "(offline demo model) You asked: hello"
    workflow = api.post("/workflows/ask", json={"input": {"text": "hello"}}).json()
    assert workflow["text"] == "(offline demo model) You asked: hello"


@pytest.mark.parametrize("model", ["offline/echo", {"provider": "offline", "model": "echo"}])
def test_model_overrides_the_workflows_agent_step(api: httpx.Client, model: object) -> None:
    reply = api.post("/workflows/ask", json={"input": {"text": "hello"}, "model": model})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["text"] == "echo: hello"  # the echo model, not the configured demo model
    assert body["data"]["steps"][0]["status"] == "ok"
    # The override was this call's only: the next call is back on the configured model.
    again = api.post("/workflows/ask", json={"input": {"text": "hello"}}).json()
    assert again["text"] == "(offline demo model) You asked: hello"


def test_model_overrides_an_agent_called_directly(api: httpx.Client) -> None:
    reply = api.post("/agents/assistant", json={"input": {"text": "hi"}, "model": "offline/echo"})
    assert reply.json()["text"] == "echo: hi"


@pytest.mark.parametrize(
    ("model", "says"),
    [
        ("nope", "malformed model specifier 'nope'"),
        ("martian/x", "unknown provider 'martian'"),
        ("offline/nope", "offline models are 'echo', 'demo'"),
        ({"provider": "offline"}, "needs both provider and model"),
        (
            {"provider": "openai", "model": "x", "base_url": "http://evil.example"},
            "base_url cannot be set over the API",
        ),
        ({"provider": "openai", "model": "x", "api_key_env": "HOME"}, "api_key_env cannot"),
        (7, "a model is 'provider/model' or a table"),
    ],
)
def test_a_bad_model_is_a_400_saying_why(api: httpx.Client, model: object, says: str) -> None:
    reply = api.post("/workflows/ask", json={"input": {"text": "x"}, "model": model})
    assert says in error_of(reply, 400, "bad_model")


def test_unknown_components_are_404_with_suggestions(api: httpx.Client) -> None:
    reply = api.post("/tools/calculater", json={"input": {}})
    message = error_of(reply, 404, "unknown_component")
    assert "did you mean 'calculator'" in message
    assert reply.json()["error"]["data"]["suggestions"] == ["calculator"]
    # The right name under the wrong kind is no call either.
    wrong = api.post("/tools/ask", json={"input": {"text": "x"}})
    assert "'ask' is a workflow" in error_of(wrong, 404, "unknown_component")


def test_errors_have_one_shape_and_the_right_status(api: httpx.Client) -> None:
    schema = api.post("/tools/calculator", json={"input": {}})
    assert "'expression' is a required property" in error_of(schema, 422, "invalid_arguments")
    malformed = api.post("/tools/calculator", content=b'{"input":')
    error_of(malformed, 400, "malformed_json")
    error_of(api.post("/tools/calculator", json=[1]), 400, "bad_request")
    missing = api.post("/tools/calculator", json={"args": {}})
    assert "'input' is a required property" in error_of(missing, 400, "bad_request")
    negative = api.post("/tools/calculator", json={"input": {}, "timeout": -1})
    assert "at 'timeout'" in error_of(negative, 400, "bad_request")
    denied = api.post("/tools/hash-calculator", json={"input": {"operation": "hash"}})
    assert "may not call" in error_of(denied, 403, "denied")
    big = api.post("/tools/calculator", json={"input": {"expression": "1+" * 3000 + "1"}})
    assert big.status_code == 413
    assert api.get("/nowhere").json()["error"]["code"] == "not_found"
    error_of(api.get("/tools/calculator"), 405, "method_not_allowed")


def test_a_call_past_its_timeout_is_504(api: httpx.Client) -> None:
    reply = api.post("/tools/nap", json={"input": {"s": 5}, "timeout": 0.3})
    error_of(reply, 504, "timeout")
    assert reply.elapsed.total_seconds() < 3
    assert api.post("/tools/nap", json={"input": {"s": 0.01}}).json()["text"] == "woke"


def test_jobs_on_a_gateway_without_a_scheduler_are_404(api: httpx.Client) -> None:
    for reply in (api.get("/jobs"), api.post("/jobs/tick/run"), api.get("/jobs/tick/runs")):
        assert "no scheduler runs here" in error_of(reply, 404, "no_scheduler")
