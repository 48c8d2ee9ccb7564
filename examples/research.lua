-- Research: search the web, read the pages found, summarise them with an agent, chart them.
-- Offline: see examples/research.toml. Run:
--   llmspell run examples/research.lua --config examples/research.toml
-- ARGS: the question (default "sandboxed tools") and the model (default offline/echo; try
-- "openai/gpt-4o-mini" with OPENAI_API_KEY set).

local question = ARGS[1] or "sandboxed tools"
local model = ARGS[2] or "offline/echo"

local found = Tool.execute("web-search", {query = question, max_results = 5})
print(("%d page(s) found for %q"):format(#found.data.results, question))

local rows, notes = {}, {}
for _, hit in ipairs(found.data.results) do
  local page = Tool.execute("web-scraper", {url = hit.url, links = false})
  local text = page.data.markdown
  local _, words = text:gsub("%S+", "")
  table.insert(rows, {page = hit.title, words = words})
  table.insert(notes, "## " .. hit.title .. "\n" .. text)
  print(("- %s (%d words): %s"):format(hit.title, words, hit.url))
end

local writer = Agent.create{
  name = "summariser",
  model = model,
  system_prompt = "Summarise the notes in three sentences.",
}
local summary = writer:execute{text = "Notes on " .. question .. ":\n\n" .. table.concat(notes, "\n\n")}
print("summary: " .. summary.text:sub(1, 120):gsub("\n", " ") .. "...")

local chart = Tool.execute("data-visualizer", {
  type = "bar", data = rows, x = "page", y = "words",
  title = "Words per page: " .. question, output = "research.png",
})
print("chart: " .. chart.text)
