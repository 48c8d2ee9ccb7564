-- An agent with a tool, on the offline model: works with no key and no network.
-- Swap the model for "openai/gpt-4o-mini" (with OPENAI_API_KEY set) and nothing else changes.
-- Run: llmspell run examples/agent.lua

local agent = Agent.builder()
  :name("math-helper")
  :model("offline/demo")
  :system_prompt("You answer arithmetic questions using the calculator tool.")
  :tools({"calculator"})
  :build()

local reply = agent:execute{text = "What is 12 * (3 + 4)?"}
print(reply.text)
for _, call in ipairs(reply.tool_calls) do
  print("  used " .. call.name .. "(" .. JSON.encode(call.arguments) .. ") -> " .. call.result)
end
print("tokens: " .. reply.usage.total_tokens)

-- Streaming: chunks arrive as the model produces them.
local echo = Agent.create{name = "echo", model = "offline/echo"}
echo:stream({text = "streaming works"}, function(chunk) print("chunk: " .. chunk) end)

-- Every agent is a catalog component, callable like any tool.
print(Tool.execute("math-helper", {text = "and 2 ^ 10?"}).text)
