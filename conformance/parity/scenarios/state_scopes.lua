-- State scopes, expiry and atomic updates: the script's own scope unless it asks for another.
local function strip(text)
  return (string.gsub(string.gsub(tostring(text), "[^%s']+%.lua:%d+: ", ""), "[^%s']+%.lua: ", ""))
end
State.set("who", "this script")
local g = State.scope("global")
local a, b = State.scope("agent:alpha"), State.scope("agent:beta")
print(g.name, a.name, b.name)
g:set("who", "everyone")
a:set("memory", {turns = 1})
b:set("memory", {turns = 2})
print(State.get("who"), g:get("who"), State.scope("global"):get("who"))
print(a:get("memory").turns, b:get("memory").turns, State.get("memory") == nil)
print(table.concat(a:keys(), ","), a:delete("memory"), a:delete("memory"), b:get("memory").turns)
g:set("user:1", "Ada")
g:set("user:2", "Grace")
print(table.concat(g:keys("user:"), ","), #State.keys("user:"))

-- update: fn gets the current value (nil at first) and returns the new one, which is returned.
for i = 1, 4 do
  State.update("sum", function(n) return (n or 0) + i end)
end
print(State.get("sum"), g:update("list", function(l) l = l or {} l[#l + 1] = "x" return l end)[1])

-- Twenty branches updating one key at once, each pausing inside its update: none is lost.
local branches = {}
for i = 1, 20 do
  branches[i] = {name = "b" .. i, steps = {{name = "bump", run = function()
    return State.update("hits", function(n) sleep(0.005) return (n or 0) + 1 end)
  end}}}
end
local crowd = Workflow.parallel{name = "crowd", branches = branches}
print(crowd:execute{}.is_error, State.get("hits"))

-- ttl: gone once the seconds pass, in any scope.
State.set("flash", "soon gone", {ttl = 0.2})
g:set("flash", "also", {ttl = 0.2})
b:update("flash", function() return "too" end, {ttl = 0.2})
State.set("kept", "stays", {ttl = 60})
print(State.get("flash"), g:get("flash"), b:get("flash"))
sleep(0.3)
print(State.get("flash") == nil, g:get("flash") == nil, b:get("flash") == nil, State.get("kept"))
print(table.concat(State.keys(), ","))

-- Misuse is a catchable error that says what is wrong.
local function try(f, ...)
  local ok, err = pcall(f, ...)
  print(ok, strip(err))
end
try(State.set, "k", "v", {ttl = -1})
try(State.set, "k", "v", {expire = 1})
try(State.update, "k", "not a function")
try(State.scope, "")
try(g.get, g, 42)
try(State.update, "k", function() return State.update("k", function() return 1 end) end)
local ok, err = pcall(State.set, "odd", {handler = function() end})
print(ok, string.find(err, "state key 'odd': a ", 1, true) ~= nil, string.find(err, " at handler cannot be stored", 1, true) ~= nil)
