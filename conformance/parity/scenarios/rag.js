// RAG: a memory collection with the offline hash embedder (deterministic, no model): ingest
// inline texts, count, search by keywords and vectors with citations, filter, delete, list,
// and an agent whose knowledge puts the best passage in front of the model.
const col = await RAG.collection("parity.docs", { backend: "memory", embedding: "offline/hash" });
print(col.name);
const r = await col.ingest({ text: "The breaker_failures key counts failed calls before the circuit breaker opens.", metadata: { id: "breaker", topic: "ops" } });
print(r.sources, r.chunks, r.skipped.length);
await col.ingest({ text: "Hooks run before and after every tool call; before_tool may change the arguments.", metadata: { id: "hooks", topic: "dev" } });
await col.ingest({ text: "Multiplication: 6 times 7 is 42.", metadata: { id: "maths", topic: "dev" } });
print(await col.count());
const hits = await col.search({ query: "breaker_failures", k: 2, mode: "bm25" });
print(hits.length, hits[0].citation, hits[0].source, hits[0].metadata.topic, hits[0].score > 0);
print(hits[0].text);
const same = await col.search({ query: "Hooks run before and after every tool call; before_tool may change the arguments.", k: 1, mode: "vector" });
print(same[0].citation);
const dev = await col.search({ query: "breaker_failures hooks", k: 5, filter: { topic: "dev" } });
for (const h of dev) print("dev", h.citation);
print((await col.search({ query: "nothing-like-this-anywhere", mode: "bm25" })).length);
print((await RAG.list()).join(","));
print(await col.delete({ filter: { topic: "ops" } }), await col.count());
print(await col.delete({ ids: [same[0].id] }), await col.count());
async function failure(fn) {
  try {
    await fn();
    return [true, ""];
  } catch (e) {
    return [false, e.message];
  }
}
let [ok, err] = await failure(() => RAG.collection("parity.docs", { embedding: "local/wordllama" }));
print(ok, err.includes("was created with embedding"));
[ok, err] = await failure(() => col.ingest({ text: "a", url: "http://example.invalid/" }));
print(ok, err.includes("exactly one of path, url or text"));
[ok, err] = await failure(() => col.search({ query: "x", mode: "fuzzy" }));
print(ok, err.includes("mode is one of"));
const agent = await Agent.create({
  name: "parity.rag", model: { provider: "openai", model: "gpt-test", base_url: ARGS[0] },
  tools: ["calculator"], knowledge: { collection: "parity.docs", k: 1 },
});
const reply = await agent.execute("What is 6 * 7?");
print(reply.text, reply.passages.length, reply.passages[0].citation);
