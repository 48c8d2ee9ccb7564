// Workflows: sequential, conditional, loop, a workflow as a step, and the listing.
// Durations vary from run to run, so only names, statuses and attempts are printed.
const steps = (r) => r.data.steps.map((s) => s.name + "=" + s.status).join(",");

// Sequential: the shout-and-hash example.
const wf = await Workflow.sequential({
  name: "shout-and-hash",
  description: "Upper-cases a text, then hashes it",
  input_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  steps: [
    { name: "up", tool: "text-manipulator", args: (ctx) => ({ operation: "uppercase", text: ctx.input.text }) },
    { name: "hash", tool: "hash-calculator", args: (ctx) => ({ operation: "hash", algorithm: "sha256", input: ctx.steps.up.text }) },
  ],
  output: (ctx) => ctx.steps.hash.text,
});
print(wf.name, wf.kind, wf.pattern);
const r = await wf.execute({ text: "hello" });
print(r.text, r.is_error, steps(r));
for (const s of r.data.steps) print(s.name, s.status, s.attempts, s.error);
try {
  await wf.execute({});
  print(true);
} catch (e) {
  print(false, e.message.replace(/[^\s']+\.js:\d+: (Error: )?/g, ""));
}

// Conditional: the first branch whose `when` holds, else `otherwise`.
const route = await Workflow.conditional({
  name: "route",
  branches: [
    { name: "number", when: (ctx) => ctx.input.text === "42",
      steps: [{ name: "calc", tool: "calculator", args: { expression: "6 * 7" } }] },
    { name: "short", when: (ctx) => ctx.input.text.length <= 3,
      steps: [{ name: "up", tool: "text-manipulator", args: (ctx) => ({ operation: "uppercase", text: ctx.input.text }) }] },
    { name: "long", otherwise: true,
      steps: [{ name: "rev", tool: "text-manipulator", args: (ctx) => ({ operation: "reverse", text: ctx.input.text }) }] },
  ],
});
for (const text of ["abc", "42", "workflow"]) {
  const c = await route.execute({ text });
  print(text, c.data.branch, c.text, c.is_error, steps(c));
}
const strict = await Workflow.conditional({
  name: "strict-route",
  branches: [{ name: "yes", when: (ctx) => ctx.input.ok, steps: [{ name: "s", run: () => "matched" }] }],
});
print((await strict.execute({ ok: true })).text);
const none = await strict.execute({ ok: false });
print(none.is_error, none.text, none.data.branch);

// Loop over a list (a table or a function of ctx); `output` reads the per-iteration results.
const squares = await Workflow.loop({
  name: "squares",
  over: [1, 2, 3, 4],
  steps: [{ name: "sq", run: (ctx) => ({ n: ctx.item, square: ctx.item * ctx.item, index: ctx.index }) }],
  output: (ctx) => ({ sum: ctx.results.reduce((acc, res) => acc + res.data.square, 0) }),
});
const l = await squares.execute({});
print(l.data.iterations, l.data.stopped, l.data.output.sum, steps(l), l.data.steps[0].runs);
for (const it of l.data.results) print(it.data.n, it.data.square, it.data.index);
const words = await Workflow.loop({
  name: "shout-each",
  over: (ctx) => ctx.input.words,
  steps: [{ name: "up", tool: "text-manipulator", args: (ctx) => ({ operation: "uppercase", text: ctx.item }) }],
});
const w = await words.execute({ words: ["a", "bb", "ccc"] });
print(w.data.iterations, w.data.stopped, w.data.results.map((it) => it.text).join(" "), w.text);
print((await words.execute({ words: [] })).data.iterations);

// Loop while a condition holds, on state the steps set with ctx.set.
const count = await Workflow.loop({
  name: "count-to-five",
  while_: (ctx) => (ctx.state.n ?? 0) < 5,
  steps: [{ name: "inc", run: async (ctx) => {
    const n = (ctx.state.n ?? 0) + 1;
    await ctx.set("n", n);
    await ctx.set("log", (ctx.state.log ?? "") + n);
    return n;
  } }],
  output: (ctx) => "n=" + ctx.state.n + " log=" + ctx.state.log,
});
const c5 = await count.execute({});
print(c5.text, c5.data.iterations, c5.data.stopped);

// A loop that would not end stops at max_iterations.
const forever = await Workflow.loop({
  name: "forever",
  while_: (ctx) => true,
  max_iterations: 3,
  steps: [{ name: "tick", run: (ctx) => "tick " + ctx.index }],
});
const f = await forever.execute({});
print(f.data.iterations, f.data.stopped, f.text);

// A step ends its loop with ctx.break_loop(); the steps after it in that turn do not run.
const seek = await Workflow.loop({
  name: "seek",
  over: ["x", "y", "needle", "z", "w"],
  steps: [
    { name: "look", run: async (ctx) => {
      if (ctx.item === "needle") await ctx.break_loop();
      return "saw " + ctx.item;
    } },
    { name: "after", run: (ctx) => "after " + ctx.item },
  ],
});
const s = await seek.execute({});
print(s.data.iterations, s.data.stopped, s.text);
for (const st of s.data.steps) print(st.name, st.status, st.runs);

// A workflow as a step of another: the value itself (it gets the same input), or
// `workflow: ...` with arguments.
const greet = await Workflow.sequential({
  name: "greet",
  steps: [{ name: "hi", run: (ctx) => "hi " + (ctx.input.who ?? "nobody") }],
});
const outer = await Workflow.sequential({
  name: "outer",
  steps: [
    greet,
    { name: "hashed", workflow: wf, args: (ctx) => ({ text: ctx.steps.greet.text }) },
    { name: "by-name", workflow: "greet", args: { who: "world" } },
  ],
  output: (ctx) => ctx.steps.greet.text + " | " + ctx.steps["by-name"].text + " | " + ctx.steps.hashed.text,
});
const o = await outer.execute({ who: "outer" });
print(o.text, o.is_error, steps(o));
print((await Tool.execute("hash-calculator", { operation: "hash", algorithm: "sha256", input: "HI OUTER" })).text);
print((await Tool.execute("greet", { who: "tool" })).text);

print((await Workflow.list()).map((item) => item.name + ":" + item.kind).sort().join(","));
