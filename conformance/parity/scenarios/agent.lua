-- An agent with the calculator, against a local OpenAI-format model (its URL is ARGS[1]):
-- the model asks for the tool, the runtime runs it through the pipeline, the model answers.
local agent = Agent.builder()
  :name("parity.agent")
  :model({provider = "openai", model = "gpt-test", base_url = ARGS[1]})
  :system_prompt("Use the calculator.")
  :tools({"calculator"})
  :build()
print(agent.name, agent.model)
local reply = agent:execute{text = "What is 6 * 7?"}
print(reply.text)
print(#reply.tool_calls, reply.tool_calls[1].name, reply.tool_calls[1].arguments.expression, reply.tool_calls[1].result)
print(reply.usage.total_tokens, reply.steps)
local again = Tool.execute("parity.agent", {text = "And 2 + 3 * 4?"})
print(again.text, again.data.tool_calls[1].result)
