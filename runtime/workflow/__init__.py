"""Workflows: steps combined sequentially, by condition, in a loop, in parallel or as a stream.

A workflow is a catalog component of kind `workflow`; each of its steps is an ordinary pipeline
call, a child of the workflow's call. Protocol-free and language-free: the script API and the
gateway's config build the same `Workflow` values.
"""

from .context import RunContext, StepRecord
from .model import (
    Branch,
    Conditional,
    Emit,
    Fn,
    Loop,
    Parallel,
    Pattern,
    Retry,
    Sequential,
    Source,
    Step,
    Stream,
    Workflow,
)
from .run import Run, StepFailed, component

__all__ = [
    "Branch",
    "Conditional",
    "Emit",
    "Fn",
    "Loop",
    "Parallel",
    "Pattern",
    "Retry",
    "Run",
    "RunContext",
    "Sequential",
    "Source",
    "Step",
    "StepFailed",
    "StepRecord",
    "Stream",
    "Workflow",
    "component",
]
