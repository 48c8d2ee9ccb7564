// Delegating to a remote A2A agent (a plain a2a-sdk server) and streaming its updates.
const url = ARGS[4];
const found = await A2A.discover(url);
print(found.name, found.card.name, found.card.capabilities.streaming);

const steps = [];
const reply = await A2A.send(found.name, "slow 0.3", { stream: true, on_update: (u) => {
  if (u.status_text) steps.push(u.status_text);
} });
print(reply.state, reply.text, steps.join(","));

const asked = await A2A.send(url, "ask");
print(asked.state, asked.text);

const task = await A2A.get_task(found.name, reply.task_id);
print(task.status.state, task.artifacts[0].parts[0].text);

let ok = true;
let err = "";
try {
  await A2A.get_task(found.name, "no-such-task");
} catch (e) {
  ok = false;
  err = String(e);
}
print(ok, err.includes("not found"));
