// State scopes, expiry and atomic updates: the script's own scope unless it asks for another.
const strip = (text) => String(text).replace(/[^\s']+\.js:\d+: (Error: )?/g, "");
await State.set("who", "this script");
const g = await State.scope("global");
const [a, b] = [await State.scope("agent:alpha"), await State.scope("agent:beta")];
print(g.name, a.name, b.name);
await g.set("who", "everyone");
await a.set("memory", { turns: 1 });
await b.set("memory", { turns: 2 });
print(await State.get("who"), await g.get("who"), await (await State.scope("global")).get("who"));
print((await a.get("memory")).turns, (await b.get("memory")).turns, (await State.get("memory")) == null);
print((await a.keys()).join(","), await a.delete("memory"), await a.delete("memory"), (await b.get("memory")).turns);
await g.set("user:1", "Ada");
await g.set("user:2", "Grace");
print((await g.keys("user:")).join(","), (await State.keys("user:")).length);

// update: fn gets the current value (nil at first) and returns the new one, which is returned.
for (let i = 1; i <= 4; i++) {
  await State.update("sum", (n) => (n ?? 0) + i);
}
print(await State.get("sum"), (await g.update("list", (l) => { l = l ?? []; l.push("x"); return l; }))[0]);

// Twenty branches updating one key at once, each pausing inside its update: none is lost.
const branches = [];
for (let i = 1; i <= 20; i++) {
  branches.push({ name: "b" + i, steps: [{ name: "bump", run: async () =>
    await State.update("hits", async (n) => { await sleep(0.005); return (n ?? 0) + 1; }) }] });
}
const crowd = await Workflow.parallel({ name: "crowd", branches });
print((await crowd.execute({})).is_error, await State.get("hits"));

// ttl: gone once the seconds pass, in any scope.
await State.set("flash", "soon gone", { ttl: 0.2 });
await g.set("flash", "also", { ttl: 0.2 });
await b.update("flash", () => "too", { ttl: 0.2 });
await State.set("kept", "stays", { ttl: 60 });
print(await State.get("flash"), await g.get("flash"), await b.get("flash"));
await sleep(0.3);
print((await State.get("flash")) == null, (await g.get("flash")) == null, (await b.get("flash")) == null, await State.get("kept"));
print((await State.keys()).join(","));

// Misuse is a catchable error that says what is wrong.
async function attempt(f, ...args) {
  try {
    await f(...args);
    print(true);
  } catch (e) {
    print(false, strip(e.message));
  }
}
await attempt(State.set, "k", "v", { ttl: -1 });
await attempt(State.set, "k", "v", { expire: 1 });
await attempt(State.update, "k", "not a function");
await attempt(State.scope, "");
await attempt(() => g.get(42));
await attempt(State.update, "k", async () => await State.update("k", () => 1));
try {
  await State.set("odd", { handler: () => null });
} catch (e) {
  print(false, e.message.includes("state key 'odd': a "), e.message.includes(" at handler cannot be stored"));
}
