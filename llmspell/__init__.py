"""llmspell: a protocol gateway speaking MCP and A2A, with scriptable orchestration."""

from typing import Any


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
