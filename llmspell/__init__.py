"""llmspell: a protocol gateway speaking MCP and A2A, with scriptable orchestration."""

import os
from typing import Any

# In a source checkout the subpackages (runtime/, adapters/, ...) sit beside this folder and the
# wheel maps them under llmspell/ (pyproject: [tool.hatch.build.targets.wheel.sources]). Extending
# __path__ lets `python -m llmspell...` work from the checkout exactly as from an installed wheel.
_here = os.path.dirname(os.path.abspath(__file__))
_root = os.path.dirname(_here)
if not os.path.isdir(os.path.join(_here, "runtime")) and os.path.isfile(
    os.path.join(_root, "runtime", "__init__.py")
):
    __path__.append(_root)


def __getattr__(name: str) -> Any:
    # importlib.metadata costs ~20 ms; only `--version` and library users asking pay for it.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("llmspell")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0+source"
    raise AttributeError(f"module 'llmspell' has no attribute {name!r}")


__all__ = ["__version__"]
