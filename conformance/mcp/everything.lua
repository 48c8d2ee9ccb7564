-- Fixtures for the official MCP server conformance suite, as any user would write them.

local PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
local WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
local NO_ARGS = { type = "object", properties = {} }

local function image() return { type = "image", data = PNG, mime_type = "image/png" } end
local function answered(label, answer)
  return label .. ": action=" .. answer.action .. ", content=" .. JSON.encode(answer.content or {})
end

Tool.define {
  name = "test_simple_text",
  description = "Returns simple text content",
  input_schema = NO_ARGS,
  handler = function() return "This is a simple text response for testing." end,
}

Tool.define {
  name = "test_image_content",
  description = "Returns image content",
  input_schema = NO_ARGS,
  handler = function() return { parts = { image() } } end,
}

Tool.define {
  name = "test_audio_content",
  description = "Returns audio content",
  input_schema = NO_ARGS,
  handler = function()
    return { parts = { { type = "audio", data = WAV, mime_type = "audio/wav" } } }
  end,
}

Tool.define {
  name = "test_embedded_resource",
  description = "Returns an embedded resource",
  input_schema = NO_ARGS,
  handler = function()
    return { parts = { {
      type = "resource", uri = "test://embedded-resource", mime_type = "text/plain",
      text = "This is an embedded resource content.",
    } } }
  end,
}

Tool.define {
  name = "test_multiple_content_types",
  description = "Returns text, image and resource content together",
  input_schema = NO_ARGS,
  handler = function()
    return { parts = {
      { type = "text", text = "Multiple content types test:" },
      image(),
      { type = "resource", uri = "test://mixed-content-resource", mime_type = "application/json",
        text = JSON.encode { test = "data", value = 123 } },
    } }
  end,
}

Tool.define {
  name = "test_tool_with_logging",
  description = "Sends three log messages while it runs",
  input_schema = NO_ARGS,
  handler = function()
    Log.info("Tool execution started")
    sleep(0.05)
    Log.info("Tool processing data")
    sleep(0.05)
    Log.info("Tool execution completed")
    return "Tool with logging executed successfully"
  end,
}

Tool.define {
  name = "test_tool_with_progress",
  description = "Reports progress 0, 50 and 100 of 100",
  input_schema = NO_ARGS,
  handler = function(args, ctx)
    ctx:progress(0, 100, "Completed step 0 of 100")
    sleep(0.05)
    ctx:progress(50, 100, "Completed step 50 of 100")
    sleep(0.05)
    ctx:progress(100, 100, "Completed step 100 of 100")
    return "Progress reported"
  end,
}

Tool.define {
  name = "test_error_handling",
  description = "Always fails",
  input_schema = NO_ARGS,
  handler = function() error("This tool intentionally returns an error for testing") end,
}

Tool.define {
  name = "test_sampling",
  description = "Asks the client's LLM to answer a prompt",
  input_schema = {
    type = "object",
    properties = { prompt = { type = "string", description = "The prompt to send to the LLM" } },
    required = { "prompt" },
  },
  handler = function(args, ctx)
    local reply = ctx:sample { prompt = args.prompt, max_tokens = 100 }
    return "LLM response: " .. reply.text
  end,
}

Tool.define {
  name = "test_elicitation",
  description = "Asks the client's user for a username and email",
  input_schema = {
    type = "object",
    properties = { message = { type = "string", description = "The message to show the user" } },
    required = { "message" },
  },
  handler = function(args, ctx)
    local answer = ctx:elicit {
      message = args.message,
      schema = {
        type = "object",
        properties = {
          username = { type = "string", description = "User's response" },
          email = { type = "string", description = "User's email address" },
        },
        required = { "username", "email" },
      },
    }
    return answered("User response", answer)
  end,
}

Tool.define {
  name = "test_elicitation_sep1034_defaults",
  description = "Elicitation with defaults for every primitive type (SEP-1034)",
  input_schema = NO_ARGS,
  handler = function(args, ctx)
    local answer = ctx:elicit {
      message = "Please review and update the form fields with defaults",
      schema = {
        type = "object",
        properties = {
          name = { type = "string", description = "User name", default = "John Doe" },
          age = { type = "integer", description = "User age", default = 30 },
          score = { type = "number", description = "User score", default = 95.5 },
          status = { type = "string", description = "User status",
                     enum = { "active", "inactive", "pending" }, default = "active" },
          verified = { type = "boolean", description = "Verification status", default = true },
        },
      },
    }
    return answered("Elicitation completed", answer)
  end,
}

