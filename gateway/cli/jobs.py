"""`llmspell jobs list|runs|run|pause|resume`: a running `llmspell serve`'s scheduled jobs,
through its control API (`/api/v1/jobs`) over HTTP, so it works against any gateway it can
reach, local or remote, with the same token a client would use."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from .common import Commands, error, show_help

DEFAULT_URL = "http://127.0.0.1:8765"


def add(commands: Commands) -> None:
    jobs = commands.add_parser("jobs", help="list, run, pause and resume a gateway's jobs")
    actions = jobs.add_subparsers(title="jobs commands", metavar="ACTION")
    listing = actions.add_parser("list", help="every job and where it stands")
    listing.set_defaults(handler=list_jobs)
    runs = actions.add_parser("runs", help="a job's latest runs, newest first")
    runs.add_argument("name", help="the job's name")
    runs.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    runs.set_defaults(handler=list_runs)
    run = actions.add_parser("run", help="run a job now")
    run.add_argument("name", help="the job's name")
    run.add_argument("--wait", action="store_true", help="wait for the run to finish")
    run.set_defaults(handler=run_job)
    for verb, doing in (("pause", "stop its scheduled runs"), ("resume", "schedule it again")):
        parser = actions.add_parser(verb, help=doing)
        parser.add_argument("name", help="the job's name")
        parser.set_defaults(handler=lambda ns, verb=verb: set_paused(ns, verb))
    for parser in actions.choices.values():
        _connection_options(parser)
    jobs.set_defaults(handler=show_help(jobs))


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("LLMSPELL_URL", DEFAULT_URL),
        help=f"the gateway (env LLMSPELL_URL; default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("LLMSPELL_TOKEN"),
        help="a bearer token or API key (env LLMSPELL_TOKEN)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


class Failed(Exception):
    """What to tell the user; the command exits 1."""


def request(ns: argparse.Namespace, method: str, path: str, **params: Any) -> Any:
    """One call to the control API; its JSON, or Failed saying what went wrong."""
    import httpx

    base = ns.url.rstrip("/")
    headers = {"Authorization": f"Bearer {ns.token}"} if ns.token else {}
    wait = params.get("wait") == "true"
    timeout = httpx.Timeout(10.0, read=None if wait else 30.0)
    try:
        response = httpx.request(
            method, f"{base}/api/v1{path}", params=params, headers=headers, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise Failed(f"cannot reach the gateway at {base}: {exc or type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success:
        return body
    if response.status_code == 401:
        raise Failed(f"{base} wants credentials: pass --token or set LLMSPELL_TOKEN")
    found = body.get("error") if isinstance(body, dict) else None
    if isinstance(found, dict):  # ours: {code, message}; the auth layer's error is a string
        raise Failed(str(found.get("message")))
    detail = (body or {}).get("error_description") if isinstance(body, dict) else None
    raise Failed(f"{base} answered {response.status_code}: {detail or response.text[:200]}")


def _run(ns: argparse.Namespace, work: Any) -> int:
    try:
        return int(work())
    except Failed as exc:
        return error(str(exc))


def list_jobs(ns: argparse.Namespace) -> int:
    def work() -> int:
        jobs = request(ns, "GET", "/jobs")
        if ns.json:
            return _print_json(jobs)
        table = _table("JOB", "SCHEDULE", "TARGET", "STATE", "NEXT RUN", "LAST RUN")
        for job in jobs:
            last = job.get("last_run")
            table.add_row(
                job["name"],
                job["schedule"],
                job["target"],
                _state(job),
                _when(job.get("next_run")),
                f"{last['status']} {_when(last['started_at'])}" if last else "-",
            )
        return _show(table, "no jobs are scheduled" if not jobs else None)

    return _run(ns, work)


def list_runs(ns: argparse.Namespace) -> int:
    def work() -> int:
        runs = request(ns, "GET", f"/jobs/{_quote(ns.name)}/runs", limit=str(ns.limit))
        if ns.json:
            return _print_json(runs)
        table = _table("RUN", "TRIGGER", "STATUS", "STARTED", "FINISHED", "RESULT")
        for run in runs:
            table.add_row(
                run["id"][:8],
                run["trigger"],
                run["status"],
                _when(run["started_at"]),
                _when(run.get("finished_at")),
                _outcome(run),
            )
        return _show(table, f"{ns.name} has not run yet" if not runs else None)

    return _run(ns, work)


def run_job(ns: argparse.Namespace) -> int:
    def work() -> int:
        params = {"wait": "true"} if ns.wait else {}
        run = request(ns, "POST", f"/jobs/{_quote(ns.name)}/run", **params)
        if ns.json:
            _print_json(run)
        elif ns.wait:
            print(f"{ns.name}: run {run['id'][:8]} {run['status']}: {_outcome(run, 2000)}")
        else:
            print(f"{ns.name}: run {run['id'][:8]} started")
        return 1 if run["status"] == "error" else 0

    return _run(ns, work)


def set_paused(ns: argparse.Namespace, verb: str) -> int:
    def work() -> int:
        job = request(ns, "POST", f"/jobs/{_quote(ns.name)}/{verb}")
        if ns.json:
            return _print_json(job)
        upcoming = "" if job["paused"] else f"; next run {_when(job.get('next_run'))}"
        print(f"{job['name']}: {_state(job)}{upcoming}")
        return 0

    return _run(ns, work)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


def _print_json(value: Any) -> int:
    print(json.dumps(value, indent=2, ensure_ascii=False))
    return 0


def _state(job: dict[str, Any]) -> str:
    if job.get("running"):
        return "running" + (" (paused)" if job.get("paused") else "")
    return "paused" if job.get("paused") else "scheduled"


def _when(stamp: str | None) -> str:
    """An ISO time as the local `YYYY-MM-DD HH:MM:SS`."""
    if not stamp:
        return "-"
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return stamp


def _outcome(run: dict[str, Any], width: int = 60) -> str:
    result = run.get("result") or {}
    text = run.get("error") or result.get("text") or ""
    if not text and result.get("data") is not None:
        text = json.dumps(result["data"], ensure_ascii=False)
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(*columns: str) -> Any:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for i, column in enumerate(columns):  # only the last, free-text column wraps
        table.add_column(column, no_wrap=i < len(columns) - 1, overflow="fold")
    return table


def _show(table: Any, empty: str | None) -> int:
    if empty is not None:
        print(empty)
        return 0
    from rich.console import Console

    Console(soft_wrap=True).print(table)
    return 0
