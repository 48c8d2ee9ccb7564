-- The llmspell MCP client under the official conformance suite's client scenarios:
--   conformance client --command "llmspell run conformance/mcp/client.lua --" --scenario NAME
-- The suite appends its server URL, which arrives as ARGS[1]. The script does what any client
-- of an unknown server would: connect, list the tools, and call each one with arguments built
-- from its input schema (schema defaults first), answering elicitation with the defaults.
--
-- The auth scenarios' servers answer 401: the client logs in with OAuth (auth = "oauth"),
-- following the authorization headless (the suite's authorization server approves at once).
-- Credentials the suite hands out (pre-registered clients, client credentials) arrive in the
-- environment as MCP_CONFORMANCE_CONTEXT, a JSON object; `oauth_env` takes the settings from
-- it without the script seeing them. Without that variable the client registers itself, or
-- uses its client ID metadata document where the server supports those.

local url = ARGS[1]
assert(url, "usage: llmspell run conformance/mcp/client.lua -- SERVER_URL")

local function defaults(schema)
  local out = {}
  for key, prop in pairs((schema or {}).properties or {}) do
    if prop.default ~= nil then out[key] = prop.default end
  end
  return out
end

local samples = { number = 1, integer = 1, string = "x", boolean = true }

local function arguments(schema)
  local args = defaults(schema)
  for _, key in ipairs((schema or {}).required or {}) do
    if args[key] == nil then
      local prop = schema.properties[key] or {}
      args[key] = samples[prop.type] or "x"
    end
  end
  return args
end

local server = MCP.connect{
  name = "sut",
  url = url,
  auth = "oauth",
  oauth = {
    client_metadata_url = "https://conformance-test.local/client-metadata.json",
  },
  oauth_env = "MCP_CONFORMANCE_CONTEXT",
  on_elicit = function(request)
    return { action = "accept", content = defaults(request.schema) }
  end,
}
print(("connected to %s: %d tools"):format(url, #server.tool_names))

for _, tool in ipairs(MCP.tools("sut")) do
  local result = Tool.execute(tool.name, arguments(tool.input_schema))
  print(tool.name, result.is_error and "error" or "ok", result.text)
end
MCP.disconnect("sut")
