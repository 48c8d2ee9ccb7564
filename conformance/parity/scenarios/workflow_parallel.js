// Parallel workflows: branches at once, join = "any", fail_fast cancelling the siblings.
// Lua's os.clock is CPU time and JS's Date is not in Lua, so both read the host's wall clock
// through the built-in date-time-handler tool (microsecond timestamps).
const now = async () => (await Tool.execute("date-time-handler", { operation: "now" })).data.timestamp;
const strip = (text) => text.replace(/[^\s']+\.js:\d+: (Error: )?/g, "");
const records = (r) => r.data.steps.map((s) => s.name + "=" + s.status).sort().join(",");
const nap = (label, seconds) => ({ name: label, steps: [{ name: "nap", run: async (ctx) => { await sleep(seconds); return label + " woke"; } }] });

// Three 0.5 s naps finish together in about 0.5 s, not 1.5 s.
const three = await Workflow.parallel({ name: "three-naps", branches: [nap("a", 0.5), nap("b", 0.5), nap("c", 0.5)] });
let t0 = await now();
const p = await three.execute({});
let elapsed = (await now()) - t0;
print(p.text, p.is_error, records(p));
print("parallel: 0.5 <= elapsed < 1.2", elapsed >= 0.5, elapsed < 1.2);
print(p.data.branches.a.text, p.data.branches.b.text, p.data.branches.c.text);

// max_concurrency = 1 runs them one after the other.
const one = await Workflow.parallel({ name: "one-at-a-time", max_concurrency: 1, branches: [nap("a", 0.2), nap("b", 0.2), nap("c", 0.2)] });
t0 = await now();
const q = await one.execute({});
elapsed = (await now()) - t0;
print(q.text, records(q));
print("max_concurrency 1: elapsed >= 0.6", elapsed >= 0.6);

// join = "any": the first branch to succeed wins; the others are cancelled mid-sleep.
const race = await Workflow.parallel({
  name: "race",
  join: "any",
  branches: [
    { name: "slow", steps: [{ name: "nap", run: async () => { await sleep(1); print("MUST NOT APPEAR: slow finished"); return "slow"; } }] },
    { name: "broken", steps: [{ name: "boom", run: () => { throw new Error("no luck"); } }] },
    { name: "fast", steps: [{ name: "nap", run: async () => { await sleep(0.1); return "fast"; } }] },
  ],
});
t0 = await now();
const any = await race.execute({});
elapsed = (await now()) - t0;
print(any.text, any.is_error, any.data.winner, records(any), elapsed < 0.8);

// fail_fast: one failure cancels its siblings; the code after their sleep never runs.
const siblings = (failFast) => Workflow.parallel({
  name: failFast ? "fail-fast" : "collect-all",
  fail_fast: failFast,
  branches: [
    { name: "left", steps: [{ name: "nap", run: async () => { await sleep(0.5); print("after sleep: left (" + failFast + ")"); return "left"; } }] },
    { name: "bad", steps: [{ name: "boom", run: async () => { await sleep(0.1); throw new Error("bad branch"); } }] },
    { name: "worse", steps: [{ name: "boom", run: async () => { await sleep(0.2); throw new Error("worse branch"); } }] },
    { name: "right", steps: [{ name: "nap", run: async () => { await sleep(0.5); print("after sleep: right (" + failFast + ")"); return "right"; } }] },
  ],
});
t0 = await now();
const ff = await (await siblings(true)).execute({});
elapsed = (await now()) - t0;
print(ff.is_error, strip(ff.text));
print(records(ff), elapsed < 0.4);
for (const s of ff.data.steps) {
  if (s.status !== "ok") print(s.name, s.status, strip(s.error));
}
await sleep(0.6); // had the cancelled naps gone on, they would print by now
const all = await (await siblings(false)).execute({});
print(all.is_error, strip(all.text));
print(records(all));
