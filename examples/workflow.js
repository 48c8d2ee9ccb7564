// Workflows in a script, all five patterns, offline: `llmspell run examples/workflow.js`
// The same API as examples/workflow.lua; every host call is awaited.

// sequential: each step's result is stored under its name for the next ones
const shout = await Workflow.sequential({
  name: "shout-and-hash",
  description: "Upper-cases a text and fingerprints it.",
  input_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  steps: [
    { name: "up", tool: "text-manipulator", args: (ctx) => ({ operation: "uppercase", text: ctx.input.text }) },
    { name: "hash", tool: "hash-calculator",
      args: (ctx) => ({ operation: "hash", algorithm: "sha256", input: ctx.steps.up.text }) },
  ],
  output: (ctx) => ctx.steps.up.text + " " + ctx.steps.hash.text.slice(0, 12),
});
print("sequential:", (await shout.execute({ text: "hello" })).text);

// conditional: the first branch whose `when` holds, else `otherwise`
const triage = await Workflow.conditional({
  name: "triage",
  branches: [
    { name: "math", when: (ctx) => /^[\d\s+\-*/.()]+$/.test(ctx.input.text),
      steps: [{ name: "calc", tool: "calculator", args: (ctx) => ({ expression: ctx.input.text }) }] },
    { otherwise: true, steps: [{ name: "ask", agent: "helper", args: (ctx) => ctx.input.text }] },
  ],
});
await Agent.create({ name: "helper", model: "offline/demo", tools: ["calculator"] });
print("conditional:", (await triage.execute({ text: "6 * 7" })).text);
print("conditional:", (await triage.execute({ text: "hello there" })).text);

// loop: over a list (or while a predicate holds), never more than max_iterations
const count = await Workflow.loop({
  name: "count-words",
  over: (ctx) => ctx.input.lines,
  max_iterations: 10,
  steps: [{ name: "words", tool: "text-manipulator", args: (ctx) => ({ operation: "count", text: ctx.item }) }],
  output: (ctx) => ctx.results.map((r) => r.data.words).join(","),
});
print("loop:", (await count.execute({ lines: ["one two", "three", "four five six"] })).text);

// parallel: branches at once; join = "all" waits for each, "any" takes the first answer
const fan = await Workflow.parallel({
  name: "fan-out",
  max_concurrency: 3,
  branches: [
    { name: "upper", steps: [{ name: "u", tool: "text-manipulator", args: { operation: "uppercase", text: "abc" } }] },
    { name: "reverse", steps: [{ name: "r", tool: "text-manipulator", args: { operation: "reverse", text: "abc" } }] },
    { name: "nap", steps: [{ name: "n", run: async () => { await sleep(0.1); return "rested"; } }] },
  ],
});
print("parallel:", (await fan.execute({})).text.replaceAll("\n", " | "));

// stream: the source emits into a bounded buffer; it waits while the steps catch up
let total = 0;
const squares = await Workflow.stream({
  name: "squares",
  buffer: 4,
  source: async (emit, ctx) => {
    for (let i = 1; i <= ctx.input.n; i++) await emit(i);
  },
  steps: [{ name: "square", run: (ctx) => { total += ctx.item * ctx.item; return ctx.item; } }],
});
const r = await squares.execute({ n: 100 });
print("stream:", r.data.items + " items, sum of squares " + total);

for (const w of await Workflow.list()) print("workflow", w.name);
