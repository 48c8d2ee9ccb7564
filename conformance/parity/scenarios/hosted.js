// An agent written in the script (Agent.define) that drives its own task, called as a tool:
// its status text is progress, its artifacts and final message make the result.
await Agent.define({
  name: "parity.hosted",
  description: "Answers in steps",
  skills: ["answering"],
  handler: async (message, task) => {
    if (message.text === "stop") {
      await task.reject("not today");
      return;
    }
    if (message.text === "ask") {
      await task.require_input("which one?");
      return;
    }
    await task.working("thinking about " + message.text);
    const id = await task.artifact({ name: "draft", parts: "part one, " });
    await task.artifact({ name: "draft", parts: ["part two"], append: true, last_chunk: true });
    print(typeof id, id.length > 0, await task.cancelled(), message.task_id == null, message.parts.length);
    return { parts: [{ type: "data", data: { words: 4 } }] };
  },
});
const r = await Tool.execute("parity.hosted", { text: "cats" });
print(r.text, r.data.words, r.is_error, r.parts.length);
const no = await Tool.execute("parity.hosted", { text: "stop" });
print(no.text, no.is_error);
const ask = await Tool.execute("parity.hosted", { text: "ask" });
print(ask.text, ask.is_error);
for (const t of await Tool.list("agent")) {
  if (t.name === "parity.hosted") print(t.name, t.kind, t.description);
}
