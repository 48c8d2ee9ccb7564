-- Hooks: ordering by priority, modify arguments and results, cancel with a reason, replace.
local order = {}
Tool.define{
  name = "parity.echo",
  input_schema = {type = "object", properties = {msg = {type = "string"}}},
  handler = function(args) return args.msg or "" end,
}
Hook.register("before_tool", function(ctx) table.insert(order, "low") end, {priority = "low"})
Hook.register("before_tool", function(ctx) table.insert(order, "first") end, {priority = "first"})
Hook.register("before_tool", function(ctx)
  table.insert(order, "normal")
  return {action = "modify", arguments = {msg = ctx.arguments.msg .. "!"}}
end, {match = "parity.echo"})
Hook.register("after_tool", function(ctx)
  return {action = "modify", result = ctx.result.text .. " (checked)"}
end, {match = "parity.echo"})
print(Tool.execute("parity.echo", {msg = "hi"}).text)
print(table.concat(order, ","))

local id = Hook.register("before_tool", function(ctx)
  if ctx.arguments.msg == "stop" then return {action = "cancel", reason = "stop words are refused"} end
end, {priority = "first"})
local ok, err = pcall(Tool.execute, "parity.echo", {msg = "stop"})
print(ok, err)
print(Hook.unregister(id))
print(Tool.execute("parity.echo", {msg = "stop"}).text)
local bad_ok, bad_err = pcall(Hook.register, "before_nothing", function() end)
print(bad_ok, bad_err)

-- replace: a before-hook answers instead of the tool, which never runs; after-hooks still see it
local runs = 0
Tool.define{name = "parity.counted", handler = function(args) runs = runs + 1 return "ran" end}
local rid = Hook.register("before_tool", function(ctx)
  if ctx.arguments.cached then return {action = "replace", result = "from the hook"} end
end, {match = "parity.counted"})
print(Tool.execute("parity.counted", {cached = true}).text, runs)
print(Tool.execute("parity.counted", {}).text, runs)
Hook.unregister(rid)
