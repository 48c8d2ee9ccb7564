"""llmspell: a protocol gateway speaking MCP and A2A, with scriptable orchestration.

As a library (docs/library.md)::

    import llmspell

    async with llmspell.Runtime.create(tools=["calculator"]) as rt:
        result = await rt.call("calculator", {"expression": "2 ** 10"})

`import llmspell` itself stays cheap: each public name is imported when first used.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmspell.adapters.scripts.engine import ScriptError
    from llmspell.gateway.config import ConfigError
    from llmspell.gateway.embed import GatewayApp, asgi_app
    from llmspell.gateway.library import Runtime, ScriptRun
    from llmspell.runtime import Annotations, ErrorCode, Invocation, LLMSpellError, Result

_PUBLIC = {
    "Runtime": "llmspell.gateway.library",
    "ScriptRun": "llmspell.gateway.library",
    "asgi_app": "llmspell.gateway.embed",
    "GatewayApp": "llmspell.gateway.embed",
    "Result": "llmspell.runtime",
    "Invocation": "llmspell.runtime",
    "Annotations": "llmspell.runtime",
    "ErrorCode": "llmspell.runtime",
    "LLMSpellError": "llmspell.runtime",
    "ScriptError": "llmspell.adapters.scripts.engine",
    "ConfigError": "llmspell.gateway.config",
}
"""Each public name and the module it lives in."""


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is not None:
        value = getattr(import_module(module), name)
        globals()[name] = value  # the next lookup does not come back here
        return value
    # importlib.metadata costs ~20 ms; only `--version` and library users asking pay for it.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("llmspell")
        except PackageNotFoundError:  # a source tree that was never installed
            return "0.0.0+source"
    raise AttributeError(f"module 'llmspell' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC, "__version__"])


__all__ = [
    "Annotations",
    "ConfigError",
    "ErrorCode",
    "GatewayApp",
    "Invocation",
    "LLMSpellError",
    "Result",
    "Runtime",
    "ScriptError",
    "ScriptRun",
    "__version__",
    "asgi_app",
]
