// Streams: a source emits into a bounded buffer; a full buffer suspends the source, so the
// source never runs more than buffer + in-flight items ahead of the step that consumes them.
// The source and the step are closures of this script sharing the counters below.
const N = 10000, BUFFER = 4;
let emitted = 0, done = 0, maxAhead = 0;
let orderOk = true;
const stream = await Workflow.stream({
  name: "ten-thousand",
  buffer: BUFFER,
  source: async (emit, ctx) => {
    for (let i = 1; i <= ctx.input.n; i++) {
      await emit(i);
      emitted = i;
      maxAhead = Math.max(maxAhead, i - done);
    }
  },
  steps: [{ name: "work", run: async (ctx) => {
    await sleep(0); // a slow step: each item waits a turn of the host's event loop, so the source gets ahead
    if (ctx.item !== done + 1 || ctx.index !== ctx.item) orderOk = false;
    done += 1;
    return ctx.item * 2;
  } }],
});
const r = await stream.execute({ n: N });
print(r.is_error, r.data.items, emitted, done, orderOk);
print("max_ahead <= buffer + 1", maxAhead <= BUFFER + 1, "buffer filled", maxAhead >= BUFFER);
for (const s of r.data.steps) print(s.name, s.status, s.runs, s.failures, s.attempts);
