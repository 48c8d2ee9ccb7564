-- A tour of the script API: tools, state, events and a hook.
-- Run: llmspell run examples/tour.lua

-- Tools: call a built-in one, then define our own and call it like any other.
local sum = Tool.execute("calculator", {expression = "2 ** 10 + sqrt(16)"})
print("calculator says " .. sum.text)

Tool.define{
  name = "greet",
  description = "Greets someone by name",
  input_schema = {type = "object", properties = {name = {type = "string"}}, required = {"name"}},
  handler = function(args) return "Hello, " .. args.name .. "!" end,
}
print(Tool.execute("greet", {name = "Ada"}).text)

-- Errors are ordinary Lua errors: catch them with pcall.
local ok, err = pcall(Tool.execute, "greet", {})
print("without a name: " .. tostring(err))

-- State: a key-value store shared by every script in the process.
State.set("visits", (State.get("visits") or 0) + 1)
print("visits: " .. State.get("visits"))

-- Events: subscribe with a glob, publish, and see every tool call the runtime reports.
local calls = 0
Event.subscribe("call.finished", function(topic, data) calls = calls + 1 end)
Event.subscribe("tour.*", function(topic, data) print("event " .. topic .. ": " .. data.message) end)
Event.publish("tour.hello", {message = "events work"})

-- Hooks: rewrite the arguments of every call to `greet` before it runs.
Hook.register("before_tool", function(ctx)
  return {action = "modify", arguments = {name = string.upper(ctx.arguments.name)}}
end, {match = "greet", priority = "high"})
print(Tool.execute("greet", {name = "grace"}).text)
print("tool calls seen by the subscriber: " .. calls)
