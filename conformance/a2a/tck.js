// The JavaScript twin of tck.lua: the same agent, scenario for scenario, so the TCK profile
// also proves the JS engines. Run it with llmspell-js.toml.
const streamingTimeout = Number(ARGS[0]) || 2.0;

const file = { name: "output.txt", media_type: "text/plain" };

// Each scenario: the prefix and what the agent does. Order matters where one prefix starts
// another (tck-artifact-file-url before tck-artifact-file).
const scenarios = [
  ["tck-complete-task", async (task) => task.complete("Hello from TCK")],
  ["tck-artifact-text", async (task) => {
    await task.artifact({ name: "text", parts: "Generated text content" });
    await task.complete();
  }],
  ["tck-artifact-file-url", async (task) => {
    await task.artifact({ name: "file", parts: [{ url: "https://example.com/output.txt", ...file }] });
    await task.complete();
  }],
  ["tck-artifact-file", async (task) => {
    await task.artifact({ name: "file", parts: [{ bytes: "tck", ...file }] });
    await task.complete();
  }],
  ["tck-artifact-data", async (task) => {
    await task.artifact({ name: "data", parts: [{ data: { key: "value", count: 42 } }] });
    await task.complete();
  }],
  ["tck-message-response", async (task) => task.reply("Direct message response")],
  ["tck-input-required", async (task) => task.require_input("Please provide more input")],
  ["tck-reject-task", async (task) => task.reject("rejected")],
  ["tck-stream-001", async (task) => {
    await task.working();
    await task.artifact({ name: "stream", parts: "Stream hello from TCK" });
    await task.complete();
  }],
  ["tck-stream-002", async (task) => task.complete()],
  ["tck-stream-003", async (task) => {
    await task.working();
    await task.artifact({ name: "stream", parts: "Stream task lifecycle" });
    await task.complete();
  }],
  ["tck-stream-ordering-001", async (task) => {
    await task.working();
    await task.artifact({ name: "ordered", parts: "Ordered output" });
    await task.complete();
  }],
  ["tck-stream-artifact-text", async (task) => {
    await task.working();
    await task.artifact({ name: "text", parts: "Streamed text content" });
    await task.complete();
  }],
  ["tck-stream-artifact-file", async (task) => {
    await task.working();
    await task.artifact({ name: "file", parts: [{ bytes: "tck", ...file }] });
    await task.complete();
  }],
  ["tck-stream-artifact-chunked", async (task) => {
    await task.working();
    await task.artifact({ name: "chunked", parts: "chunk-1 " });
    await task.artifact({ name: "chunked", parts: "chunk-2", append: true, last_chunk: true });
    await task.complete();
  }],
  ["test-resubscribe-message-id", async (task) => {
    await task.working();
    let waited = 0;
    while (waited < 2 * streamingTimeout && !(await task.cancelled())) {
      await sleep(0.1);
      waited += 0.1;
    }
    await task.complete();
  }],
];

await Agent.define({
  name: "tck",
  description: "Follows the A2A TCK scenarios, keyed on the message id prefix.",
  skills: [{ id: "tck", name: "TCK scenarios", description: "Every scenario of the A2A TCK",
             tags: ["tck", "conformance"] }],
  input_modes: ["text/plain", "application/json"],
  output_modes: ["text/plain", "application/json"],
  handler: async (message, task) => {
    for (const [prefix, run] of scenarios) {
      if (message.id.startsWith(prefix)) return run(task, message);
    }
    return "Unhandled messageId prefix: " + message.id;
  },
});
