// Events: glob subscriptions, publish order, unsubscribe, runtime call events.
const seen = [];
const a = await Event.subscribe("order.*", (topic, data) => { seen.push("A:" + topic + ":" + data.id); });
await Event.subscribe("order.created", (topic, data) => { seen.push("B:" + topic); });
await Event.subscribe("*.cancelled", (topic, data) => { seen.push("C:" + topic); });
print(await Event.publish("order.created", { id: 7 }));
print(await Event.publish("order.cancelled", { id: 8 }));
print(await Event.publish("invoice.created", { id: 9 }));
print(await Event.unsubscribe(a), await Event.unsubscribe(a));
print(await Event.publish("order.created", { id: 10 }));
print(seen.join(" "));

const calls = [];
await Event.subscribe("call.*", (topic, data) => { calls.push(topic + ":" + data.component); });
await Tool.define({ name: "parity.noop", handler: () => "ok" });
await Tool.execute("parity.noop", {});
try { await Tool.execute("parity.nope", {}); } catch (e) { /* expected */ }
print(calls.join(" "));
