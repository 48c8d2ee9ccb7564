"""`llmspell repl`: an interactive session over one runtime, in Lua or JavaScript.

`session` runs entries against the runtime (one engine at a time, State kept across engines);
`lua_source` and `js_source` turn an entry into code whose declarations outlive it;
`completion`, `commands` and `history` serve the prompt; `media` describes images and audio;
`console` reads input (a terminal through prompt_toolkit, or piped lines) and owns Ctrl-C.
"""
