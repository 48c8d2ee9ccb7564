// The JavaScript twin of agent.lua: an agent with a tool on the offline model.
// Run: llmspell run examples/agent.js

const agent = await Agent.builder()
  .name("math-helper")
  .model("offline/demo")
  .system_prompt("You answer arithmetic questions using the calculator tool.")
  .tools(["calculator"])
  .build();

const reply = await agent.execute({ text: "What is 12 * (3 + 4)?" });
print(reply.text);
for (const call of reply.tool_calls) {
  print("  used " + call.name + "(" + JSON.encode(call.arguments) + ") -> " + call.result);
}
print("tokens: " + reply.usage.total_tokens);

// Streaming: an async iterator of chunks.
const echo = await Agent.create({ name: "echo", model: "offline/echo" });
for await (const chunk of echo.stream({ text: "streaming works" })) print("chunk: " + chunk);

// Every agent is a catalog component, callable like any tool.
print((await Tool.execute("math-helper", { text: "and 2 ^ 10?" })).text);
