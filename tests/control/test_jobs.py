"""Jobs through the control API and `llmspell jobs` against a real `llmspell serve` with
API-key auth: run now (202, or 200 once finished with wait), runs listed newest first, and a
paused `every = "1s"` job that gets no scheduled runs until it is resumed."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcpserver.conftest import ROOT, RunningGateway, env, free_port, gateway

KEY = "jobs-key-0123456789abcdef"
CONFIG = f"""
name = "jobs"

[a2a]
enabled = false

[auth.api_keys.ops]
key = "{KEY}"

[[schedule]]
name = "tick"
every = "1s"
tool = "calculator"
args = {{expression = "1+1"}}
overlap = "queue"

[[schedule]]
name = "tock"
every = "1s"
tool = "calculator"
args = {{expression = "2+3"}}
overlap = "queue"
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    folder: Path = tmp_path_factory.mktemp("jobs")
    (folder / "llmspell.toml").write_text(CONFIG)
    with gateway(config=folder / "llmspell.toml", cwd=folder, command="serve") as running:
        yield running


@pytest.fixture(scope="module")
def api(served: RunningGateway) -> Iterator[httpx.Client]:
    base = served.url.removesuffix("/mcp")
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=30) as client:
        yield client


def scheduled_since(api: httpx.Client, job: str, since: datetime) -> list[dict[str, Any]]:
    runs = api.get(f"/jobs/{job}/runs", params={"limit": 50}).json()
    return [
        r
        for r in runs
        if r["trigger"] == "schedule" and datetime.fromisoformat(r["started_at"]) > since
    ]


def wait_for(check: Any, timeout: float = 6.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_jobs_are_listed_and_unknown_ones_are_404(api: httpx.Client) -> None:
    jobs = {j["name"]: j for j in api.get("/jobs").json()}
    assert set(jobs) == {"tick", "tock"}
    assert jobs["tick"]["schedule"] == "every 1s"
    assert api.get("/jobs/tick").json()["paused"] is False
    missing = api.get("/jobs/tik")
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["code"] == "unknown_job"
    assert error["data"]["suggestions"] == ["tick"]
    assert api.post("/jobs/tik/pause").status_code == 404
    assert api.get("/jobs/tick/runs?limit=0").status_code == 400


def test_a_job_runs_now_and_its_runs_are_listed(api: httpx.Client) -> None:
    started = api.post("/jobs/tick/run")
    assert started.status_code == 202, started.text
    record = started.json()
    assert record["job"] == "tick" and record["trigger"] == "manual"
    finished = api.post("/jobs/tick/run", params={"wait": "true"})
    assert finished.status_code == 200, finished.text
    done = finished.json()
    assert done["status"] == "ok" and done["result"]["text"] == "2"
    assert done["finished_at"] is not None
    runs = api.get("/jobs/tick/runs", params={"limit": 2}).json()
    assert len(runs) == 2
    assert runs[0]["id"] == done["id"]  # newest first
    assert wait_for(
        lambda: any(
            r["id"] == record["id"] and r["status"] == "ok"
            for r in api.get("/jobs/tick/runs").json()
        )
    )


def test_a_paused_job_gets_no_scheduled_runs_until_resumed(api: httpx.Client) -> None:
    paused = api.post("/jobs/tick/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    time.sleep(0.3)  # a run begun just before the pause may still finish
    since = datetime.now().astimezone()
    time.sleep(2.5)
    assert scheduled_since(api, "tick", since) == []
    assert api.get("/jobs/tick").json()["paused"] is True
    # Paused, it still runs when asked.
    assert api.post("/jobs/tick/run?wait=true").json()["status"] == "ok"
    resumed = api.post("/jobs/tick/resume")
    assert resumed.status_code == 200 and resumed.json()["paused"] is False
    assert wait_for(lambda: scheduled_since(api, "tick", since))


def jobs(*args: str, url: str, token: str | None = KEY) -> subprocess.CompletedProcess[str]:
    extra = {"LLMSPELL_URL": url}
    if token:
        extra["LLMSPELL_TOKEN"] = token
    clean = {k: v for k, v in env().items() if k not in ("LLMSPELL_URL", "LLMSPELL_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "llmspell", "jobs", *args],
        capture_output=True,
        text=True,
        env={**clean, **extra},
        cwd=ROOT,
        timeout=60,
    )


def test_the_cli_lists_runs_pauses_and_resumes(served: RunningGateway, api: httpx.Client) -> None:
    import json

    url = served.url.removesuffix("/mcp")
    listed = jobs("list", url=url)
    assert listed.returncode == 0, listed.stderr
    assert "tock" in listed.stdout and "every 1s" in listed.stdout
    as_json = json.loads(jobs("list", "--json", url=url).stdout)
    assert {j["name"] for j in as_json} == {"tick", "tock"}
    ran = jobs("run", "tock", "--wait", "--json", url=url)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["result"]["text"] == "5"
    started = jobs("run", "tock", url=url)
    assert started.returncode == 0 and "started" in started.stdout
    runs = jobs("runs", "tock", "--limit", "3", url=url)
    assert runs.returncode == 0 and "manual" in runs.stdout
    paused = jobs("pause", "tock", url=url)
    assert paused.returncode == 0 and "tock: paused" in paused.stdout
    assert api.get("/jobs/tock").json()["paused"] is True
    since = datetime.now().astimezone()
    time.sleep(2.2)
    assert scheduled_since(api, "tock", since) == []
    resumed = jobs("resume", "tock", "--json", url=url)
    assert json.loads(resumed.stdout)["paused"] is False
    assert wait_for(lambda: scheduled_since(api, "tock", since))


def test_the_cli_says_what_went_wrong(served: RunningGateway) -> None:
    url = served.url.removesuffix("/mcp")
    unknown = jobs("run", "tack", url=url)
    assert unknown.returncode == 1
    assert "unknown job 'tack'" in unknown.stderr and "'tock'" in unknown.stderr
    anonymous = jobs("list", url=url, token=None)
    assert anonymous.returncode == 1 and "LLMSPELL_TOKEN" in anonymous.stderr
    gone = jobs("list", url=f"http://127.0.0.1:{free_port()}")
    assert gone.returncode == 1 and "cannot reach the gateway" in gone.stderr
