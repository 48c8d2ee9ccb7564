"""System: tools over the machine (processes, services, environment, resources), each under its
part of the sandbox policy."""

from __future__ import annotations

from llmspell.runtime import Component

from ..env import ToolEnv
from . import environment_reader, monitor, process_executor, service_checker


def components(env: ToolEnv) -> list[Component]:
    roots = env.roots
    return [
        process_executor.component(env.sandbox.process, roots),
        service_checker.component(env.sandbox.network),
        environment_reader.component(env.sandbox.environment),
        monitor.component(roots),
    ]
