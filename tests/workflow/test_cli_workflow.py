"""`llmspell workflow list|run` as a user runs them: real subprocesses, a real config file,
progress on stderr in step order, the result on stdout, exit codes."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
[[agents]]
name = "assistant"
model = "offline/demo"

[workflows.shout]
description = "upper-case, hash, ask the assistant"
steps = [
  { name = "upper", tool = "text-manipulator", args = { operation = "uppercase", text = "${input.text}" } },
  { name = "digest", tool = "hash-calculator", args = { operation = "hash", input = "${steps.upper.text}" } },
  { name = "answer", agent = "assistant", args = "${steps.upper.text}" },
]

[workflows.broken]
steps = [
  { name = "upper", tool = "text-manipulator", args = { operation = "uppercase", text = "${input.text}" } },
  { name = "divide", tool = "calculator", args = { expression = "1/0" } },
  { name = "never", tool = "calculator", args = { expression = "1" } },
]

[workflows.each]
type = "loop"
over = "${input.words}"
steps = [{ name = "up", tool = "text-manipulator", args = { operation = "uppercase", text = "${item}" } }]
output = "${steps.up.text}"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "llmspell.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def llmspell(
    cmd: list[str], env: dict[str, str], *args: str, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*cmd, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def progress(stderr: str) -> list[str]:
    """The progress lines without their timings: `• step 1/3: upper  0.01s` -> `step 1/3: upper`."""
    return [line[2:].rsplit("  ", 1)[0] for line in stderr.splitlines() if line.startswith("• ")]


def test_run_prints_each_step_in_order_then_the_result(
    llmspell_cmd: list[str], cli_env: dict[str, str], config: Path
) -> None:
    proc = llmspell(
        llmspell_cmd, cli_env, "workflow", "run", "shout", "--config", str(config),
        "--args", '{"text": "hello"}',
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert progress(proc.stderr) == ["step 1/3: upper", "step 2/3: digest", "step 3/3: answer"]
    assert proc.stdout == "(offline demo model) You asked: HELLO\n"


def test_run_json_prints_the_whole_result(
    llmspell_cmd: list[str], cli_env: dict[str, str], config: Path
) -> None:
    proc = llmspell(
        llmspell_cmd, cli_env, "workflow", "run", "each", "--json", "--args",
        '{"words": ["a", "b"]}', cwd=config.parent,
    )  # fmt: skip  # ./llmspell.toml, found without --config
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["is_error"] is False and result["text"] == "B"
    assert result["data"]["iterations"] == 2
    assert result["data"]["steps"][0]["runs"] == 2
    assert progress(proc.stderr) == ["step 1/2: up", "step 2/2: up"]


def test_a_failed_step_exits_1_with_the_error_on_stderr(
    llmspell_cmd: list[str], cli_env: dict[str, str], config: Path
) -> None:
    proc = llmspell(
        llmspell_cmd, cli_env, "workflow", "run", "broken", "--config", str(config),
        "--args", '{"text": "x"}',
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert progress(proc.stderr) == ["step 1/3: upper"]
    assert "llmspell: workflow 'broken' step 'divide' failed" in proc.stderr
    as_json = llmspell(
        llmspell_cmd, cli_env, "workflow", "run", "broken", "--config", str(config),
        "--args", '{"text": "x"}', "--json",
    )  # fmt: skip
    assert as_json.returncode == 1
    steps = json.loads(as_json.stdout)["data"]["steps"]
    assert [s["status"] for s in steps] == ["ok", "failed", "skipped"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shuot"], "unknown component 'shuot'; did you mean 'shout'?"),
        (["assistant"], "'assistant' is not a workflow (kind: agent)"),
        (["shout", "--args", "{oops"], "--args is not valid JSON"),
        (["shout", "--args", "[1]"], "--args must be a JSON object"),
        (["each", "--args", "{}"], "input has no 'words'"),
    ],
)
def test_run_errors_exit_1(
    llmspell_cmd: list[str], cli_env: dict[str, str], config: Path, args: list[str], message: str
) -> None:
    proc = llmspell(llmspell_cmd, cli_env, "workflow", "run", *args, "--config", str(config))
    assert proc.returncode == 1
    assert message in proc.stderr


def test_a_config_error_names_the_key_path(
    llmspell_cmd: list[str], cli_env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[workflows.shout]\nsteps = [{ name = "a", tool = "calculator" }, { name = "b" }]\n',
        encoding="utf-8",
    )
    for action in (["list"], ["run", "shout"]):
        proc = llmspell(llmspell_cmd, cli_env, "workflow", *action, "--config", str(bad))
        assert proc.returncode == 1
        assert "workflows.shout.steps.1: give exactly one of tool, agent or workflow" in proc.stderr


def test_list_shows_name_pattern_and_description(
    llmspell_cmd: list[str], cli_env: dict[str, str], config: Path
) -> None:
    proc = llmspell(llmspell_cmd, cli_env, "workflow", "list", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["broken", "sequential"],
        ["each", "loop"],
        ["shout", "sequential"],
    ]
    assert lines[2].endswith("upper-case, hash, ask the assistant")
    listed = llmspell(llmspell_cmd, cli_env, "workflow", "list", "--json", "--config", str(config))
    rows = json.loads(listed.stdout)
    assert rows[2] == {
        "name": "shout",
        "kind": "workflow",
        "description": "upper-case, hash, ask the assistant",
        "pattern": "sequential",
        "source": "config",
    }
    bare = llmspell(llmspell_cmd, cli_env, "workflow")
    assert bare.returncode == 2 and "list" in bare.stdout and "run" in bare.stdout


def test_the_example_command_works(llmspell_cmd: list[str], cli_env: dict[str, str]) -> None:
    """The command examples/workflows.toml shows in its comment, as it is written there."""
    example = (ROOT / "examples" / "workflows.toml").read_text(encoding="utf-8")
    line = next(line for line in example.splitlines() if "llmspell workflow run" in line)
    assert line.startswith("#   llmspell workflow run shout --config examples/workflows.toml")
    proc = llmspell(
        llmspell_cmd, cli_env, "workflow", "run", "shout", "--config", "examples/workflows.toml",
        "--args", '{"text": "hello workflows"}',
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert progress(proc.stderr) == ["step 1/3: upper", "step 2/3: digest", "step 3/3: answer"]
    digest = hashlib.sha256(b"HELLO WORKFLOWS").hexdigest()
    assert json.loads(proc.stdout) == {
        "shouted": "HELLO WORKFLOWS",
        "sha256": digest,
        "answer": f"(offline demo model) You asked: HELLO WORKFLOWS (sha256 {digest})",
    }
