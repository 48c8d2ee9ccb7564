// Failing steps: retries, on_error = "continue", a fallback step, timeouts. Every step error
// names the workflow and the step. Durations vary, so they are never printed.
const strip = (text) => (text == null ? text : text.replace(/[^\s']+\.js:\d+: (Error: )?/g, ""));
function show(r) {
  print(r.is_error, strip(r.text));
  for (const s of r.data.steps) print("", s.name, s.status, s.attempts, strip(s.error));
}

// A step that fails twice, then succeeds on its third attempt.
let calls = 0;
const flaky = await Workflow.sequential({
  name: "flaky",
  steps: [{ name: "try", retry: { max: 3, backoff: 0.01 }, run: (ctx) => {
    calls += 1;
    if (calls < 3) throw new Error("not yet (" + calls + ")");
    return "worked on call " + calls;
  } }],
});
const r = await flaky.execute({});
show(r);
print(calls, r.data.steps[0].attempts === 3);

// Retries run out: the error is the last attempt's, and the run stops at that step.
const hopeless = await Workflow.sequential({
  name: "hopeless",
  steps: [
    { name: "divide", tool: "calculator", args: { expression: "1 / 0" }, retry: { max: 1 } },
    { name: "never", run: () => { print("MUST NOT APPEAR: never ran"); return "never"; } },
  ],
});
show(await hopeless.execute({}));

// on_error = "continue": the failure is recorded, its result is an error later steps can read.
const tolerant = await Workflow.sequential({
  name: "tolerant",
  steps: [
    { name: "bad", on_error: "continue", run: () => { throw new Error("bad input"); } },
    { name: "next", run: (ctx) => "next saw is_error=" + ctx.steps.bad.is_error + ": " + strip(ctx.steps.bad.text) },
  ],
});
show(await tolerant.execute({}));

// A fallback step runs in place of a failed one; its result is stored under the failed name.
const fallback = await Workflow.sequential({
  name: "with-fallback",
  steps: [
    { name: "primary", tool: "no-such-tool", args: {}, on_error: { name: "backup", run: (ctx) => "backup for " + ctx.input.who } },
    { name: "use", run: (ctx) => "used: " + ctx.steps.primary.text },
  ],
});
show(await fallback.execute({ who: "me" }));

// A timeout ends a step mid-sleep: the code after the sleep never runs.
const slow = await Workflow.sequential({
  name: "slow",
  steps: [{ name: "nap", timeout: 0.2, run: async () => {
    await sleep(1);
    print("MUST NOT APPEAR: the nap finished");
    return "rested";
  } }],
});
show(await slow.execute({}));
// A timeout with on_error = "continue" and a retry: each attempt gets its own 0.2 s.
const patient = await Workflow.sequential({
  name: "patient",
  steps: [
    { name: "nap", timeout: 0.2, retry: { max: 1 }, on_error: "continue", run: async () => { await sleep(1); print("MUST NOT APPEAR"); } },
    { name: "after", run: (ctx) => "after: " + ctx.steps.nap.is_error },
  ],
});
show(await patient.execute({}));
await sleep(1); // had the naps gone on, they would print by now

// Failures of the workflow's own functions name the workflow too.
const brokenArgs = await Workflow.sequential({
  name: "broken-args",
  steps: [{ name: "up", tool: "text-manipulator", args: (ctx) => ({ operation: "uppercase", text: ctx.input.missing.text }) }],
});
const b = await brokenArgs.execute({});
print(b.is_error, strip(b.text).replace(/:.*/s, ""));
const brokenOutput = await Workflow.sequential({
  name: "broken-output",
  steps: [{ name: "s", run: () => "fine" }],
  output: (ctx) => { throw new Error("cannot shape the output"); },
});
show(await brokenOutput.execute({}));
const brokenSource = await Workflow.stream({
  name: "broken-source",
  source: async (emit, ctx) => { await emit(1); await emit(2); throw new Error("source ran dry"); },
  steps: [{ name: "s", run: (ctx) => ctx.item }],
});
show(await brokenSource.execute({}));
