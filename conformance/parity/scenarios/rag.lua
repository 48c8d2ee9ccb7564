-- RAG: a memory collection with the offline hash embedder (deterministic, no model): ingest
-- inline texts, count, search by keywords and vectors with citations, filter, delete, list,
-- and an agent whose knowledge puts the best passage in front of the model.
local col = RAG.collection("parity.docs", {backend = "memory", embedding = "offline/hash"})
print(col.name)
local r = col:ingest{text = "The breaker_failures key counts failed calls before the circuit breaker opens.", metadata = {id = "breaker", topic = "ops"}}
print(r.sources, r.chunks, #r.skipped)
col:ingest{text = "Hooks run before and after every tool call; before_tool may change the arguments.", metadata = {id = "hooks", topic = "dev"}}
col:ingest{text = "Multiplication: 6 times 7 is 42.", metadata = {id = "maths", topic = "dev"}}
print(col:count())
local hits = col:search{query = "breaker_failures", k = 2, mode = "bm25"}
print(#hits, hits[1].citation, hits[1].source, hits[1].metadata.topic, hits[1].score > 0)
print(hits[1].text)
local same = col:search{query = "Hooks run before and after every tool call; before_tool may change the arguments.", k = 1, mode = "vector"}
print(same[1].citation)
local dev = col:search{query = "breaker_failures hooks", k = 5, filter = {topic = "dev"}}
for _, h in ipairs(dev) do print("dev", h.citation) end
print(#col:search{query = "nothing-like-this-anywhere", mode = "bm25"})
print(table.concat(RAG.list(), ","))
print(col:delete{filter = {topic = "ops"}}, col:count())
print(col:delete{ids = {same[1].id}}, col:count())
local ok, err = pcall(RAG.collection, "parity.docs", {embedding = "local/wordllama"})
print(ok, err:match("was created with embedding") ~= nil)
ok, err = pcall(col.ingest, col, {text = "a", url = "http://example.invalid/"})
print(ok, err:match("exactly one of path, url or text") ~= nil)
ok, err = pcall(col.search, col, {query = "x", mode = "fuzzy"})
print(ok, err:match("mode is one of") ~= nil)
local agent = Agent.create{
  name = "parity.rag", model = {provider = "openai", model = "gpt-test", base_url = ARGS[1]},
  tools = {"calculator"}, knowledge = {collection = "parity.docs", k = 1},
}
local reply = agent:execute("What is 6 * 7?")
print(reply.text, #reply.passages, reply.passages[1].citation)
