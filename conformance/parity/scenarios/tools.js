// Built-in and script-defined tools, listing, results.
const r = await Tool.execute("calculator", { expression: "6 * 7" });
print(r.text, r.data.result, r.is_error);

await Tool.define({
  name: "parity.add",
  description: "Adds two integers",
  input_schema: { type: "object", properties: { a: { type: "integer" }, b: { type: "integer" } }, required: ["a", "b"] },
  handler: (args) => ({ sum: args.a + args.b, kind: "sum" }),
});
await Tool.define({ name: "parity.text", handler: (args) => "plain text" });
await Tool.define({
  name: "parity.parts",
  handler: (args) => ({ parts: [{ type: "text", text: "first" }, { type: "data", data: { n: 1 } }] }),
});

const sum = await Tool.execute("parity.add", { a: 2, b: 40 });
print(sum.data.sum, sum.data.kind, sum.text === "");
print((await Tool.execute("parity.text", {})).text);
const parts = await Tool.execute("parity.parts", {});
print(parts.parts.length, parts.parts[0].type, parts.parts[1].type, parts.text, parts.data.n);

const mine = (await Tool.list())
  .filter((t) => t.name.startsWith("parity."))
  .map((t) => t.name + ":" + t.kind)
  .sort();
print(mine.join(","));
