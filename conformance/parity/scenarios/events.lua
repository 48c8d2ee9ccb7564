-- Events: glob subscriptions, publish order, unsubscribe, runtime call events.
local seen = {}
local a = Event.subscribe("order.*", function(topic, data) table.insert(seen, "A:" .. topic .. ":" .. data.id) end)
Event.subscribe("order.created", function(topic, data) table.insert(seen, "B:" .. topic) end)
Event.subscribe("*.cancelled", function(topic, data) table.insert(seen, "C:" .. topic) end)
print(Event.publish("order.created", {id = 7}))
print(Event.publish("order.cancelled", {id = 8}))
print(Event.publish("invoice.created", {id = 9}))
print(Event.unsubscribe(a), Event.unsubscribe(a))
print(Event.publish("order.created", {id = 10}))
print(table.concat(seen, " "))

local calls = {}
Event.subscribe("call.*", function(topic, data) table.insert(calls, topic .. ":" .. data.component) end)
Tool.define{name = "parity.noop", handler = function() return "ok" end}
Tool.execute("parity.noop", {})
pcall(Tool.execute, "parity.nope", {})
print(table.concat(calls, " "))
