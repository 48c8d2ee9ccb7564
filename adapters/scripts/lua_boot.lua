-- The Lua side of the bridge (see lua.py): the driver, host-call stubs, the sandbox, host
-- objects. Run once per engine with (ASYNC, NULL, expired, limit_error) as its arguments.
local ASYNC, NULL, expired, limit_error = ...
local create, resume = coroutine.create, coroutine.resume
local status, yield = coroutine.status, coroutine.yield
local traceback, sethook = debug.traceback, debug.sethook
local pack, unpack, tostring, error, type = table.pack, table.unpack, tostring, error, type

local function on_count()
  if expired() then error(limit_error, 0) end
end

local function new_coroutine(fn)
  local co = create(fn)
  sethook(co, on_count, "", HOOK_EVERY)
  return co
end

-- Resume a user coroutine; host requests it yields are passed up to our driver and answered,
-- so Tool.execute works inside coroutine.wrap/resume just as in the main chunk.
local function pass_resume(co, ...)
  local r = pack(resume(co, ...))
  while r[1] and r[2] == ASYNC and status(co) == "suspended" do
    r = pack(resume(co, yield(unpack(r, 2, r.n))))
  end
  return unpack(r, 1, r.n)
end

coroutine.create = new_coroutine
coroutine.resume = pass_resume
coroutine.wrap = function(fn)
  local co = new_coroutine(fn)
  return function(...)
    local r = pack(pass_resume(co, ...))
    if not r[1] then error(r[2], 0) end
    return unpack(r, 2, r.n)
  end
end

-- The driver. Entries run on pooled coroutines: a worker parks after each job and takes the
-- next one, so a call (a hook, a handler) costs one resume, not a new coroutine. Each report is
-- ("host", name, args...) | ("done", count, first value) | ("error", message, traceback);
-- always two or more values, so lupa hands Python a tuple. A coroutine that failed or is left
-- waiting on the host is never reused.
local DONE = {}
local idle, n_idle, POOL = {}, 0, 16
local function work(...)
  local job = pack(...)
  while true do
    job = pack(yield(DONE, pack(job[1](unpack(job, 2, job.n)))))
  end
end
local function report(co, r)
  if not r[1] then
    return "error", r[2], traceback(co, tostring(r[2]))
  end
  if r[2] == DONE then
    if n_idle < POOL then
      n_idle = n_idle + 1
      idle[n_idle] = co
    end
    local out = r[3]
    return "done", out.n, out[1]
  end
  if r[2] ~= ASYNC then
    return "error", "coroutine.yield called outside a coroutine", traceback(co)
  end
  return "host", unpack(r, 3, r.n)
end
local function take()
  if n_idle == 0 then return new_coroutine(work) end
  local co = idle[n_idle]
  idle[n_idle] = nil
  n_idle = n_idle - 1
  return co
end
-- enter(fn, args...) -> co, report...; step(co, ok, value) -> report...
local function enter(fn, ...)
  local co = take()
  return co, report(co, pack(resume(co, fn, ...)))
end
local function step(co, ...)
  return report(co, pack(resume(co, ...)))
end
local copy_plain
-- enter with a fresh copy of a memoised table as the one argument (see LuaEngine._memoised)
local function enter_copy(fn, t)
  return enter(fn, copy_plain(t))
end
-- A hook's context, copied as it is read: fields come from the memoised source on first read,
-- a nested table as a fresh copy kept for the next read, writes stay in the hook's own view. A
-- hook that reads little copies little, and the source is never handed out. pairs(), # and the
-- host (is_null, below: every table the host receives) see it whole, as a plain table.
local sources, views = setmetatable({}, {__mode = "k"}), setmetatable({}, {__mode = "k"})
local GONE = {}
local function materialize(p)
  local src, view = sources[p], views[p]
  sources[p], views[p] = nil, nil
  setmetatable(p, nil)
  for k, x in next, src do
    local y = view and view[k]
    if y == nil then
      if type(x) == "table" and x ~= NULL then x = copy_plain(x) end
      rawset(p, k, x)
    elseif y ~= GONE then
      rawset(p, k, y)
    end
  end
  if view then
    for k, y in next, view do
      if src[k] == nil and y ~= GONE then rawset(p, k, y) end
    end
  end
