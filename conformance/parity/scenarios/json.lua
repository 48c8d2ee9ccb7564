-- JSON round trips: nested arrays, null, unicode, numbers, canonical encoding.
local text = '{"b":[1,[2,[3,[]]],{"x":null}],"a":"héllo wörld ✓ 日本","n":-0.5,"i":9007199254740991,"t":true,"f":false}'
local v = JSON.decode(text)
print(v.a, v.b[2][2][1], v.n, v.i, v.t, v.f, v.b[3].x == nil)
v.b[3] = {y = "kept"}
print(JSON.encode(v))
print(JSON.encode(JSON.decode("[1,null,3]")))
print(#JSON.decode("[1,null,3]"))
print(JSON.encode({list = {1, 2, {3, 4}}, empty = {}, name = "ünï"}))
print(JSON.encode("quote\" and \\ backslash"))
local ok, err = pcall(JSON.decode, "{bad json")
print(ok, string.sub(err, 1, 20))
Tool.define{name = "parity.identity", handler = function(args) return args end}
local back = Tool.execute("parity.identity", {nested = {deep = {list = {"a", "b", "ç"}}}, num = 1.25, int = 3}).data
print(back.nested.deep.list[3], back.num, back.int, JSON.encode(back))
