-- The smallest llmspell script: `llmspell run examples/hello.lua -- World`
local who = ARGS[1] or "llmspell"
print("Hello, " .. who .. "!")
