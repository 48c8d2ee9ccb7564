"""Remote A2A agents as catalog components (one component per agent, taking `{"text": ...}`),
on the `a2a-sdk` client. Task semantics survive the trip to MCP and scripts:

- working/status updates become the call's progress (MCP `notifications/progress`);
- the final artifacts become the result (text, data -> structured, files -> blobs/links);
- input-required asks the caller (MCP elicitation) when it can and continues the task, or
  returns a result that says what the agent asked;
- cancelling the call cancels the remote task;
- a dropped stream is resumed by resubscribing, then by polling, with backoff.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from a2a.client import A2ACardResolver, ClientConfig, create_client
from a2a.client.errors import A2AClientError
from a2a.helpers.proto_helpers import new_message
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    Role,
    SendMessageRequest,
    SubscribeToTaskRequest,
    Task,
    TaskState,
)
from a2a.utils.errors import A2AError
from google.protobuf.json_format import MessageToDict
from llmspell.runtime import (
    Component,
    ErrorCode,
    Invocation,
    LLMSpellError,
    Part,
    Result,
    Runtime,
    TextPart,
)
from llmspell.runtime.content import part_from_plain, part_to_plain
from llmspell.runtime.hooks import HookRegistry, fire
from llmspell.runtime.invocation import current

from . import translate

logger = logging.getLogger("llmspell.a2a")

TERMINAL = {
    TaskState.TASK_STATE_COMPLETED,
    TaskState.TASK_STATE_FAILED,
    TaskState.TASK_STATE_CANCELED,
    TaskState.TASK_STATE_REJECTED,
}
INTERRUPTED = {TaskState.TASK_STATE_INPUT_REQUIRED, TaskState.TASK_STATE_AUTH_REQUIRED}
RETRIES = 3
INPUT_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "description": "the message to the agent"}},
    "required": ["text"],
}

Update = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Progress:
    """What is known of a remote task while it runs."""

    task_id: str = ""
    context_id: str = ""
    state: int = TaskState.TASK_STATE_SUBMITTED
    artifacts: dict[str, list[Part]] = field(default_factory=dict)
    status_text: str = ""
    steps: int = 0

    @property
    def state_name(self) -> str:
        """`completed`, `failed`, `input_required`..."""
        return TaskState.Name(self.state).removeprefix("TASK_STATE_").lower()

    def parts(self) -> list[Part]:
        """Every artifact's parts, in the order the artifacts came."""
        return [p for parts in self.artifacts.values() for p in parts]

    def plain(self) -> dict[str, Any]:
        """The task's end as a plain object (parts left out)."""
        return {
            "task_id": self.task_id,
            "context_id": self.context_id,
            "state": self.state_name,
            "status_text": self.status_text,
        }


