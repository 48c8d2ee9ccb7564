-- Failing calls raise catchable errors naming the tool and the error code.
Tool.define{
  name = "parity.strict",
  input_schema = {type = "object", properties = {n = {type = "integer"}}, required = {"n"}},
  handler = function(args) return args.n end,
}
Tool.define{name = "parity.fails", handler = function(args) error("deliberate failure", 0) end}

-- Messages carry the script's FILE:LINE, which differs between the .lua and .js twin: strip it.
local function try(name, args)
  local ok, err = pcall(Tool.execute, name, args)
  print(ok, (string.gsub(err, "[^%s']+%.lua:%d+: ", "")))
end
try("parity.strikt", {})
try("parity.strict", {})
try("parity.strict", {n = "seven"})
try("parity.fails", {})
try("no-such-tool-anywhere", {})
local ok, err = pcall(Tool.execute, 42)
print(ok, err)
Tool.define{name = "parity.nested", handler = function(args)
  local r = Tool.execute("parity.missing", {})  -- not a tail call, so the error keeps its line
  return r
end}
try("parity.nested", {})
local bad_ok, bad_err = pcall(Tool.define, {name = "parity.badschema", input_schema = {type = "nonsense"}, handler = function() end})
print(bad_ok, (string.gsub(bad_err, "[^%s']+%.lua:%d+: ", "")))
