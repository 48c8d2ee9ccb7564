"""The core: components, catalog, invocation pipeline, content model, errors, hooks, events, state.

It knows no protocol and no script language; adapters and protocols depend on it, never the reverse.

Each public name is imported from its module when first asked for (`from llmspell.runtime
import Result` loads content.py and what it needs, not the whole core), so a short-lived
command pays only for the parts it uses.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import Catalog, CatalogChange
    from .component import Annotations, Component, Kind, Skill
    from .content import BlobPart, DataPart, Part, ResourceLink, ResourcePart, Result, TextPart
    from .errors import ErrorCode, LLMSpellError
    from .events import EventBus
    from .hooks import HookRegistry
    from .invocation import LOCAL, CancelToken, Identity, Invocation
    from .peer import Peer
    from .pipeline import Pipeline
    from .prompts import Prompt, PromptArgument, PromptMessage, PromptRegistry
    from .resources import Resource, ResourceRegistry
    from .runtime import Runtime
    from .sandbox import EnvironmentPolicy, FilePolicy, NetworkPolicy, ProcessPolicy, Sandbox
    from .state import MemoryStateStore, StateStore
    from .task import (
        ArtifactUpdate,
        Reply,
        StatusUpdate,
        TaskMessage,
        TaskReporter,
        TaskState,
        TaskUpdate,
    )

_PUBLIC = {
    "Annotations": "component",
    "ArtifactUpdate": "task",
    "BlobPart": "content",
    "CancelToken": "invocation",
    "Catalog": "catalog",
    "CatalogChange": "catalog",
    "Component": "component",
    "DataPart": "content",
    "EnvironmentPolicy": "sandbox",
    "ErrorCode": "errors",
    "EventBus": "events",
    "FilePolicy": "sandbox",
    "HookRegistry": "hooks",
    "Identity": "invocation",
    "Invocation": "invocation",
    "Kind": "component",
    "LLMSpellError": "errors",
    "LOCAL": "invocation",
    "MemoryStateStore": "state",
    "NetworkPolicy": "sandbox",
    "Part": "content",
    "Peer": "peer",
    "Pipeline": "pipeline",
    "ProcessPolicy": "sandbox",
    "Prompt": "prompts",
    "PromptArgument": "prompts",
    "PromptMessage": "prompts",
    "PromptRegistry": "prompts",
    "Reply": "task",
    "Resource": "resources",
    "ResourceLink": "content",
    "ResourcePart": "content",
    "ResourceRegistry": "resources",
    "Result": "content",
    "Runtime": "runtime",
    "Sandbox": "sandbox",
    "Skill": "component",
    "StateStore": "state",
    "StatusUpdate": "task",
    "TaskMessage": "task",
    "TaskReporter": "task",
    "TaskState": "task",
    "TaskUpdate": "task",
    "TextPart": "content",
}
"""Each public name and the module (under this package) it lives in."""


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup does not come back here
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


__all__ = [
    "LOCAL",
    "Annotations",
    "ArtifactUpdate",
    "BlobPart",
    "CancelToken",
    "Catalog",
    "CatalogChange",
    "Component",
    "DataPart",
    "EnvironmentPolicy",
    "ErrorCode",
    "EventBus",
    "FilePolicy",
    "HookRegistry",
    "Identity",
    "Invocation",
    "Kind",
    "LLMSpellError",
    "MemoryStateStore",
    "NetworkPolicy",
    "Part",
    "Peer",
    "Pipeline",
    "ProcessPolicy",
    "Prompt",
    "PromptArgument",
    "PromptMessage",
    "PromptRegistry",
    "Reply",
    "Resource",
    "ResourceLink",
    "ResourcePart",
    "ResourceRegistry",
    "Result",
    "Runtime",
    "Sandbox",
    "Skill",
    "StateStore",
    "StatusUpdate",
    "TaskMessage",
    "TaskReporter",
    "TaskState",
    "TaskUpdate",
    "TextPart",
]