class RemoteAgent:
    def __init__(
        self,
        name: str,
        url: str,
        headers: dict[str, str] | None = None,
        hooks: HookRegistry | None = None,
    ) -> None:
        self.name = name
        self.hooks = hooks
        """Where `before_a2a_send` / `after_a2a_send` hooks are (the runtime's)."""
        self.url = url.rstrip("/")
        self.headers = dict(headers or {})
        self.card: AgentCard | None = None
        self._http = httpx.AsyncClient(headers=self.headers, timeout=httpx.Timeout(30, read=300))
        self._client: Any = None

    async def connect(self) -> AgentCard:
        """Fetch the card (retrying with backoff) and open a client on its best binding."""
        delay = 0.25
        for attempt in range(RETRIES):
            try:
                self.card = await A2ACardResolver(self._http, self.url).get_agent_card()
                break
            except (A2AClientError, httpx.HTTPError) as exc:
                status = getattr(exc, "status_code", None) or 0
                if attempt == RETRIES - 1 or 400 <= status < 500:  # a 4xx will not change
                    named = f"A2A agent {self.name!r} at" if self.name else "A2A agent at"
                    raise LLMSpellError(
                        ErrorCode.UNAVAILABLE,
                        f"{named} {self.url}: no agent card ({_first_line(exc)})",
                    ) from None
                await asyncio.sleep(delay)
                delay *= 2
        assert self.card is not None
        self._client = await create_client(
            self.card,
            ClientConfig(streaming=self.card.capabilities.streaming, httpx_client=self._http),
        )
        return self.card

    def component(self) -> Component:
        assert self.card is not None
        skills = "; ".join(f"{s.name}: {s.description}" for s in self.card.skills)
        description = self.card.description + (f" (skills: {skills})" if skills else "")

        async def call(inv: Invocation) -> Result:
            return await self.call(inv)

        return Component(
            name=self.name,
            handler=call,
            kind="agent",
            description=description,
            input_schema=dict(INPUT_SCHEMA),
            source=f"a2a:{self.url}",
        )

    # -- one call: a task from start to end -----------------------------------------------------

    async def call(self, inv: Invocation) -> Result:
        text = str(inv.arguments.get("text", ""))
        progress = Progress()

        async def report(update: dict[str, Any]) -> None:
            if update.get("status_text"):
                progress.steps += 1
                await inv.report_progress(progress.steps, None, update["status_text"])

        try:
            await self.run([TextPart(text)], progress, report)
            while progress.state == TaskState.TASK_STATE_INPUT_REQUIRED:
                if inv.peer is None or not inv.peer.supports("elicitation"):
                    asked = TextPart(f"The agent needs more input: {progress.status_text}")
                    return Result([asked, *progress.parts()])
                reply = await inv.peer.elicit(
                    progress.status_text or "The agent needs more input",
                    {
                        "type": "object",
                        "properties": {"reply": {"type": "string"}},
                        "required": ["reply"],
                    },
                )
                if reply.action != "accept" or not reply.content:
                    await self.cancel(progress.task_id)
                    return Result.error(f"the agent asked for input and got {reply.action}")
                await self.run([TextPart(str(reply.content.get("reply", "")))], progress, report)
        except asyncio.CancelledError:
            if progress.task_id:
                await asyncio.shield(self.cancel(progress.task_id))
            raise
        parts = progress.parts()
        if progress.state == TaskState.TASK_STATE_COMPLETED:
            return Result(parts or [TextPart(progress.status_text)])
        return Result(
            [TextPart(f"the agent's task ended {progress.state_name}: {progress.status_text}")],
            is_error=True,
        )

    async def run(
        self, parts: list[Part], progress: Progress, on_update: Update | None = None
    ) -> None:
        """Send `parts` (continuing `progress`'s task when it has one) and follow the task until
        it ends or is interrupted; a dropped stream is resumed."""
        if self._client is None:
            await self.connect()
        hooks = self.hooks
        if hooks is not None and hooks.wants("before_a2a_send"):
            said = {"agent": self.name, "url": self.url, "caller": _caller()}
            plain = [part_to_plain(p, a2a_files=True) for p in parts]
            fired = await fire(hooks, "before_a2a_send", {**said, "message": plain}, self.name)
            if isinstance(fired.context.get("message"), list):
                parts = [part_from_plain(p) for p in fired.context["message"]]
        message = new_message(
            [translate.to_part(p) for p in parts],
            role=Role.ROLE_USER,
            task_id=progress.task_id or None,
            context_id=progress.context_id or None,
        )
        try:
            async for event in self._client.send_message(SendMessageRequest(message=message)):
                await self._absorb(event, progress, on_update)
        except (A2AClientError, httpx.HTTPError, A2AError) as exc:
            if not progress.task_id:
                raise LLMSpellError(
                    ErrorCode.UNAVAILABLE, f"A2A agent {self.name!r}: {exc}"
                ) from None
            await self._resume(progress, on_update, exc)
        if progress.state not in TERMINAL | INTERRUPTED and progress.task_id:
            await self._resume(progress, on_update, None)
        if hooks is not None and hooks.wants("after_a2a_send"):
            said = {"agent": self.name, "url": self.url, "caller": _caller()}
            await fire(hooks, "after_a2a_send", {**said, "result": progress.plain()}, self.name)

    async def _resume(self, progress: Progress, on_update: Update | None, why: Any) -> None:
        delay = 0.25
        for _ in range(RETRIES * 4):
            try:
                async for event in self._client.subscribe(
                    SubscribeToTaskRequest(id=progress.task_id)
                ):
                    await self._absorb(event, progress, on_update)
            except (A2AClientError, httpx.HTTPError, A2AError) as exc:
                why = exc
            if progress.state in TERMINAL | INTERRUPTED:
                return
            try:  # the stream may have ended with the task: ask for it
                self._take_task(
                    await self._client.get_task(GetTaskRequest(id=progress.task_id)), progress
                )
            except (A2AClientError, httpx.HTTPError, A2AError) as exc:
                why = exc
            if progress.state in TERMINAL | INTERRUPTED:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        raise LLMSpellError(
            ErrorCode.UNAVAILABLE,
            f"A2A agent {self.name!r}: lost task {progress.task_id} ({why})",
        )

    async def _absorb(self, event: Any, progress: Progress, on_update: Update | None) -> None:
        kind = event.WhichOneof("payload")
        update: dict[str, Any] = {"kind": kind}
        if kind == "task":
            self._take_task(event.task, progress)
        elif kind == "message":
            progress.artifacts["message"] = [translate.from_part(p) for p in event.message.parts]
            progress.state = TaskState.TASK_STATE_COMPLETED
            progress.context_id = event.message.context_id or progress.context_id
        elif kind == "status_update":
            status = event.status_update.status
            progress.task_id = event.status_update.task_id or progress.task_id
            progress.context_id = event.status_update.context_id or progress.context_id
            progress.state = status.state
            text = _text(status.message.parts)
            if text:
                progress.status_text = text
                update["status_text"] = text
        elif kind == "artifact_update":
            artifact = event.artifact_update.artifact
            parts = [translate.from_part(p) for p in artifact.parts]
            if event.artifact_update.append:
                progress.artifacts.setdefault(artifact.artifact_id, []).extend(parts)
            else:
                progress.artifacts[artifact.artifact_id] = parts
            update["parts"] = parts
        update.update(state=progress.state_name, task_id=progress.task_id)
        if on_update is not None:
            await on_update(update)

    @staticmethod
    def _take_task(task: Task, progress: Progress) -> None:
        progress.task_id = task.id
        progress.context_id = task.context_id
        progress.state = task.status.state
        text = _text(task.status.message.parts)
        if text:
            progress.status_text = text
        for artifact in task.artifacts:
            progress.artifacts[artifact.artifact_id] = [
                translate.from_part(p) for p in artifact.parts
            ]

    async def cancel(self, task_id: str) -> None:
        try:
            await self._client.cancel_task(CancelTaskRequest(id=task_id))
        except (A2AClientError, httpx.HTTPError, A2AError) as exc:
            logger.info("A2A agent %s: cancel of %s failed: %s", self.name, task_id, exc)

    async def get_task(self, task_id: str) -> dict[str, Any]:
        if self._client is None:
            await self.connect()
        try:
            task = await self._client.get_task(GetTaskRequest(id=task_id))
        except (A2AClientError, httpx.HTTPError, A2AError) as exc:
            raise LLMSpellError(
                ErrorCode.COMPONENT_FAILED, f"A2A agent {self.name!r}: {exc}"
            ) from None
        return dict(MessageToDict(task))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
        await self._http.aclose()


