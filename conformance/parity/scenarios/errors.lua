-- Failing calls raise catchable errors naming the tool and the error code.
Tool.define{
  name = "parity.strict",
  input_schema = {type = "object", properties = {n = {type = "integer"}}, required = {"n"}},
  handler = function(args) return args.n end,
}
Tool.define{name = "parity.fails", handler = function(args) error("deliberate failure", 0) end}

local function try(name, args)
  local ok, err = pcall(Tool.execute, name, args)
  print(ok, err)
end
try("parity.strikt", {})
try("parity.strict", {})
try("parity.strict", {n = "seven"})
try("parity.fails", {})
try("no-such-tool-anywhere", {})
local ok, err = pcall(Tool.execute, 42)
print(ok, err)
