-- A remote MCP server (server-filesystem over stdio) joins the catalog at run time.
local node, server, dir = ARGS[2], ARGS[3], ARGS[4]
local fs = MCP.connect{name = "fs", command = node, args = {server, dir}}
print(fs.name, fs.state, fs.transport)

local mine = {}
for _, t in ipairs(MCP.tools("fs")) do
  if t.name == "fs.list_directory" or t.name == "fs.read_text_file" then
    table.insert(mine, t.name .. ":" .. t.tool)
  end
end
table.sort(mine)
print(table.concat(mine, ","))

local listing = Tool.execute("fs.list_directory", {path = dir})
local entries = {}
for line in string.gmatch(listing.text, "[^\n]+") do table.insert(entries, line) end
table.sort(entries)
print(table.concat(entries, " | "))

local file = Tool.execute("fs.read_text_file", {path = dir .. "/hello.txt"})
local text = string.gsub(file.text, "\n$", "")
print(text, file.is_error)

local ok, err = pcall(Tool.execute, "fs.read_text_file", {})
print(ok, string.find(tostring(err), "'path'", 1, true) ~= nil)

for _, s in ipairs(MCP.servers()) do print(s.name, s.state, s.sessions) end
MCP.disconnect("fs")
print(#MCP.servers())
