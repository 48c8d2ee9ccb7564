"""The core: components, catalog, invocation pipeline, content model, errors, hooks, events, state.

It knows no protocol and no script language; adapters and protocols depend on it, never the reverse.
"""

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
    "ErrorCode",
    "EventBus",
    "HookRegistry",
    "Identity",
    "Invocation",
    "Kind",
    "LLMSpellError",
    "MemoryStateStore",
    "Part",
    "Peer",
    "Pipeline",
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
    "Skill",
    "StateStore",
    "StatusUpdate",
    "TaskMessage",
    "TaskReporter",
    "TaskState",
    "TaskUpdate",
    "TextPart",
]
