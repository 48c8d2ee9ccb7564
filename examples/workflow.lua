-- Workflows in a script, all five patterns, offline: `llmspell run examples/workflow.lua`
-- Loaded by `llmspell gateway` (config `scripts = ["examples/workflow.lua"]`), each named
-- workflow is also served as an MCP tool and an A2A agent.

-- sequential: each step's result is stored under its name for the next ones
local shout = Workflow.sequential{
  name = "shout-and-hash",
  description = "Upper-cases a text and fingerprints it.",
  input_schema = {type = "object", properties = {text = {type = "string"}}, required = {"text"}},
  steps = {
    {name = "up", tool = "text-manipulator",
     args = function(ctx) return {operation = "uppercase", text = ctx.input.text} end},
    {name = "hash", tool = "hash-calculator",
     args = function(ctx) return {operation = "hash", algorithm = "sha256", input = ctx.steps.up.text} end},
  },
  output = function(ctx) return ctx.steps.up.text .. " " .. ctx.steps.hash.text:sub(1, 12) end,
}
print("sequential:", shout:execute{text = "hello"}.text)

-- conditional: the first branch whose `when` holds, else `otherwise`
local triage = Workflow.conditional{
  name = "triage",
  branches = {
    {name = "math", when = function(ctx) return ctx.input.text:match("^[%d%s%+%-%*/%.()]+$") ~= nil end,
     steps = {{name = "calc", tool = "calculator", args = function(ctx) return {expression = ctx.input.text} end}}},
    {otherwise = true, steps = {{name = "ask", agent = "helper", args = function(ctx) return ctx.input.text end}}},
  },
}
Agent.create{name = "helper", model = "offline/demo", tools = {"calculator"}}
print("conditional:", triage:execute{text = "6 * 7"}.text)
print("conditional:", triage:execute{text = "hello there"}.text)

-- loop: over a list (or while a predicate holds), never more than max_iterations
local count = Workflow.loop{
  name = "count-words",
  over = function(ctx) return ctx.input.lines end,
  max_iterations = 10,
  steps = {{name = "words", tool = "text-manipulator",
            args = function(ctx) return {operation = "count", text = ctx.item} end}},
  output = function(ctx)
    local parts = {}
    for i, r in ipairs(ctx.results) do parts[i] = r.data.words end
    return table.concat(parts, ",")
  end,
}
print("loop:", count:execute{lines = {"one two", "three", "four five six"}}.text)

-- parallel: branches at once; join = "all" waits for each, "any" takes the first answer
local fan = Workflow.parallel{
  name = "fan-out",
  max_concurrency = 3,
  branches = {
    {name = "upper", steps = {{name = "u", tool = "text-manipulator", args = {operation = "uppercase", text = "abc"}}}},
    {name = "reverse", steps = {{name = "r", tool = "text-manipulator", args = {operation = "reverse", text = "abc"}}}},
    {name = "nap", steps = {{name = "n", run = function() sleep(0.1) return "rested" end}}},
  },
}
print("parallel:", (fan:execute{}.text:gsub("\n", " | ")))

-- stream: the source emits into a bounded buffer; it waits while the steps catch up
local total = 0
local squares = Workflow.stream{
  name = "squares",
  buffer = 4,
  source = function(emit, ctx)
    for i = 1, ctx.input.n do emit(i) end
  end,
  steps = {{name = "square", run = function(ctx) total = total + ctx.item * ctx.item return ctx.item end}},
}
local r = squares:execute{n = 100}
print("stream:", r.data.items .. " items, sum of squares " .. total)

for _, w in ipairs(Workflow.list()) do print("workflow", w.name) end
