-- reentrancy.lua: a script's __gc may run inside any Lua allocation a
-- binding makes (pushing a handle, a string, a table), and may clear or
-- release the very container being read. Nothing may read freed memory:
-- each case below ran into freed memory before the bindings read values
-- again after allocating (the sanitizer build turns that into a failure).
local t = require "helper"

collectgarbage("generational")
local target, action
local fired = 0
local function arm()
  setmetatable({}, {__gc = function()
    if target then fired = fired + 1; action(target) end
    arm()
  end})
end
arm()

local function clear(c) c:clear() end
local function release(c) c:release() end

-- Runs fn; a handle released by the finalizer meanwhile may end it with
-- the documented error, nothing else.
local function guarded(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok and not tostring(err):find("attempt to use a released", 1, true) then
    error(err, 2)
  end
end

-- l[i]: the value is an object held only by the list.
for _, act in ipairs{clear, release} do
  action = act
  for i = 1, 20000 do
    local l = mw.list()
    local inner = mw.list{1, 2, 3}
    l:append(inner); inner:release()
    target = l
    guarded(function() local x = l[1]; assert(x == nil or mw.type(x) == "list") end)
    target = nil
  end
end

-- pairs(m), m:keys(), m:values(), m:totable() on a map of objects.
for _, act in ipairs{clear, release} do
  action = act
  for i = 1, 5000 do
    local m = mw.map()
    for j = 1, 4 do local v = mw.list{j}; m["key" .. i .. "_" .. j] = v; v:release() end
    target = m
    guarded(function() for k in pairs(m) do assert(type(k) == "string") end end)
    guarded(m.keys, m); guarded(m.values, m); guarded(m.totable, m)
    target = nil
  end
end

-- l:totable() and pairs(l).
for _, act in ipairs{clear, release} do
  action = act
  for i = 1, 5000 do
    local l = mw.list()
    for j = 1, 8 do local v = mw.map{j = j}; l:append(v); v:release() end
    target = l
    guarded(l.totable, l)
    guarded(function() for _ in pairs(l) do end end)
    target = nil
  end
end

-- tostring: a finalizer drops the only reference to a nested list.
action = function(c) if not mw.isreleased(c) and #c > 0 then c[1] = false end end
for i = 1, 5000 do
  local outer = mw.list()
  local inner = mw.list()
  for j = 1, 40 do inner:append(i + j / 64) end
  outer:append(inner); inner:release()
  target = outer
  local s = tostring(outer)
  target = nil
  assert(s:sub(1, 5) == "list{")
end

-- l:pop(): the list is emptied while the popped string is pushed: the
-- pop is refused with an error instead of removing the wrong value.
action = clear
local refused = 0
local long = string.rep("x", 100)
for i = 1, 20000 do
  local l = mw.list{long}
  target = l
  local ok, err = pcall(l.pop, l)
  target = nil
  if not ok then
    assert(tostring(err):find("list changed during pop", 1, true), err)
    refused = refused + 1
  end
end

assert(fired > 0, "the finalizer never ran: the test tested nothing")
target = nil
print(string.format("reentrancy: ok (finalizer ran %d times, %d pops refused)", fired, refused))

-- Series, frames and rings under the same finalizer: results are whole
-- or the documented errors, never freed memory.
local function guarded2(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    local e = tostring(err)
    assert(e:find("released", 1, true) or e:find("changed during", 1, true), e)
  end
end
collectgarbage("generational")
action = function(c) if not mw.isreleased(c) then c:release() end end
for i = 1, 3000 do
  local s = mw.series.range(1, 50)
  target = s
  guarded2(function() local r = s + s; r = s:rolling(5):median(); r = s:slice(2, 10); r = tostring(s) end)
  target = nil
  local f = mw.frame{a = mw.series.range(1, 20), b = mw.series.zeros(20)}
  target = f
  guarded2(function() local r = f:head(3); r = f:select{"b"}; r = f:row(2); r = f:columns(); r = tostring(f) end)
  target = nil
  local ring = mw.ring(8)
  for j = 1, 8 do ring:push(j) end
  target = ring
  guarded2(function() local r = ring:toseries(); assert(#r == 8) end)
  target = nil
end
print("reentrancy: series, frames and rings ok")
