"""`system-monitor`: CPU, memory, disk and the busiest processes, read with psutil in a worker
thread (sampling CPU waits a moment, which must not hold up the event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

from llmspell.runtime import Annotations, Component, Result

from .._common import answer, tool
from ..sandbox.files import Roots

NAME = "system-monitor"
SAMPLE = 0.2
"""Seconds over which CPU percentages are measured."""


def _cpu() -> dict[str, Any]:
    import psutil

    percent = psutil.cpu_percent(interval=SAMPLE)
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "percent": percent,
        "logical": psutil.cpu_count(logical=True),
        "physical": psutil.cpu_count(logical=False),
        "load_average": load,
    }


def _memory() -> dict[str, Any]:
    import psutil

    mem, swap = psutil.virtual_memory(), psutil.swap_memory()
    return {
        "total": mem.total,
        "available": mem.available,
        "used": mem.used,
        "percent": mem.percent,
        "swap_total": swap.total,
        "swap_used": swap.used,
        "swap_percent": swap.percent,
    }


def _disk(path: str, shown: str) -> dict[str, Any]:
    import psutil

    usage = psutil.disk_usage(path)
    return {
        "path": shown,
        "total": usage.total,
        "used": usage.used,
        "free": usage.free,
        "percent": usage.percent,
    }


def _processes(sort_by: str, limit: int) -> dict[str, Any]:
    import psutil

    procs = list(psutil.process_iter(["pid", "name"]))
    for proc in procs:  # the first call only starts each process's measurement
        with contextlib.suppress(psutil.Error):
            proc.cpu_percent(None)
    time.sleep(SAMPLE)
    rows = []
    for proc in procs:
        try:
            with proc.oneshot():
                rows.append(
                    {
                        "pid": proc.pid,
                        "name": proc.info["name"],
                        "cpu_percent": proc.cpu_percent(None),
                        "rss": proc.memory_info().rss,
                    }
                )
        except psutil.Error:
            continue  # gone, or not ours to look at
    key = "cpu_percent" if sort_by == "cpu" else "rss"
    rows.sort(key=lambda row: row[key], reverse=True)
    return {"sort_by": sort_by, "count": len(rows), "processes": rows[:limit]}


def _summary(op: str, data: dict[str, Any]) -> str:
    mib = 1024 * 1024
    if op == "cpu":
        return f"CPU {data['percent']}% of {data['logical']} cores, load {data['load_average']}"
    if op == "memory":
        return f"memory {data['percent']}% used, {data['available'] // mib} MiB available"
    if op == "disk":
        return f"disk {data['path']}: {data['percent']}% used, {data['free'] // mib} MiB free"
    return "\n".join(
        f"{p['pid']:>7} {p['cpu_percent']:>6.1f}% {p['rss'] // mib:>7} MiB {p['name']}"
        for p in data["processes"]
    )


def component(roots: Roots) -> Component:
    async def handle(args: dict[str, Any]) -> Result:
        op = args["operation"]
        if op == "cpu":
            data = await asyncio.to_thread(_cpu)
        elif op == "memory":
            data = await asyncio.to_thread(_memory)
        elif op == "disk":
            shown = args.get("path", ".")
            target = await asyncio.to_thread(roots.resolve, NAME, shown)
            data = await asyncio.to_thread(_disk, str(target), shown)
        else:
            data = await asyncio.to_thread(
                _processes, args.get("sort_by", "cpu"), args.get("limit", 10)
            )
        return answer(_summary(op, data), data)

    return tool(
        NAME,
        "Reports CPU (percent, cores, load average), memory, disk usage of a path inside the "
        "allowed roots, or the top processes by CPU or memory (pid, name, cpu, rss).",
        {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "disk: a path inside the allowed roots (default: the first root)",
            },
            "sort_by": {"type": "string", "enum": ["cpu", "memory"], "default": "cpu"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
        },
        handle,
        operations={"cpu": [], "memory": [], "disk": [], "processes": []},
        annotations=Annotations(
            read_only=True, destructive=False, idempotent=False, open_world=False
        ),
    )
