-- Built-in and script-defined tools, listing, results.
local r = Tool.execute("calculator", {expression = "6 * 7"})
print(r.text, r.data.result, r.is_error)

Tool.define{
  name = "parity.add",
  description = "Adds two integers",
  input_schema = {type = "object", properties = {a = {type = "integer"}, b = {type = "integer"}}, required = {"a", "b"}},
  handler = function(args) return {sum = args.a + args.b, kind = "sum"} end,
}
Tool.define{name = "parity.text", handler = function(args) return "plain text" end}
Tool.define{
  name = "parity.parts",
  handler = function(args)
    return {parts = {{type = "text", text = "first"}, {type = "data", data = {n = 1}}}}
  end,
}

local sum = Tool.execute("parity.add", {a = 2, b = 40})
print(sum.data.sum, sum.data.kind, sum.text == "")
print(Tool.execute("parity.text", {}).text)
local parts = Tool.execute("parity.parts", {})
print(#parts.parts, parts.parts[1].type, parts.parts[2].type, parts.text, parts.data.n)

local mine = {}
for _, t in ipairs(Tool.list()) do
  if string.sub(t.name, 1, 7) == "parity." then table.insert(mine, t.name .. ":" .. t.kind) end
end
table.sort(mine)
print(table.concat(mine, ","))
