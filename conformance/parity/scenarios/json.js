// JSON round trips: nested arrays, null, unicode, numbers, canonical encoding.
const text = '{"b":[1,[2,[3,[]]],{"x":null}],"a":"héllo wörld ✓ 日本","n":-0.5,"i":9007199254740991,"t":true,"f":false}';
const v = JSON.decode(text);
print(v.a, v.b[1][1][0], v.n, v.i, v.t, v.f, v.b[2].x == null);
v.b[2] = { y: "kept" };
print(JSON.encode(v));
print(JSON.encode(JSON.decode("[1,null,3]")));
print(JSON.decode("[1,null,3]").length);
print(JSON.encode({ list: [1, 2, [3, 4]], empty: {}, name: "ünï" }));
print(JSON.encode('quote" and \\ backslash'));
try {
  JSON.decode("{bad json");
} catch (e) {
  print(false, e.message.substring(0, 20));
}
await Tool.define({ name: "parity.identity", handler: (args) => args });
const back = (await Tool.execute("parity.identity", { nested: { deep: { list: ["a", "b", "ç"] } }, num: 1.25, int: 3 })).data;
print(back.nested.deep.list[2], back.num, back.int, JSON.encode(back));
