// JavaScript-defined tools for the MCP server tests.

Tool.define({
  name: "js_upper",
  description: "Upper-cases text (JavaScript)",
  input_schema: {
    type: "object",
    properties: { text: { type: "string" } },
    required: ["text"],
  },
  handler: async (args) => args.text.toUpperCase(),
});

Tool.define({
  name: "js_forever",
  description: "Counts in State until cancelled",
  input_schema: { type: "object", properties: { key: { type: "string" } }, required: ["key"] },
  handler: async (args, ctx) => {
    let n = 0;
    for (;;) {
      n += 1;
      await (await State.scope("global")).set(args.key, n); // read by tools.lua
      if (n === 1) await ctx.progress(1);
      await sleep(0.02);
    }
  },
});
