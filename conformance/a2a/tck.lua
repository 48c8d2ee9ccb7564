-- The A2A TCK's System Under Test, as an ordinary llmspell script: one agent that does what
-- the kit's scenarios (scenarios/*.feature in a2aproject/a2a-tck) ask for, keyed on the
-- prefix of the message id. Any other message completes its task with an echo.
--
-- ARGS[1] is TCK_STREAMING_TIMEOUT (the config passes it): the resubscribe scenario keeps its
-- task working for twice that long.
local streaming_timeout = tonumber(ARGS[1]) or 2.0

local file = { name = "output.txt", media_type = "text/plain" }

-- Each scenario: the prefix and what the agent does. Order matters where one prefix starts
-- another (tck-artifact-file-url before tck-artifact-file).
local scenarios = {
  { "tck-complete-task", function(task) task:complete("Hello from TCK") end },
  { "tck-artifact-text", function(task)
      task:artifact{ name = "text", parts = "Generated text content" }
      task:complete()
    end },
  { "tck-artifact-file-url", function(task)
      task:artifact{ name = "file", parts = { { url = "https://example.com/output.txt",
        name = file.name, media_type = file.media_type } } }
      task:complete()
    end },
  { "tck-artifact-file", function(task)
      task:artifact{ name = "file", parts = { { bytes = "tck", name = file.name,
        media_type = file.media_type } } }
      task:complete()
    end },
  { "tck-artifact-data", function(task)
      task:artifact{ name = "data", parts = { { data = { key = "value", count = 42 } } } }
      task:complete()
    end },
  { "tck-message-response", function(task) task:reply("Direct message response") end },
  { "tck-input-required", function(task) task:require_input("Please provide more input") end },
  { "tck-reject-task", function(task) task:reject("rejected") end },
  { "tck-stream-001", function(task)
      task:working()
      task:artifact{ name = "stream", parts = "Stream hello from TCK" }
      task:complete()
    end },
  { "tck-stream-002", function(task) task:complete() end },
  { "tck-stream-003", function(task)
      task:working()
      task:artifact{ name = "stream", parts = "Stream task lifecycle" }
      task:complete()
    end },
  { "tck-stream-ordering-001", function(task)
      task:working()
      task:artifact{ name = "ordered", parts = "Ordered output" }
      task:complete()
    end },
  { "tck-stream-artifact-text", function(task)
      task:working()
      task:artifact{ name = "text", parts = "Streamed text content" }
      task:complete()
    end },
  { "tck-stream-artifact-file", function(task)
      task:working()
      task:artifact{ name = "file", parts = { { bytes = "tck", name = file.name,
        media_type = file.media_type } } }
      task:complete()
    end },
  { "tck-stream-artifact-chunked", function(task)
      task:working()
      task:artifact{ name = "chunked", parts = "chunk-1 " }
      task:artifact{ name = "chunked", parts = "chunk-2", append = true, last_chunk = true }
      task:complete()
    end },
  { "test-resubscribe-message-id", function(task)
      task:working()
      local waited = 0
      while waited < 2 * streaming_timeout and not task:cancelled() do
        sleep(0.1)
        waited = waited + 0.1
      end
      task:complete()
    end },
}

local function starts_with(text, prefix)
  return text:sub(1, #prefix) == prefix
end

Agent.define{
  name = "tck",
  description = "Follows the A2A TCK scenarios, keyed on the message id prefix.",
  skills = { { id = "tck", name = "TCK scenarios", description = "Every scenario of the A2A TCK",
               tags = { "tck", "conformance" } } },
  input_modes = { "text/plain", "application/json" },
  output_modes = { "text/plain", "application/json" },
  handler = function(message, task)
    for _, scenario in ipairs(scenarios) do
      if starts_with(message.id, scenario[1]) then
        return scenario[2](task, message)
      end
    end
    return "Unhandled messageId prefix: " .. message.id
  end,
}