def _caller() -> str:
    """Who is sending: the subject of the call in progress, else the local user."""
    inv = current.get()
    return inv.caller.subject if inv is not None else "local"


def _text(parts: Any) -> str:
    return "\n".join(p.text for p in parts if p.WhichOneof("content") == "text")


class RemoteAgents:
    """The agents a gateway or script reached: config `[a2a_agents]`, `A2A.discover(url)`."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.agents: dict[str, RemoteAgent] = {}

    async def add(self, name: str, url: str, headers: dict[str, str] | None = None) -> RemoteAgent:
        agent = self.agents.get(name)
        if agent is None:
            agent = RemoteAgent(name, url, headers, self.runtime.hooks)
            await agent.connect()
            self._register(agent)
        return agent

    async def discover(
        self, url: str, name: str | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Add the agent at `url` (once: its card is fetched one time), named `name` or after
        its card."""
        agent = self._by_url(url)
        if agent is None:
            agent = RemoteAgent(name or "", url, headers, self.runtime.hooks)
            card = await agent.connect()
            agent.name = name or _safe_name(card.name)
            known = self.agents.get(agent.name)
            if known is not None:
                await agent.aclose()
                agent = known
            else:
                self._register(agent)
        assert agent.card is not None
        return {"name": agent.name, "url": agent.url, "card": dict(MessageToDict(agent.card))}

    def _register(self, agent: RemoteAgent) -> None:
        self.agents[agent.name] = agent
        catalog = self.runtime.catalog
        catalog.register(agent.component(), replace=agent.name in catalog)

    def _by_url(self, url: str) -> RemoteAgent | None:
        return next((a for a in self.agents.values() if a.url == url.rstrip("/")), None)

    def agent(self, name_or_url: str) -> RemoteAgent:
        agent = self.agents.get(name_or_url) or self._by_url(name_or_url)
        if agent is None:
            raise LLMSpellError(
                ErrorCode.UNKNOWN_COMPONENT,
                f"no A2A agent {name_or_url!r}; A2A.discover(url) it first "
                f"(known: {', '.join(self.agents) or 'none'})",
            )
        return agent

    async def follow(
        self, name_or_url: str, parts: list[Part], on_update: Update | None = None
    ) -> Progress:
        """Send `parts` to an agent (by name, or by URL: discovered first) and follow its task
        until it ends or is interrupted."""
        if name_or_url.startswith(("http://", "https://")):
            await self.discover(name_or_url)
        progress = Progress()
        await self.agent(name_or_url).run(parts, progress, on_update)
        return progress

    async def send(
        self, name_or_url: str, parts: list[Part], on_update: Update | None = None
    ) -> dict[str, Any]:
        progress = await self.follow(name_or_url, parts, on_update)
        parts_out = progress.parts()
        return {
            "task_id": progress.task_id,
            "context_id": progress.context_id,
            "state": progress.state_name,
            "text": "\n".join(p.text for p in parts_out if isinstance(p, TextPart))
            or progress.status_text,
            "parts": parts_out,
        }

    async def get_task(self, name_or_url: str, task_id: str) -> dict[str, Any]:
        return await self.agent(name_or_url).get_task(task_id)

    async def aclose(self) -> None:
        for agent in self.agents.values():
            await agent.aclose()
        self.agents.clear()


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "agent"


def _first_line(exc: Exception) -> str:
    """httpx appends a line of advice and a documentation link to its status errors."""
    return (str(exc).splitlines() or [type(exc).__name__])[0]