Tool.define {
  name = "test_elicitation_sep1330_enums",
  description = "Elicitation with every enum variant (SEP-1330)",
  input_schema = NO_ARGS,
  handler = function(args, ctx)
    local answer = ctx:elicit {
      message = "Please select options from the enum fields",
      schema = {
        type = "object",
        properties = {
          untitledSingle = { type = "string", description = "Select one option",
                             enum = { "option1", "option2", "option3" } },
          titledSingle = { type = "string", description = "Select one option with titles",
                           oneOf = { { const = "value1", title = "First Option" },
                                     { const = "value2", title = "Second Option" },
                                     { const = "value3", title = "Third Option" } } },
          legacyEnum = { type = "string", description = "Select one option (legacy)",
                         enum = { "opt1", "opt2", "opt3" },
                         enumNames = { "Option One", "Option Two", "Option Three" } },
          untitledMulti = { type = "array", description = "Select multiple options",
                            items = { type = "string", enum = { "option1", "option2", "option3" } } },
          titledMulti = { type = "array", description = "Select multiple options with titles",
                          items = { anyOf = { { const = "value1", title = "First Choice" },
                                              { const = "value2", title = "Second Choice" },
                                              { const = "value3", title = "Third Choice" } } } },
        },
      },
    }
    return answered("Elicitation completed", answer)
  end,
}

Tool.define {
  name = "json_schema_2020_12_tool",
  description = "Tool with JSON Schema 2020-12 features",
  input_schema = {
    ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
    type = "object",
    ["$defs"] = {
      address = { type = "object", properties = { street = { type = "string" }, city = { type = "string" } } },
    },
    properties = { name = { type = "string" }, address = { ["$ref"] = "#/$defs/address" } },
    additionalProperties = false,
  },
  handler = function(args) return "Received: " .. JSON.encode(args) end,
}

Tool.define {
  name = "test_reconnection",
  description = "Logs before and after a pause (SSE polling, SEP-1699)",
  input_schema = NO_ARGS,
  handler = function()
    Log.info("Before disconnect")
    sleep(0.2)
    Log.info("After reconnect")
    return "Reconnection test completed"
  end,
}

-- Resources --------------------------------------------------------------------------------

Resource.define {
  uri = "test://static-text", name = "static-text", mime_type = "text/plain",
  description = "A static text resource",
  text = "This is the content of the static text resource.",
}

Resource.define {
  uri = "test://static-binary", name = "static-binary", mime_type = "image/png",
  description = "A static binary resource (a 1x1 PNG)",
  blob = PNG,
}

Resource.define {
  uri = "test://template/{id}/data", name = "template-data", mime_type = "application/json",
  description = "Data for an id",
  handler = function(uri, params)
    return JSON.encode { id = params.id, templateTest = true, data = "Data for ID: " .. params.id }
  end,
  complete = { id = { "1", "2", "3", "123" } },
}

local watched = 0
Resource.define {
  uri = "test://watched-resource", name = "watched-resource", mime_type = "text/plain",
  description = "A resource that changes when test_update_watched runs",
  handler = function() return "Watched resource content, version " .. watched end,
}

Tool.define {
  name = "test_update_watched",
  description = "Changes test://watched-resource and tells its subscribers",
  input_schema = NO_ARGS,
  handler = function()
    watched = watched + 1
    Resource.updated("test://watched-resource")
    return "version " .. watched
  end,
}

-- Prompts ----------------------------------------------------------------------------------

Prompt.define {
  name = "test_simple_prompt",
  description = "A simple prompt without arguments",
  messages = "This is a simple prompt for testing.",
}

Prompt.define {
  name = "test_prompt_with_arguments",
  description = "A prompt with required arguments",
  arguments = {
    { name = "arg1", description = "First test argument", required = true,
      complete = { "paris", "park", "party", "test" } },
    { name = "arg2", description = "Second test argument", required = true },
  },
  handler = function(args)
    return string.format("Prompt with arguments: arg1='%s', arg2='%s'", args.arg1, args.arg2)
  end,
}

Prompt.define {
  name = "test_prompt_with_embedded_resource",
  description = "A prompt that embeds a resource",
  arguments = { { name = "resourceUri", description = "URI of the resource to embed", required = true } },
  handler = function(args)
    return {
      { role = "user", content = { type = "resource", uri = args.resourceUri, mime_type = "text/plain",
                                   text = "Embedded resource content for testing." } },
      { role = "user", content = "Please process the embedded resource above." },
    }
  end,
}

Prompt.define {
  name = "test_prompt_with_image",
  description = "A prompt with image content",
  handler = function()
    return {
      { role = "user", content = image() },
      { role = "user", content = "Please analyze the image above." },
    }
  end,
}
