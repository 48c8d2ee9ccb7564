// An independent A2A client (@a2a-js/sdk, pinned in package-lock.json) against a live gateway.
// Usage: node js_client.mjs AGENT_URL SLOW_TOOL_URL; prints one JSON object of what it saw.
import { ClientFactory } from "@a2a-js/sdk/client";
import { Role, TaskState } from "@a2a-js/sdk";
import { randomUUID } from "node:crypto";

const [agentUrl, slowUrl] = process.argv.slice(2);
const factory = new ClientFactory();
const text = (value) => ({ content: { $case: "text", value }, metadata: undefined, filename: "", mediaType: "" });
const message = (value) => ({
  messageId: randomUUID(), contextId: "", taskId: "", role: Role.ROLE_USER,
  parts: [text(value)], metadata: undefined, extensions: [], referenceTaskIds: [],
});
const out = {};

const cardOf = (url) => `${url}/.well-known/agent-card.json`;
const agent = await factory.createFromUrl(cardOf(agentUrl), "");
const card = await (await fetch(`${agentUrl}/.well-known/agent-card.json`)).json();
out.card = card.name;

const sent = await agent.sendMessage({ message: message("from node") });
const task = sent.payload?.value ?? sent;
out.sent = { state: TaskState[task.status.state], text: task.artifacts[0].parts[0].content.value };

const kinds = [];
let last;
for await (const event of agent.sendMessageStream({ message: message("streamed from node") })) {
  kinds.push(event.payload.$case);
  last = event.payload;
}
out.stream = { first: kinds[0], kinds: [...new Set(kinds)].sort(), last: TaskState[last.value.status.state] };

const got = await agent.getTask({ id: task.id, historyLength: undefined, tenant: "" });
out.got = TaskState[got.status.state];
const listed = await agent.listTasks({ tenant: "", contextId: "", pageSize: 100, pageToken: "", historyLength: undefined, includeArtifacts: false });
out.listed = listed.tasks.some((t) => t.id === task.id);

const slow = await factory.createFromUrl(cardOf(slowUrl), "");
const started = await slow.sendMessage({
  message: message('{"seconds": 30}'),
  configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, historyLength: undefined, returnImmediately: true },
});
const long = started.payload?.value ?? started;
out.long_before = TaskState[long.status.state];
// A client cancels work in progress: wait until the task is picked up.
for (let i = 0; i < 50; i++) {
  const now = await slow.getTask({ id: long.id, historyLength: undefined, tenant: "" });
  if (now.status.state === TaskState.TASK_STATE_WORKING) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const cancelled = await slow.cancelTask({ id: long.id, tenant: "", metadata: undefined });
out.long_after = TaskState[cancelled.status.state];
console.log(JSON.stringify(out));
