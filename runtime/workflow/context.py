"""The run context steps see, and the record of how each step went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..content import Result

Status = Literal["ok", "failed", "cancelled", "skipped"]


@dataclass(slots=True)
class RunContext:
    """`input` (the workflow's arguments), `steps` (each finished step's result by name),
    `state` (values steps set for later ones, shared by the whole run), and in a loop or a
    stream the current `item` and its 1-based `index`."""

    input: dict[str, Any]
    steps: dict[str, Result] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    item: Any = None
    index: int | None = None
    results: list[Result] | None = None
    """A loop's per-iteration results (the last step of each), for `output`."""
    broken: bool = False
    """A step asked its loop to stop after it."""

    def fork(self, *, item: Any = None, index: int | None = None) -> RunContext:
        """A context for a branch, an iteration or a stream item: the same input and state,
        a copy of the steps so far, so siblings do not see each other's half-way results."""
        return RunContext(self.input, dict(self.steps), self.state, item, index)

    def break_loop(self) -> None:
        self.broken = True

    def to_plain(self) -> dict[str, Any]:
        """What script functions see: `{input, steps = {name = {text, data, parts, is_error}},
        state, item, index, results}`."""
        plain: dict[str, Any] = {
            "input": self.input,
            "steps": {name: r.to_plain() for name, r in self.steps.items()},
            "state": self.state,
        }
        if self.index is not None:
            plain["item"] = self.item
            plain["index"] = self.index
        if self.results is not None:
            plain["results"] = [r.to_plain() for r in self.results]
        return plain


@dataclass(slots=True)
class StepRecord:
    """How a step went. In a loop or a stream one record sums every run of the step, so a
    stream of a million items keeps one record per step, not a million."""

    name: str
    status: Status = "ok"
    duration_ms: float = 0.0
    error: str | None = None
    attempts: int = 0
    runs: int = 0
    failures: int = 0

    def add(self, status: Status, seconds: float, attempts: int, error: str | None) -> None:
        self.runs += 1
        self.attempts += attempts
        self.duration_ms += seconds * 1000
        if status != "ok":
            self.failures += 1
            self.error = error
            if self.status in ("ok", "skipped"):
                self.status = status

    def to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = {
            "name": self.name,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "error": self.error,
            "attempts": self.attempts,
        }
        if self.runs > 1:
            plain["runs"] = self.runs
            plain["failures"] = self.failures
        return plain
