"""A minute under `llmspell serve`: a script job and a tool job every second while 10 MCP SDK
clients call tools in a loop. Not one error, every job run ok, and the server's RSS stays
flat once warm (a script job makes and closes a fresh engine each run, so a leaked engine
shows here)."""

from __future__ import annotations

from pathlib import Path

from hardening.conftest import calculator_load

from .conftest import serve, stored_runs, write_config

CLIENTS = 10
SECONDS = 60.0
WARM_UP = 15.0
SAMPLE_EVERY = 5.0
RSS_GROWTH_MB = 10.0

CONFIG = """
[[schedule]]
name = "script"
every = "1s"
run = "job.lua"
args = ["soak"]

[[schedule]]
name = "tool"
every = "1s"
tool = "calculator"
args = { expression = "2**10" }
"""
JOB = 'local n = (State.scope("global"):get("n") or 0) + 1\n' + (
    'State.scope("global"):set("n", n)\nreturn { run = n, arg = ARGS[1] }\n'
)


async def test_a_minute_of_jobs_and_ten_clients(tmp_path: Path) -> None:
    config = write_config(tmp_path, CONFIG, **{"job.lua": JOB})
    with serve(config) as running:
        load = await calculator_load(
            running.url, running.process.pid, clients=CLIENTS, seconds=SECONDS,
            warm_up=WARM_UP, sample_every=SAMPLE_EVERY, legacy=lambda i: i == 0,
        )  # fmt: skip
        script_runs = await stored_runs(config, "script")
        tool_runs = await stored_runs(config, "tool")
        alive = running.process.poll() is None
    errors, calls, samples = load.errors, load.calls, load.samples
    print(f"\n{CLIENTS} clients, {sum(calls)} calls in {load.seconds:.1f} s")
    print("(seconds, calls so far, serve RSS MiB):", samples)

    assert not errors, errors[:10]
    assert alive and min(calls) > 0, calls
    # keep = 20: the store holds the latest 20 runs of each, all of them fine.
    assert len(script_runs) == len(tool_runs) == 20
    assert {r["status"] for r in script_runs + tool_runs} == {"ok"}, script_runs + tool_runs
    assert script_runs[0]["result"]["data"]["arg"] == "soak"
    assert script_runs[0]["result"]["data"]["run"] >= SECONDS - 5
    growth = samples[-1][2] - samples[0][2]
    print(f"RSS growth after warm-up: {growth:.1f} MiB")
    assert growth < RSS_GROWTH_MB, f"RSS grew {growth:.1f} MiB after warm-up: {samples}"
