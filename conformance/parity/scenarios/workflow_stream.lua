-- Streams: a source emits into a bounded buffer; a full buffer suspends the source, so the
-- source never runs more than buffer + in-flight items ahead of the step that consumes them.
-- The source and the step are closures of this script sharing the counters below.
local N, BUFFER = 10000, 4
local emitted, done, max_ahead = 0, 0, 0
local order_ok = true
local stream = Workflow.stream{
  name = "ten-thousand",
  buffer = BUFFER,
  source = function(emit, ctx)
    for i = 1, ctx.input.n do
      emit(i)
      emitted = i
      if i - done > max_ahead then max_ahead = i - done end
    end
  end,
  steps = {{name = "work", run = function(ctx)
    sleep(0) -- a slow step: each item waits a turn of the host's event loop, so the source gets ahead
    if ctx.item ~= done + 1 or ctx.index ~= ctx.item then order_ok = false end
    done = done + 1
    return ctx.item * 2
  end}},
}
local r = stream:execute{n = N}
print(r.is_error, r.data.items, emitted, done, order_ok)
print("max_ahead <= buffer + 1", max_ahead <= BUFFER + 1, "buffer filled", max_ahead >= BUFFER)
for _, s in ipairs(r.data.steps) do print(s.name, s.status, s.runs, s.failures, s.attempts) end
