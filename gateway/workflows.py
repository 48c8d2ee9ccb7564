"""`[workflows.NAME]` from `llmspell.toml` as runtime workflows in the catalog.

The config models (`config.WorkflowConfig`) already checked the shape and every template's
references; this only maps them onto the runtime's `Workflow` values, whose steps are
ordinary pipeline calls, so a config workflow passes the same gate as a script's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmspell.runtime import Runtime
from llmspell.runtime.component import EMPTY_OBJECT_SCHEMA
from llmspell.runtime.workflow import (
    Branch,
    Loop,
    Parallel,
    Pattern,
    Retry,
    Sequential,
    Step,
    Workflow,
    component,
    template,
)

from .config import ConfigError

if TYPE_CHECKING:
    from .config import StepConfig, WorkflowConfig

SOURCE = "config"


def build(name: str, config: WorkflowConfig) -> Workflow:
    """The runtime workflow a `[workflows.NAME]` table declares."""
    body: Pattern
    if config.type == "parallel":
        # One branch per step, named by it (`${steps.NAME}` in the output); its one step is
        # named by its target, so records and progress read `NAME/tool`, not `NAME/NAME`.
        body = Parallel(
            tuple(Branch(s.name, (_step(s, s.target),)) for s in config.steps),
            max_concurrency=config.max_concurrency,
            join=config.join,
            fail_fast=config.fail_fast,
        )
    elif config.type == "loop":
        body = Loop(
            tuple(_step(s) for s in config.steps),
            over=template.compile(config.over),
            max_iterations=config.max_iterations,
        )
    else:
        body = Sequential(tuple(_step(s) for s in config.steps))
    return Workflow(
        name,
        body,
        description=config.description,
        input_schema=dict(config.input_schema or EMPTY_OBJECT_SCHEMA),
        output=template.compile(config.output) if config.output is not None else None,
        source=SOURCE,
    )


def register(runtime: Runtime, workflows: dict[str, WorkflowConfig]) -> None:
    """Each declared workflow into the catalog; a name already taken is a config error."""
    catalog = runtime.catalog
    for name, config in workflows.items():
        taken = catalog.find(name)
        if taken is not None:
            raise ConfigError(f"workflows.{name}: the name is taken by {taken.source}")
        catalog.register(component(build(name, config), runtime.pipeline))


def _step(config: StepConfig, name: str | None = None) -> Step:
    return Step(
        name or config.name,
        target=config.target,
        args=template.compile(config.args),
        retry=Retry(config.retry.max, config.retry.backoff),
        timeout=config.timeout,
        on_error=config.on_error,
    )
