"""A plain `a2a-sdk` agent, not llmspell, as the remote peer for A2A client tests:
`python -m llmspell.conformance.peers.a2a_agent PORT`. What it does depends on the text:

- `ask`: asks for input (input-required), then greets whoever answers;
- `slow N`: works for N seconds, one status update per 0.1 s, until done or cancelled;
- anything else: completes with `you said: <text>`.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from a2a.helpers.proto_helpers import new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandlerV2
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, TaskState
from starlette.applications import Starlette


class PeerExecutor(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id and context.message
        task = context.current_task
        if task is None:
            await event_queue.enqueue_event(new_task_from_user_message(context.message))
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        text = context.get_user_input().strip()
        if task is not None and task.status.state == TaskState.TASK_STATE_INPUT_REQUIRED:
            await updater.add_artifact([new_text_part(f"hello {text}")], name="greeting")
            await updater.complete()
            return
        if text == "ask":
            await updater.requires_input(
                updater.new_agent_message([new_text_part("What is your name?")])
            )
            return
        if text.startswith("slow"):
            seconds = float(text.split()[1]) if len(text.split()) > 1 else 5.0
            for step in range(int(seconds * 10)):
                await updater.update_status(
                    TaskState.TASK_STATE_WORKING,
                    message=updater.new_agent_message([new_text_part(f"step {step + 1}")]),
                )
                await asyncio.sleep(0.1)
            await updater.add_artifact([new_text_part("slow work done")])
            await updater.complete()
            return
        await updater.add_artifact([new_text_part(f"you said: {text}")])
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def app(port: int) -> Starlette:
    base = f"http://127.0.0.1:{port}"
    card = AgentCard(
        name="peer",
        description="A plain a2a-sdk test agent",
        version="1",
        supported_interfaces=[
            AgentInterface(url=f"{base}/", protocol_binding="JSONRPC", protocol_version="1.0"),
            AgentInterface(url=base, protocol_binding="HTTP+JSON", protocol_version="1.0"),
        ],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(
                id="peer", name="peer", description="asks, works slowly, echoes", tags=["test"]
            )
        ],
    )
    handler = DefaultRequestHandlerV2(
        agent_executor=PeerExecutor(), task_store=InMemoryTaskStore(), agent_card=card
    )
    return Starlette(
        routes=[
            *create_agent_card_routes(card),
            *create_jsonrpc_routes(handler, "/"),
            *create_rest_routes(handler),
        ]
    )


if __name__ == "__main__":
    port = int(sys.argv[1])
    uvicorn.run(app(port), host="127.0.0.1", port=port, log_level="warning")
