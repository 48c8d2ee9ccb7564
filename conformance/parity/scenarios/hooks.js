// Hooks: ordering by priority, modify arguments and results, cancel with a reason, replace.
const order = [];
await Tool.define({
  name: "parity.echo",
  input_schema: { type: "object", properties: { msg: { type: "string" } } },
  handler: (args) => args.msg ?? "",
});
await Hook.register("before_tool", (ctx) => { order.push("low"); }, { priority: "low" });
await Hook.register("before_tool", (ctx) => { order.push("first"); }, { priority: "first" });
await Hook.register("before_tool", (ctx) => {
  order.push("normal");
  return { action: "modify", arguments: { msg: ctx.arguments.msg + "!" } };
}, { match: "parity.echo" });
await Hook.register("after_tool", (ctx) => ({ action: "modify", result: ctx.result.text + " (checked)" }), { match: "parity.echo" });
print((await Tool.execute("parity.echo", { msg: "hi" })).text);
print(order.join(","));

const id = await Hook.register("before_tool", (ctx) => {
  if (ctx.arguments.msg === "stop") return { action: "cancel", reason: "stop words are refused" };
}, { priority: "first" });
try {
  await Tool.execute("parity.echo", { msg: "stop" });
} catch (e) {
  print(false, e.message);
}
print(await Hook.unregister(id));
print((await Tool.execute("parity.echo", { msg: "stop" })).text);
try {
  await Hook.register("before_nothing", () => {});
} catch (e) {
  print(false, e.message);
}

// replace: a before-hook answers instead of the tool, which never runs; after-hooks still see it
let runs = 0;
await Tool.define({ name: "parity.counted", handler: (args) => { runs += 1; return "ran"; } });
const rid = await Hook.register("before_tool", (ctx) => {
  if (ctx.arguments.cached) return { action: "replace", result: "from the hook" };
}, { match: "parity.counted" });
print((await Tool.execute("parity.counted", { cached: true })).text, runs);
print((await Tool.execute("parity.counted", {})).text, runs);
await Hook.unregister(rid);
