// A tour of the script API: tools, state, events and a hook (the JavaScript twin of tour.lua).
// Run: llmspell run examples/tour.js

const sum = await Tool.execute("calculator", { expression: "2 ** 10 + sqrt(16)" });
print("calculator says " + sum.text);

Tool.define({
  name: "greet",
  description: "Greets someone by name",
  input_schema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
  handler: (args) => "Hello, " + args.name + "!",
});
print((await Tool.execute("greet", { name: "Ada" })).text);

try {
  await Tool.execute("greet", {});
} catch (err) {
  print("without a name: " + err.message);
}

await State.set("visits", ((await State.get("visits")) ?? 0) + 1);
print("visits: " + (await State.get("visits")));

let calls = 0;
Event.subscribe("call.finished", () => { calls += 1; });
Event.subscribe("tour.*", (topic, data) => print("event " + topic + ": " + data.message));
await Event.publish("tour.hello", { message: "events work" });

Hook.register("before_tool", (ctx) => ({
  action: "modify",
  arguments: { name: ctx.arguments.name.toUpperCase() },
}), { match: "greet", priority: "high" });
print((await Tool.execute("greet", { name: "grace" })).text);
print("tool calls seen by the subscriber: " + calls);
