-- Failing steps: retries, on_error = "continue", a fallback step, timeouts. Every step error
-- names the workflow and the step. Durations vary, so they are never printed.
local function strip(text) return text and (string.gsub(text, "[^%s']+%.lua:%d+: ", "")) end
local function show(r)
  print(r.is_error, strip(r.text))
  for _, s in ipairs(r.data.steps) do print("", s.name, s.status, s.attempts, strip(s.error)) end
end

-- A step that fails twice, then succeeds on its third attempt.
local calls = 0
local flaky = Workflow.sequential{
  name = "flaky",
  steps = {{name = "try", retry = {max = 3, backoff = 0.01}, run = function(ctx)
    calls = calls + 1
    if calls < 3 then error("not yet (" .. calls .. ")", 0) end
    return "worked on call " .. calls
  end}},
}
local r = flaky:execute{}
show(r)
print(calls, r.data.steps[1].attempts == 3)

-- Retries run out: the error is the last attempt's, and the run stops at that step.
local hopeless = Workflow.sequential{
  name = "hopeless",
  steps = {
    {name = "divide", tool = "calculator", args = {expression = "1 / 0"}, retry = {max = 1}},
    {name = "never", run = function() print("MUST NOT APPEAR: never ran") return "never" end},
  },
}
show(hopeless:execute{})

-- on_error = "continue": the failure is recorded, its result is an error later steps can read.
local tolerant = Workflow.sequential{
  name = "tolerant",
  steps = {
    {name = "bad", on_error = "continue", run = function() error("bad input", 0) end},
    {name = "next", run = function(ctx)
      return "next saw is_error=" .. tostring(ctx.steps.bad.is_error) .. ": " .. strip(ctx.steps.bad.text)
    end},
  },
}
show(tolerant:execute{})

-- A fallback step runs in place of a failed one; its result is stored under the failed name.
local fallback = Workflow.sequential{
  name = "with-fallback",
  steps = {
    {name = "primary", tool = "no-such-tool", args = {}, on_error = {name = "backup", run = function(ctx) return "backup for " .. ctx.input.who end}},
    {name = "use", run = function(ctx) return "used: " .. ctx.steps.primary.text end},
  },
}
show(fallback:execute{who = "me"})

-- A timeout ends a step mid-sleep: the code after the sleep never runs.
local slow = Workflow.sequential{
  name = "slow",
  steps = {{name = "nap", timeout = 0.2, run = function()
    sleep(1)
    print("MUST NOT APPEAR: the nap finished")
    return "rested"
  end}},
}
show(slow:execute{})
-- A timeout with on_error = "continue" and a retry: each attempt gets its own 0.2 s.
local patient = Workflow.sequential{
  name = "patient",
  steps = {
    {name = "nap", timeout = 0.2, retry = {max = 1}, on_error = "continue", run = function() sleep(1) print("MUST NOT APPEAR") end},
    {name = "after", run = function(ctx) return "after: " .. tostring(ctx.steps.nap.is_error) end},
  },
}
show(patient:execute{})
sleep(1) -- had the naps gone on, they would print by now

-- Failures of the workflow's own functions name the workflow too.
local broken_args = Workflow.sequential{
  name = "broken-args",
  steps = {{name = "up", tool = "text-manipulator", args = function(ctx) return {operation = "uppercase", text = ctx.input.missing.text} end}},
}
local b = broken_args:execute{}
print(b.is_error, (string.gsub(strip(b.text), ":.*", "")))
local broken_output = Workflow.sequential{
  name = "broken-output",
  steps = {{name = "s", run = function() return "fine" end}},
  output = function(ctx) error("cannot shape the output", 0) end,
}
show(broken_output:execute{})
local broken_source = Workflow.stream{
  name = "broken-source",
  source = function(emit, ctx) emit(1) emit(2) error("source ran dry", 0) end,
  steps = {{name = "s", run = function(ctx) return ctx.item end}},
}
show(broken_source:execute{})
