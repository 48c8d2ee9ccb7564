-- Workflows: sequential, conditional, loop, a workflow as a step, and the listing.
-- Durations vary from run to run, so only names, statuses and attempts are printed.
local function steps(r)
  local out = {}
  for _, s in ipairs(r.data.steps) do table.insert(out, s.name .. "=" .. s.status) end
  return table.concat(out, ",")
end

-- Sequential: the shout-and-hash example.
local wf = Workflow.sequential{
  name = "shout-and-hash",
  description = "Upper-cases a text, then hashes it",
  input_schema = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  steps = {
    {name = "up", tool = "text-manipulator", args = function(ctx) return {operation = "uppercase", text = ctx.input.text} end},
    {name = "hash", tool = "hash-calculator", args = function(ctx) return {operation = "hash", algorithm = "sha256", input = ctx.steps.up.text} end},
  },
  output = function(ctx) return ctx.steps.hash.text end,
}
print(wf.name, wf.kind, wf.pattern)
local r = wf:execute{text = "hello"}
print(r.text, r.is_error, steps(r))
for _, s in ipairs(r.data.steps) do print(s.name, s.status, s.attempts, s.error) end
local ok, err = pcall(wf.execute, wf, {})
print(ok, (string.gsub(err, "[^%s']+%.lua:%d+: ", "")))

-- Conditional: the first branch whose `when` holds, else `otherwise`.
local route = Workflow.conditional{
  name = "route",
  branches = {
    {name = "number", when = function(ctx) return ctx.input.text == "42" end,
     steps = {{name = "calc", tool = "calculator", args = {expression = "6 * 7"}}}},
    {name = "short", when = function(ctx) return #ctx.input.text <= 3 end,
     steps = {{name = "up", tool = "text-manipulator", args = function(ctx) return {operation = "uppercase", text = ctx.input.text} end}}},
    {name = "long", otherwise = true,
     steps = {{name = "rev", tool = "text-manipulator", args = function(ctx) return {operation = "reverse", text = ctx.input.text} end}}},
  },
}
for _, text in ipairs({"abc", "42", "workflow"}) do
  local c = route:execute{text = text}
  print(text, c.data.branch, c.text, c.is_error, steps(c))
end
local strict = Workflow.conditional{
  name = "strict-route",
  branches = {{name = "yes", when = function(ctx) return ctx.input.ok end, steps = {{name = "s", run = function() return "matched" end}}}},
}
print(strict:execute{ok = true}.text)
local none = strict:execute{ok = false}
print(none.is_error, none.text, none.data.branch)

-- Loop over a list (a table or a function of ctx); `output` reads the per-iteration results.
local squares = Workflow.loop{
  name = "squares",
  over = {1, 2, 3, 4},
  steps = {{name = "sq", run = function(ctx) return {n = ctx.item, square = ctx.item * ctx.item, index = ctx.index} end}},
  output = function(ctx)
    local sum = 0
    for _, res in ipairs(ctx.results) do sum = sum + res.data.square end
    return {sum = sum}
  end,
}
local l = squares:execute{}
print(l.data.iterations, l.data.stopped, l.data.output.sum, steps(l), l.data.steps[1].runs)
for _, it in ipairs(l.data.results) do print(it.data.n, it.data.square, it.data.index) end
local words = Workflow.loop{
  name = "shout-each",
  over = function(ctx) return ctx.input.words end,
  steps = {{name = "up", tool = "text-manipulator", args = function(ctx) return {operation = "uppercase", text = ctx.item} end}},
}
local w = words:execute{words = {"a", "bb", "ccc"}}
local texts = {}
for _, it in ipairs(w.data.results) do table.insert(texts, it.text) end
print(w.data.iterations, w.data.stopped, table.concat(texts, " "), w.text)
print(words:execute{words = {}}.data.iterations)

-- Loop while a condition holds, on state the steps set with ctx:set.
local count = Workflow.loop{
  name = "count-to-five",
  while_ = function(ctx) return (ctx.state.n or 0) < 5 end,
  steps = {{name = "inc", run = function(ctx)
    local n = (ctx.state.n or 0) + 1
    ctx:set("n", n)
    ctx:set("log", (ctx.state.log or "") .. n)
    return n
  end}},
  output = function(ctx) return "n=" .. ctx.state.n .. " log=" .. ctx.state.log end,
}
local c5 = count:execute{}
print(c5.text, c5.data.iterations, c5.data.stopped)

-- A loop that would not end stops at max_iterations.
local forever = Workflow.loop{
  name = "forever",
  while_ = function(ctx) return true end,
  max_iterations = 3,
  steps = {{name = "tick", run = function(ctx) return "tick " .. ctx.index end}},
}
local f = forever:execute{}
print(f.data.iterations, f.data.stopped, f.text)

-- A step ends its loop with ctx:break_loop(); the steps after it in that turn do not run.
local seek = Workflow.loop{
  name = "seek",
  over = {"x", "y", "needle", "z", "w"},
  steps = {
    {name = "look", run = function(ctx)
      if ctx.item == "needle" then ctx:break_loop() end
      return "saw " .. ctx.item
    end},
    {name = "after", run = function(ctx) return "after " .. ctx.item end},
  },
}
local s = seek:execute{}
print(s.data.iterations, s.data.stopped, s.text)
for _, st in ipairs(s.data.steps) do print(st.name, st.status, st.runs) end

-- A workflow as a step of another: the value itself (it gets the same input), or
-- `workflow = ...` with arguments.
local greet = Workflow.sequential{
  name = "greet",
  steps = {{name = "hi", run = function(ctx) return "hi " .. (ctx.input.who or "nobody") end}},
}
local outer = Workflow.sequential{
  name = "outer",
  steps = {
    greet,
    {name = "hashed", workflow = wf, args = function(ctx) return {text = ctx.steps.greet.text} end},
    {name = "by-name", workflow = "greet", args = {who = "world"}},
  },
  output = function(ctx)
    return ctx.steps.greet.text .. " | " .. ctx.steps["by-name"].text .. " | " .. ctx.steps.hashed.text
  end,
}
local o = outer:execute{who = "outer"}
print(o.text, o.is_error, steps(o))
print(Tool.execute("hash-calculator", {operation = "hash", algorithm = "sha256", input = "HI OUTER"}).text)
local via_tool = Tool.execute("greet", {who = "tool"})
print(via_tool.text)

local names = {}
for _, item in ipairs(Workflow.list()) do table.insert(names, item.name .. ":" .. item.kind) end
table.sort(names)
print(table.concat(names, ","))
