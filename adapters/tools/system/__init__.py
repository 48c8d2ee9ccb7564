"""System: tools over the machine (processes, services, environment, resources), each under its
part of the sandbox policy."""

from __future__ import annotations

from llmspell.runtime import Component
from llmspell.runtime.sandbox import Sandbox

from ..sandbox.files import Roots
from . import environment_reader, monitor, process_executor, service_checker


def components(sandbox: Sandbox) -> list[Component]:
    roots = Roots.from_policy(sandbox.files)
    return [
        process_executor.component(sandbox.process, roots),
        service_checker.component(sandbox.network),
        environment_reader.component(sandbox.environment),
        monitor.component(roots),
    ]
