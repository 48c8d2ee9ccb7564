-- State: set, get, delete, keys with prefixes; values keep their structure.
State.set("user:1", {name = "Ada", langs = {"lua", "js"}, age = 36})
State.set("user:2", {name = "Grace"})
State.set("config", "on")
local u = State.get("user:1")
print(u.name, u.age, #u.langs, u.langs[2])
print(table.concat(State.keys("user:"), ","))
print(table.concat(State.keys(), ","))
print(State.delete("user:2"), State.delete("user:2"))
print(table.concat(State.keys("user:"), ","))
print(State.get("missing") == nil, State.get("config"))
u.name = "changed"
print(State.get("user:1").name)
