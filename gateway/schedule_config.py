"""`[[schedule]]` in `llmspell.toml`: the jobs `llmspell serve` runs on a clock. Kept out of
config.py, which has one field for them.

    [[schedule]]
    name = "digest"
    cron = "0 7 * * mon-fri"        # or: every = "30s" (s, m, h, d; a number is seconds)
    timezone = "Europe/Paris"       # for cron; default UTC
    workflow = "daily_digest"       # or tool = / agent = NAME, with args = { ... }
    args = { topic = "releases" }   # or run = "job.lua" with args = ["strings", ...]
    overlap = "skip"                # a run due while one is going: "skip" it, or "queue" one
    jitter = 5                      # seconds of random delay per run
    misfire_grace = 60              # a run due longer ago than this is skipped, not run late
    keep = 20                       # runs kept in the state store
    paused = false
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
Target = Literal["run", "workflow", "tool", "agent"]


def interval(every: str | float) -> float:
    """Seconds in `every`: "30s", "5m", "2h", "1d", or a plain number of seconds."""
    if isinstance(every, int | float) and not isinstance(every, bool):
        seconds = float(every)
    else:
        found = _EVERY.match(str(every))
        if found is None:
            raise ValueError(f'{every!r} is not a duration: give e.g. "30s", "5m", "2h" or "1d"')
        seconds = float(found.group(1)) * _UNITS[found.group(2) or "s"]
    if not seconds > 0:
        raise ValueError("the interval must be more than 0 seconds")
    return seconds


class ScheduleConfig(BaseModel):
    """One job: when (`cron` or `every`), what (`run` a script, or a catalog component by
    kind), and how runs that collide or come late are treated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    cron: str | None = None
    every: str | float | None = None
    timezone: str = "UTC"
    run: str | None = None
    """A Lua or JavaScript file, relative to the config; run in a fresh engine each time."""
    workflow: str | None = None
    tool: str | None = None
    agent: str | None = None
    args: list[str] | dict[str, Any] | None = None
    """A script's ARGS (strings); a component's arguments (a table)."""
    overlap: Literal["skip", "queue"] = "skip"
    jitter: float = Field(default=0.0, ge=0)
    misfire_grace: float = Field(default=60.0, ge=0)
    keep: int = Field(default=20, gt=0)
    paused: bool = False

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | float | None) -> str | float | None:
        if value is not None:
            interval(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Paris)") from None
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not _croniter().is_valid(value):
            raise ValueError(f'{value!r} is not a cron expression (e.g. "*/5 * * * *")')
        return value

    @model_validator(mode="after")
    def _one_of_each(self) -> ScheduleConfig:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of cron or every")
        given = [t for t in ("run", "workflow", "tool", "agent") if getattr(self, t) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of run, workflow, tool or agent")
        if self.run is not None and isinstance(self.args, dict):
            raise ValueError("args: a script takes a list of strings (its ARGS)")
        if self.run is None and isinstance(self.args, list):
            raise ValueError(f"args: a {given[0]} takes a table of arguments")
        return self

    @property
    def kind(self) -> Target:
        for kind in ("workflow", "tool", "agent"):
            if getattr(self, kind) is not None:
                return kind
        return "run"

    @property
    def target(self) -> str:
        """`workflow:NAME`, `tool:NAME`, `agent:NAME` or `script:PATH`."""
        name = self.workflow or self.tool or self.agent
        return f"{self.kind}:{name}" if name is not None else f"script:{self.run}"

    @property
    def describe(self) -> str:
        """`cron */5 * * * * (UTC)` or `every 30s`."""
        if self.cron is not None:
            return f"cron {self.cron} ({self.timezone})"
        every = self.every
        return f"every {every}" if isinstance(every, str) else f"every {every:g}s"

    def next_after(self, after: datetime, anchor: datetime) -> datetime:
        """The first due time strictly after `after` (timezone-aware): the next cron match in
        the job's zone, or the next step of `every` counted from `anchor`."""
        if self.cron is not None:
            local = after.astimezone(ZoneInfo(self.timezone))
            due: datetime = _croniter()(self.cron, local).get_next(datetime)
            return due.astimezone(after.tzinfo)
        assert self.every is not None
        step = interval(self.every)
        steps = max(0, int((after - anchor).total_seconds() // step) + 1)
        due = anchor + timedelta(seconds=step * steps)
        while due <= after:  # float rounding
            due += timedelta(seconds=step)
        return due


def _croniter() -> Any:
    """Imported when a cron job is configured (croniter has no type stubs)."""
    from croniter import croniter  # type: ignore[import-untyped]

    return croniter


def _named(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Problems named by the job (`schedule.digest.cron: ...`) rather than by its position,
    and one name per job."""
    try:
        entries = handler(value)
    except ValidationError as exc:
        raw = value if isinstance(value, list) else []
        found: list[tuple[tuple[str | int, ...], str]] = []
        for error in exc.errors():
            loc = list(error["loc"])
            if loc and isinstance(loc[0], int) and loc[0] < len(raw):
                entry = raw[loc[0]]
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    loc[0] = entry["name"]
            where: tuple[str | int, ...] = tuple(loc)
            found.append((where, error["msg"].removeprefix("Value error, ")))
        raise _invalid(found) from None
    seen: set[str] = set()
    twice: list[tuple[tuple[str | int, ...], str]] = []
    for entry in entries:
        if entry.name in seen:
            twice.append(((entry.name, "name"), "the name is used by an earlier job"))
        seen.add(entry.name)
    if twice:
        raise _invalid(twice)
    return entries


def _invalid(found: list[tuple[tuple[str | int, ...], str]]) -> ValidationError:
    return ValidationError.from_exception_data(
        "schedule",
        [
            InitErrorDetails(
                type=PydanticCustomError("config", "{problem}", {"problem": problem}),
                loc=loc,
                input=None,
            )
            for loc, problem in found
        ],
    )


Schedule = Annotated[list[ScheduleConfig], WrapValidator(_named)]
"""`schedule` on GatewayConfig: the jobs, each name once."""
