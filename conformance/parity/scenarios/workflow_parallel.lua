-- Parallel workflows: branches at once, join = "any", fail_fast cancelling the siblings.
-- Lua's os.clock is CPU time and JS's Date is not in Lua, so both read the host's wall clock
-- through the built-in date-time-handler tool (microsecond timestamps).
local function now() return Tool.execute("date-time-handler", {operation = "now"}).data.timestamp end
local function strip(text) return (string.gsub(text, "[^%s']+%.lua:%d+: ", "")) end
local function records(r)
  local out = {}
  for _, s in ipairs(r.data.steps) do table.insert(out, s.name .. "=" .. s.status) end
  table.sort(out)
  return table.concat(out, ",")
end
local function nap(label, seconds)
  return {name = label, steps = {{name = "nap", run = function(ctx) sleep(seconds) return label .. " woke" end}}}
end

-- Three 0.5 s naps finish together in about 0.5 s, not 1.5 s.
local three = Workflow.parallel{name = "three-naps", branches = {nap("a", 0.5), nap("b", 0.5), nap("c", 0.5)}}
local t0 = now()
local p = three:execute{}
local elapsed = now() - t0
print(p.text, p.is_error, records(p))
print("parallel: 0.5 <= elapsed < 1.2", elapsed >= 0.5, elapsed < 1.2)
print(p.data.branches.a.text, p.data.branches.b.text, p.data.branches.c.text)

-- max_concurrency = 1 runs them one after the other.
local one = Workflow.parallel{name = "one-at-a-time", max_concurrency = 1, branches = {nap("a", 0.2), nap("b", 0.2), nap("c", 0.2)}}
t0 = now()
local q = one:execute{}
elapsed = now() - t0
print(q.text, records(q))
print("max_concurrency 1: elapsed >= 0.6", elapsed >= 0.6)

-- join = "any": the first branch to succeed wins; the others are cancelled mid-sleep.
local race = Workflow.parallel{
  name = "race",
  join = "any",
  branches = {
    {name = "slow", steps = {{name = "nap", run = function() sleep(1) print("MUST NOT APPEAR: slow finished") return "slow" end}}},
    {name = "broken", steps = {{name = "boom", run = function() error("no luck", 0) end}}},
    {name = "fast", steps = {{name = "nap", run = function() sleep(0.1) return "fast" end}}},
  },
}
t0 = now()
local any = race:execute{}
elapsed = now() - t0
print(any.text, any.is_error, any.data.winner, records(any), elapsed < 0.8)

-- fail_fast: one failure cancels its siblings; the code after their sleep never runs.
local function siblings(fail_fast)
  return Workflow.parallel{
    name = fail_fast and "fail-fast" or "collect-all",
    fail_fast = fail_fast,
    branches = {
      {name = "left", steps = {{name = "nap", run = function() sleep(0.5) print("after sleep: left (" .. tostring(fail_fast) .. ")") return "left" end}}},
      {name = "bad", steps = {{name = "boom", run = function() sleep(0.1) error("bad branch", 0) end}}},
      {name = "worse", steps = {{name = "boom", run = function() sleep(0.2) error("worse branch", 0) end}}},
      {name = "right", steps = {{name = "nap", run = function() sleep(0.5) print("after sleep: right (" .. tostring(fail_fast) .. ")") return "right" end}}},
    },
  }
end
t0 = now()
local ff = siblings(true):execute{}
elapsed = now() - t0
print(ff.is_error, strip(ff.text))
print(records(ff), elapsed < 0.4)
for _, s in ipairs(ff.data.steps) do
  if s.status ~= "ok" then print(s.name, s.status, strip(s.error)) end
end
sleep(0.6) -- had the cancelled naps gone on, they would print by now
local all = siblings(false):execute{}
print(all.is_error, strip(all.text))
print(records(all))
