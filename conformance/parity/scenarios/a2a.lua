-- Delegating to a remote A2A agent (a plain a2a-sdk server) and streaming its updates.
local url = ARGS[5]
local found = A2A.discover(url)
print(found.name, found.card.name, found.card.capabilities.streaming)

local steps = {}
local reply = A2A.send(found.name, "slow 0.3", {stream = true, on_update = function(u)
  if u.status_text then table.insert(steps, u.status_text) end
end})
print(reply.state, reply.text, table.concat(steps, ","))

local asked = A2A.send(url, "ask")
print(asked.state, asked.text)

local task = A2A.get_task(found.name, reply.task_id)
print(task.status.state, task.artifacts[1].parts[1].text)

local ok, err = pcall(A2A.get_task, found.name, "no-such-task")
print(ok, string.find(tostring(err), "not found", 1, true) ~= nil)
