-- Lua-defined tools for the MCP server tests.

Tool.define {
  name = "lua_add",
  description = "Adds two numbers (Lua)",
  input_schema = {
    type = "object",
    properties = { a = { type = "number" }, b = { type = "number" } },
    required = { "a", "b" },
  },
  handler = function(args) return { sum = args.a + args.b } end,
}

Tool.define {
  name = "lua_steps",
  description = "Reports progress 1..n",
  input_schema = { type = "object", properties = { n = { type = "integer", minimum = 1 } } },
  handler = function(args, ctx)
    local n = args.n or 5
    for i = 1, n do
      ctx:progress(i, n, "step " .. i)
      sleep(0.01)
    end
    return "did " .. n .. " steps"
  end,
}

Tool.define {
  name = "lua_forever",
  description = "Counts in State until cancelled",
  input_schema = { type = "object", properties = { key = { type = "string" } }, required = { "key" } },
  handler = function(args, ctx)
    local n = 0
    while true do
      n = n + 1
      State.scope("global"):set(args.key, n)  -- shared with tools.js
      if n == 1 then ctx:progress(1) end
      sleep(0.02)
    end
  end,
}

Tool.define {
  name = "state_get",
  description = "Reads a State key",
  input_schema = { type = "object", properties = { key = { type = "string" } }, required = { "key" } },
  handler = function(args) return { value = State.scope("global"):get(args.key) } end,
}

Tool.define {
  name = "lua_fail",
  description = "Always raises an error",
  input_schema = { type = "object" },
  handler = function()
    local broken = nil
    return broken.field -- indexing nil: fails on this line
  end,
}

Tool.define {
  name = "lua_log",
  description = "Logs at three levels, then answers",
  input_schema = { type = "object" },
  handler = function(args, ctx)
    Log.debug("quiet detail")
    Log.info("first")
    ctx:log("warning", "second")
    return "logged"
  end,
}

Tool.define {
  name = "lua_ask",
  description = "Asks the client's model, then its user",
  input_schema = { type = "object", properties = { question = { type = "string" } }, required = { "question" } },
  handler = function(args, ctx)
    local reply = ctx:sample { prompt = args.question, max_tokens = 50 }
    local form = ctx:elicit {
      message = "Who are you?",
      schema = { type = "object", properties = { name = { type = "string" } }, required = { "name" } },
    }
    return { model = reply.model, answer = reply.text, action = form.action, name = form.content.name }
  end,
}