end
local CONTEXT = {
  __name = "context",
  __index = function(p, k)
    local view = views[p]
    local y = view and view[k]
    if y ~= nil then
      if y == GONE then return nil end
      return y
    end
    local x = sources[p][k]
    if type(x) == "table" and x ~= NULL then
      x = copy_plain(x)
      if view == nil then view = {}; views[p] = view end
      view[k] = x
    end
    return x
  end,
  __newindex = function(p, k, v)
    local view = views[p]
    if view == nil then view = {}; views[p] = view end
    if v == nil then view[k] = GONE else view[k] = v end
  end,
  __pairs = function(p)
    materialize(p)
    return next, p, nil
  end,
  __len = function(p)
    materialize(p)
    return #p
  end,
}
-- Hooks that follow each other at a point, in one entry (see LuaEngine.run_hooks), each with a
-- context of its own over the same source. at[1]: the last to run.
local function each(at, fns, n, t)
  for i = 1, n do
    at[1] = i
    local c = setmetatable({}, CONTEXT)
    sources[c] = t
    local out = fns[i](c)
    if out ~= nil then return out end
  end
  at[1] = n + 1
end
local function enter_each(at, fns, n, t)
  return enter(each, at, fns, n, t)
end

local function sync_stub(fn)
  return function(...)
    local ok, v = fn(...)
    if not ok then error(v, 0) end
    return v
  end
end

local function async_stub(name)
  return function(...)
    local ok, v = yield(ASYNC, name, ...)
    if not ok then error(v, 0) end
    return v
  end
end

local raw_load = load
local function compile(source, chunkname)
  return raw_load(source, chunkname, "t")
end

-- Sandbox: no process, file, loader or debug access; `load` takes text only.
load = function(chunk, name, mode, ...)
  return raw_load(chunk, name, "t", ...)
end
io, debug, package, require, dofile, loadfile, python = nil, nil, nil, nil, nil, nil, nil
string.dump = nil
for _, k in ipairs({"execute", "exit", "remove", "rename", "tmpname", "getenv", "setlocale"}) do
  os[k] = nil
end
local raw_gc = collectgarbage
collectgarbage = function(opt, ...)
  if opt == nil or opt == "count" or opt == "collect" or opt == "step" then
    return raw_gc(opt, ...)
  end
  error("collectgarbage('" .. tostring(opt) .. "') is not available in the sandbox", 2)
end

-- Host objects: a table of fields whose methods pass the object's host ref first; a type with
-- a `__call` method makes its objects callable (a stream's `emit(item)`).
local refs = setmetatable({}, {__mode = "k"})
local metatables = {}
local function define_type(name, methods)
  local index = {}
  for m, f in pairs(methods) do
    index[m] = function(self, ...)
      local ref = refs[self]
      if ref == nil then error(name .. "." .. m .. " is a method: call it with ':'", 2) end
      return f(ref, ...)
    end
  end
  local mt = {__index = index, __name = name}
  local call = methods.__call
  if call then mt.__call = function(self, ...) return call(refs[self], ...) end end
  metatables[name] = mt
end
local function make_object(name, ref, fields)
  local obj = setmetatable(fields, metatables[name])
  refs[obj] = ref
  return obj
end
-- NS.builder(): setters record fields, build() hands them to NS[build]; no host call until then.
local function define_builder(ns, fields, build)
  ns.builder = function()
    local data, b = {}, {}
    for _, f in ipairs(fields) do
      b[f] = function(self, v) data[f] = v return self end
    end
    b.build = function(self) return ns[build](data) end
    return b
  end
end

local function is_null(v)
  if sources[v] ~= nil then materialize(v) end
  return v == NULL
end
local function new_table() return {} end
-- A fresh copy of a table made from host data (the memo's): plain tables, JSON.null kept.
function copy_plain(t)
  local c = {}
  for k, v in next, t do
    if type(v) == "table" and v ~= NULL then v = copy_plain(v) end
    c[k] = v
  end
  return setmetatable(c, getmetatable(t))
end
-- An empty JSON array and an empty object are both {} in Lua; a marked table keeps `[]` as `[]`.
local EMPTY_ARRAY = {__name = "JSON.array"}
local function new_empty_array() return setmetatable({}, EMPTY_ARRAY) end
local function is_empty_array(t) return getmetatable(t) == EMPTY_ARRAY end
return enter, step, enter_copy, enter_each, traceback, sync_stub, async_stub, compile, is_null, new_table,
  new_empty_array, is_empty_array, define_type, make_object, define_builder
