"""`[[schedule]]` jobs in a real `llmspell serve`: an interval, a cron time, the overlap rule,
and runs and the paused flag kept in the SQLite state store across a restart."""

from __future__ import annotations

import itertools
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from .conftest import SLOW_TOOL, runs, serve, write_config


def test_every_second_runs_three_times_in_three_and_a_half(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '[[schedule]]\nname = "tick"\nevery = "1s"\ntool = "calculator"\n'
        'args = { expression = "6*7" }\n',
    )
    with serve(config) as running:
        time.sleep(3.5)
        done = runs(config, "tick")
        assert running.process.poll() is None
    assert 2 <= len(done) <= 4, done
    assert {r["status"] for r in done} == {"ok"}, done
    assert all(r["trigger"] == "schedule" for r in done)
    assert done[0]["result"]["data"] == {"result": 42, "expression": "6*7"}
    starts = sorted(datetime.fromisoformat(r["started_at"]) for r in done)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert all(0.7 < gap < 1.3 for gap in gaps), gaps


def test_cron_job_runs_at_its_seconds(tmp_path: Path) -> None:
    """croniter's sixth field is seconds: `*/2` there fires on even seconds of the wall clock, in
    the job's time zone (a half-hour zone, so a zone mix-up would not fall on the second)."""
    config = write_config(
        tmp_path,
        '[[schedule]]\nname = "even"\ncron = "* * * * * */2"\ntimezone = "Asia/Kolkata"\n'
        'tool = "calculator"\nargs = { expression = "1+1" }\n',
    )
    with serve(config) as running:
        time.sleep(5)
        done = runs(config, "even")
        status = httpx.get(f"{running.base}/api/v1/jobs/even", timeout=5).json()
    assert 2 <= len(done) <= 3, done
    for record in done:
        started = datetime.fromisoformat(record["started_at"])
        assert started.second % 2 == 0, record
        assert started.microsecond < 500_000, record  # at the second, not some time after
        assert record["status"] == "ok"
    assert status["schedule"] == "cron * * * * * */2 (Asia/Kolkata)"
    assert datetime.fromisoformat(status["next_run"]).second % 2 == 0


def test_overlap_skip_while_a_run_is_going(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        'scripts = ["slow.lua"]\n\n[[schedule]]\nname = "long"\nevery = "0.5s"\n'
        'tool = "slow"\nargs = { seconds = 1.6 }\n',
        **{"slow.lua": SLOW_TOOL},
    )
    with serve(config) as running:
        time.sleep(3.8)
        done = runs(config, "long")
        assert running.process.poll() is None
    by_status: dict[str, list[dict[str, Any]]] = {}
    for record in done:
        by_status.setdefault(str(record["status"]), []).append(record)
    # Due at 0.5, 1.0, ... 3.5 s: the run started at 0.5 s holds until 2.1 s, the next one
    # starts at 2.5 s; everything due in between is skipped.
    assert 2 <= len(by_status.get("ok", [])) + len(by_status.get("running", [])) <= 3, done
    assert len(by_status.get("skipped", [])) >= 3, done
    assert all(r["error"] == "the previous run is still going" for r in by_status["skipped"])
    ok = by_status["ok"][0]
    assert ok["result"]["text"] == "slept 1.6", ok


def test_runs_and_pause_survive_a_restart(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '[[schedule]]\nname = "tick"\nevery = "0.5s"\ntool = "calculator"\n'
        'args = { expression = "2+2" }\n\n'
        '[[schedule]]\nname = "other"\nevery = "1h"\ntool = "calculator"\n'
        'args = { expression = "3+3" }\n',
    )
    with serve(config) as running:
        time.sleep(1.3)
        paused = httpx.post(f"{running.base}/api/v1/jobs/tick/pause", timeout=5)
        assert paused.status_code == 200, paused.text
        manual = httpx.post(f"{running.base}/api/v1/jobs/other/run?wait=true", timeout=5)
        assert manual.status_code == 200, manual.text
        before = runs(config, "tick")
        running.process.send_signal(signal.SIGTERM)
        assert running.process.wait(15) == 0
    assert len(before) >= 2, before
    with serve(config) as running:
        jobs = {j["name"]: j for j in httpx.get(f"{running.base}/api/v1/jobs", timeout=5).json()}
        time.sleep(1.2)  # a running clock would have run `tick` twice by now
        after = runs(config, "tick")
        other = httpx.get(f"{running.base}/api/v1/jobs/other/runs", timeout=5).json()
        assert "tick: every 0.5s -> tool:calculator  (paused)" in running.output()
    assert jobs["tick"]["paused"] is True and jobs["tick"]["next_run"] is None
    assert jobs["tick"]["last_run"]["id"] == before[0]["id"]
    assert after == before  # kept, and nothing new while paused
    assert [r["trigger"] for r in other] == ["manual"]
    assert other[0]["result"]["data"]["result"] == 6


def test_next_due_in_the_jobs_time_zone() -> None:
    """07:00 in Paris in summer is 05:00 UTC; `every` counts from its anchor."""
    from llmspell.gateway.schedule_config import ScheduleConfig

    job = ScheduleConfig(name="d", cron="0 7 * * *", timezone="Europe/Paris", tool="x")
    noon = datetime(2026, 7, 1, 12, tzinfo=UTC)
    assert job.next_after(noon, noon) == datetime(2026, 7, 2, 5, tzinfo=UTC)
    every = ScheduleConfig(name="e", every="30s", tool="x")
    assert every.next_after(noon, noon).isoformat() == "2026-07-01T12:00:30+00:00"
    later = noon.replace(second=45)
    assert every.next_after(later, noon).isoformat() == "2026-07-01T12:01:00+00:00"
