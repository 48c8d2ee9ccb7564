"""Built-in tools through the real pipeline (schema validation, policy, deadline) over a
runtime whose file roots are the test's temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from llmspell.adapters.tools import register_builtins
from llmspell.runtime import LLMSpellError, Runtime, Sandbox


def runtime_with(sandbox: Sandbox) -> Runtime:
    """A runtime serving the built-ins under `sandbox` (for tests that set a policy)."""
    runtime = Runtime()
    register_builtins(runtime.catalog, sandbox)
    return runtime


@pytest.fixture
def rt(tmp_path: Path) -> Runtime:
    runtime = Runtime()
    register_builtins(runtime.catalog, roots=[tmp_path])
    return runtime


async def call(rt: Runtime, tool: str, /, **args: Any) -> Any:
    return await rt.call(tool, args)


async def refused(rt: Runtime, tool: str, /, **args: Any) -> LLMSpellError:
    with pytest.raises(LLMSpellError) as info:
        await rt.call(tool, args)
    return info.value
