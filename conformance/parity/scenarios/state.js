// State: set, get, delete, keys with prefixes; values keep their structure.
await State.set("user:1", { name: "Ada", langs: ["lua", "js"], age: 36 });
await State.set("user:2", { name: "Grace" });
await State.set("config", "on");
const u = await State.get("user:1");
print(u.name, u.age, u.langs.length, u.langs[1]);
print((await State.keys("user:")).join(","));
print((await State.keys()).join(","));
print(await State.delete("user:2"), await State.delete("user:2"));
print((await State.keys("user:")).join(","));
print((await State.get("missing")) == null, await State.get("config"));
u.name = "changed";
print((await State.get("user:1")).name);
