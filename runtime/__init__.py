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
