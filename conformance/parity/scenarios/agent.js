// An agent with the calculator, against a local OpenAI-format model (its URL is ARGS[0]):
// the model asks for the tool, the runtime runs it through the pipeline, the model answers.
const agent = await Agent.builder()
  .name("parity.agent")
  .model({ provider: "openai", model: "gpt-test", base_url: ARGS[0] })
  .system_prompt("Use the calculator.")
  .tools(["calculator"])
  .build();
print(agent.name, agent.model);
const reply = await agent.execute({ text: "What is 6 * 7?" });
print(reply.text);
print(reply.tool_calls.length, reply.tool_calls[0].name, reply.tool_calls[0].arguments.expression, reply.tool_calls[0].result);
print(reply.usage.total_tokens, reply.steps);
const again = await Tool.execute("parity.agent", { text: "And 2 + 3 * 4?" });
print(again.text, again.data.tool_calls[0].result);
