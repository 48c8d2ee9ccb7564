-- A sample of the built-in tool library, one or more per category, and two sandbox refusals.
local PNG = "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAAFElEQVR4nGNkYPjPAANMDEgAhQMAJHgBBSuUekUAAAAASUVORK5CYII="

-- files
Tool.execute("file-operations", {operation = "write", path = "people.csv",
  content = "name,age\nada,36\nalan,41\ngrace,85\n"})
local found = Tool.execute("file-search", {pattern = "*.csv"})
print("file-search", #found.data.results, found.data.results[1].path)
Tool.execute("archive-handler", {operation = "create", path = "people.zip", files = {"people.csv"}})
local listed = Tool.execute("archive-handler", {operation = "list", path = "people.zip"})
print("archive-handler", #listed.data.entries, listed.data.entries[1].name)

-- data
local stats = Tool.execute("csv-analyzer", {operation = "stats", path = "people.csv"})
local age = stats.data.columns[2]
print("csv-analyzer", stats.data.rows, age.name, age.type, age.min, age.max, age.mean, age.median)
local page = Tool.execute("template-engine", {template = "{% for p in people %}{{ p }};{% endfor %}",
  variables = {people = {"ada", "alan"}}})
print("template-engine", page.text)
local checked = Tool.execute("data-validation", {data = {age = -1},
  rules = {{field = "age", min = 0}, {field = "name", required = true}}})
print("data-validation", checked.data.valid, checked.data.count)
for _, v in ipairs(checked.data.violations) do print("data-validation", v.path, v.message) end

-- utilities
local diff = Tool.execute("diff-calculator", {operation = "json", old = {a = 1, b = {2, 3}}, new = {a = 1, b = {2, 4}}})
for _, change in ipairs(diff.data.changes) do print("diff-calculator", change.op, change.path, change.old, change.new) end
local replaced = Tool.execute("regex-tool", {operation = "replace", pattern = "(\\w+)@(\\w+)", text = "ada@home alan@work", replacement = "\\2:\\1"})
print("regex-tool", replaced.data.result)
local chunks = Tool.execute("text-splitter", {operation = "paragraphs", text = "One.\n\nTwo.\n\nThree.", chunk_size = 8})
print("text-splitter", chunks.data.count, chunks.data.chunks[3].start, chunks.data.chunks[3].text)

-- system: closed by default
local ok, err = pcall(Tool.execute, "process-executor", {command = "ls"})
print("process-executor", ok, err)
ok, err = pcall(Tool.execute, "environment-reader", {operation = "get", name = "LLMSPELL_NOT_ALLOWED"})
print("environment-reader", ok, err)

-- media
local info = Tool.execute("image-processor", {operation = "info", data = PNG})
print("image-processor", info.data.format, info.data.width, info.data.height)
local jpeg = Tool.execute("image-processor", {operation = "convert", data = PNG, format = "jpeg"})
for _, part in ipairs(jpeg.parts) do print("image-processor", part.type, part.mime_type) end
