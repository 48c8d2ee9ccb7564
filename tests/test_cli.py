"""The `llmspell` command as a user runs it: real subprocesses, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def llmspell(
    cmd: list[str], env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args], env=env, cwd=cwd or ROOT, capture_output=True, text=True, timeout=60
    )


def test_version(llmspell_cmd: list[str], cli_env: dict[str, str]) -> None:
    proc = llmspell(llmspell_cmd, cli_env, "--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("llmspell ")


@pytest.mark.parametrize("script", ["examples/hello.lua", "examples/hello.js"])
def test_run_hello_with_args(llmspell_cmd: list[str], cli_env: dict[str, str], script: str) -> None:
    proc = llmspell(llmspell_cmd, cli_env, "run", script, "--", "World")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hello, World!\n"


@pytest.mark.parametrize("script", ["examples/tour.lua", "examples/tour.js"])
def test_tour_example(llmspell_cmd: list[str], cli_env: dict[str, str], script: str) -> None:
    proc = llmspell(llmspell_cmd, cli_env, "run", script)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "calculator says 1028"
    assert lines[1] == "Hello, Ada!"
    assert lines[2].startswith("without a name: [invalid_arguments]") and "'name'" in lines[2]
    assert lines[3] == "visits: 1"
    assert lines[4] == "event tour.hello: events work"
    assert lines[5] == "Hello, GRACE!"
    assert lines[6] == "tool calls seen by the subscriber: 1"


def test_tour_examples_agree(llmspell_cmd: list[str], cli_env: dict[str, str]) -> None:
    lua = llmspell(llmspell_cmd, cli_env, "run", "examples/tour.lua")
    js = llmspell(llmspell_cmd, cli_env, "run", "examples/tour.js")
    assert lua.stdout == js.stdout and lua.returncode == js.returncode == 0


def test_workflow_examples_run_all_five_patterns_alike(
    llmspell_cmd: list[str], cli_env: dict[str, str]
) -> None:
    lua = llmspell(llmspell_cmd, cli_env, "run", "examples/workflow.lua")
    js = llmspell(llmspell_cmd, cli_env, "run", "examples/workflow.js")
    assert lua.returncode == js.returncode == 0, lua.stderr + js.stderr
    assert lua.stdout == js.stdout
    lines = lua.stdout.splitlines()
    assert lines[0] == "sequential:\tHELLO 3733cd977ff8"  # sha256("HELLO") starts so
    assert lines[1] == "conditional:\t42"
    assert lines[2].startswith("conditional:\t(offline demo model)")
    assert lines[3] == "loop:\t2,1,3"
    assert lines[4] == "parallel:\tABC | cba | rested"
    assert lines[5] == "stream:\t100 items, sum of squares 338350"
    assert lines[6:] == [
        f"workflow\t{n}" for n in ("shout-and-hash", "triage", "count-words", "fan-out", "squares")
    ]


@pytest.mark.parametrize(
    ("name", "source", "line", "fragment"),
    [
        ("bad.lua", "local x = 1\n\nerror('kaput')\n", 3, "kaput"),
        ("bad.js", "let x = 1;\n\nthrow new Error('kaput');\n", 3, "Error: kaput"),
        ("syntax.lua", "local x = = 2\n", 1, "unexpected symbol"),
        ("syntax.js", "let x = = 2;\n", 1, "SyntaxError"),
    ],
)
def test_script_errors_print_file_line_and_fail(
    llmspell_cmd: list[str],
    cli_env: dict[str, str],
    tmp_path: Path,
    name: str,
    source: str,
    line: int,
    fragment: str,
) -> None:
    path = tmp_path / name
    path.write_text(source)
    proc = llmspell(llmspell_cmd, cli_env, "run", str(path))
    assert proc.returncode == 1
    first = proc.stderr.strip().splitlines()[0]
    assert first.startswith(f"{path}:{line}: "), proc.stderr
    assert fragment in first


def test_unknown_tool_lists_close_names(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "typo.lua"
    path.write_text('Tool.execute("calculater", {expression = "1"})\n')
    proc = llmspell(llmspell_cmd, cli_env, "run", str(path))
    assert proc.returncode == 1
    assert f"{path}:1:" in proc.stderr and "did you mean 'calculator'" in proc.stderr


def test_timeout_flag_stops_a_loop(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "loop.js"
    path.write_text("while (true) {}\n")
    proc = llmspell(llmspell_cmd, cli_env, "run", str(path), "--timeout", "0.5")
    assert proc.returncode == 1
    assert f"{path}: script timed out after 0.5 s" in proc.stderr  # JS VMs do not report the line


def test_engine_flag_and_errors(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "script.txt"
    path.write_text("print('from lua')\n")
    assert (
        llmspell(llmspell_cmd, cli_env, "run", str(path), "--engine", "lua").stdout == "from lua\n"
    )
    proc = llmspell(llmspell_cmd, cli_env, "run", str(path))
    assert proc.returncode == 1 and "--engine" in proc.stderr
    proc = llmspell(llmspell_cmd, cli_env, "run", str(path), "--engine", "cobol")
    assert proc.returncode == 1 and "unknown engine 'cobol'" in proc.stderr
    proc = llmspell(llmspell_cmd, cli_env, "run", str(tmp_path / "missing.lua"))
    assert proc.returncode == 1 and "missing.lua" in proc.stderr


def test_file_operations_confined_to_working_directory(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "inside.txt").write_text("inside")
    script = tmp_path / "files.lua"
    script.write_text(
        'print(Tool.execute("file-operations", {operation = "read", path = "inside.txt"}).text)\n'
        'local ok, err = pcall(Tool.execute, "file-operations", {operation = "read", path = "/etc/hostname"})\n'
        "print(ok, err)\n"
    )
    proc = llmspell(llmspell_cmd, cli_env, "run", str(script), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert out[0] == "inside"
    assert out[1].startswith("false\t[denied]")


def test_tool_list_and_run(llmspell_cmd: list[str], cli_env: dict[str, str]) -> None:
    listing = llmspell(llmspell_cmd, cli_env, "tool", "list", "--json")
    names = {t["name"] for t in json.loads(listing.stdout)}
    assert {
        "calculator",
        "uuid-generator",
        "hash-calculator",
        "base64-encoder",
        "date-time-handler",
        "text-manipulator",
        "json-processor",
        "file-operations",
    } <= names
    run = llmspell(
        llmspell_cmd, cli_env, "tool", "run", "calculator", "--args", '{"expression": "2*21"}'
    )
    assert run.returncode == 0 and run.stdout.strip() == "42"
    bad = llmspell(llmspell_cmd, cli_env, "tool", "run", "calculator", "--args", "{}")
    assert bad.returncode == 1 and "invalid_arguments" in bad.stderr and "expression" in bad.stderr
    unknown = llmspell(llmspell_cmd, cli_env, "tool", "run", "calculater")
    assert unknown.returncode == 1 and "did you mean 'calculator'" in unknown.stderr
    notjson = llmspell(llmspell_cmd, cli_env, "tool", "run", "calculator", "--args", "{oops")
    assert notjson.returncode == 1 and "not valid JSON" in notjson.stderr


def test_run_imports_no_protocol_stack_or_v8(
    llmspell_cmd: list[str], cli_env: dict[str, str]
) -> None:
    proc = subprocess.run(
        [llmspell_cmd[0], "-X", "importtime", *llmspell_cmd[1:], "run", "examples/hello.lua"],
        env=cli_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if "|" in line
    }
    assert "lupa" in imported  # the measurement works
    assert not imported & {
        "mcp",
        "a2a",
        "starlette",
        "uvicorn",
        "py_mini_racer",
        "quickjs",
        "openai",
        "anthropic",
        "httpx",
    }


def _no_keys(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.endswith("_API_KEY")}


@pytest.mark.parametrize("script", ["examples/agent.lua", "examples/agent.js"])
def test_agent_example_runs_offline_without_keys(
    llmspell_cmd: list[str], cli_env: dict[str, str], script: str
) -> None:
    proc = llmspell(llmspell_cmd, _no_keys(cli_env), "run", script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "The answer is 84.",
        '  used calculator({"expression":"12 * (3 + 4)"}) -> 84',
        "tokens: 37",
        "chunk: echo: ",
        "chunk: streaming ",
        "chunk: works",
        "The answer is 1024.",
    ]


def test_agent_run_and_model_list(llmspell_cmd: list[str], cli_env: dict[str, str]) -> None:
    env = _no_keys(cli_env)
    streamed = llmspell(llmspell_cmd, env, "agent", "run", "what is 6*7?", "--tool", "calculator")
    assert streamed.returncode == 0 and streamed.stdout == "The answer is 42.\n"
    as_json = json.loads(
        llmspell(
            llmspell_cmd, env, "agent", "run", "hi", "--model", "offline/echo", "--json"
        ).stdout
    )
    assert as_json["text"] == "echo: hi" and as_json["steps"] == 1
    missing = llmspell(llmspell_cmd, env, "agent", "run", "hi", "--model", "openai/gpt-4o-mini")
    assert missing.returncode == 1
    assert "openai/gpt-4o-mini: no API key; set OPENAI_API_KEY" in missing.stderr
    bad = llmspell(llmspell_cmd, env, "agent", "run", "hi", "--model", "nope/x")
    assert (
        bad.returncode == 1
        and "unknown provider 'nope'" in bad.stderr
        and "known providers" in bad.stderr
    )
    models = json.loads(llmspell(llmspell_cmd, env, "model", "list", "--json").stdout)
    by_name = {m["provider"]: m for m in models}
    assert by_name["offline"]["configured"] is True and by_name["openai"]["configured"] is False
    assert by_name["anthropic"]["capabilities"]["json_mode"] is False
