// The smallest llmspell script: `llmspell run examples/hello.js -- World`
const who = ARGS[0] ?? "llmspell";
print(`Hello, ${who}!`);
