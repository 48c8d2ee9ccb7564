-- An agent written in the script (Agent.define) that drives its own task, called as a tool:
-- its status text is progress, its artifacts and final message make the result.
Agent.define{
  name = "parity.hosted",
  description = "Answers in steps",
  skills = {"answering"},
  handler = function(message, task)
    if message.text == "stop" then
      task:reject("not today")
      return
    end
    if message.text == "ask" then
      task:require_input("which one?")
      return
    end
    task:working("thinking about " .. message.text)
    local id = task:artifact{name = "draft", parts = "part one, "}
    task:artifact{name = "draft", parts = {"part two"}, append = true, last_chunk = true}
    print(type(id), #id > 0, task:cancelled(), message.task_id == nil, #message.parts)
    return {parts = {{type = "data", data = {words = 4}}}}
  end,
}
local r = Tool.execute("parity.hosted", {text = "cats"})
print(r.text, r.data.words, r.is_error, #r.parts)
local no = Tool.execute("parity.hosted", {text = "stop"})
print(no.text, no.is_error)
local ask = Tool.execute("parity.hosted", {text = "ask"})
print(ask.text, ask.is_error)
for _, t in ipairs(Tool.list("agent")) do
  if t.name == "parity.hosted" then print(t.name, t.kind, t.description) end
end
