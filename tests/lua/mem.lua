-- mem.lua: mw.mem figures are exact, and the budget fails cleanly.
local t = require "helper"

t.fullgc()
local s = mw.mem.stats()
assert(s.lua > 0 and s.native > 0, "both heaps counted")
t.eq(s.total, s.lua + s.native + s.pool, "total is the sum")
assert(s.pool >= 0 and s.pool <= 4 * 2^20, "pool: the free part of an arena or a few")
assert(s.peak >= s.total, "peak at least the current total")
assert(s.allocations > 0, "allocations counted")

-- A list of a million values costs exactly its structure: 64 bytes for
-- the object (with the collector's link) plus 16 bytes a value. Lua's
-- heap pays only for the handle.
local before = mw.mem.stats()
local big = mw.list.rep(1000000, 0)
local after = mw.mem.stats()
t.eq(after.native - before.native, 64 + 16 * 1000000, "native bytes of a 1e6 list")
t.eq(after.objects.list.bytes - before.objects.list.bytes, 64 + 16 * 1000000, "per-type bytes")
t.eq(after.objects.list.count - before.objects.list.count, 1, "per-type count")
big:release()
t.eq(mw.mem.stats().native, before.native, "release returns every byte")

-- Strings stored in containers are counted as "str".
local strs = mw.list{"abc", "defgh"}
local st = mw.mem.stats().objects.str
assert(st and st.count >= 2, "str objects counted")
strs:release()

-- Budget: native growth over it is a catchable error, and nothing is
-- lost: the list keeps what it had.
t.fullgc()
local used = mw.mem.stats().total
t.eq(mw.mem.budget(), nil, "no budget by default")
t.eq(mw.mem.budget(used + 100000), used + 100000, "budget set")
local l = mw.list{}
local ok, err = pcall(function()
  for i = 1, 1e6 do l:append(i) end
end)
t.eq(ok, false, "over budget fails")
assert(tostring(err):find("memory limit exceeded", 1, true), tostring(err))
local kept = #l
assert(kept > 1000, "values appended before the limit are kept: " .. kept)
t.eq(l[kept], kept, "last value intact")
-- Lua's own allocations are bounded too.
local ok2, err2 = pcall(function() local t2 = {} for i = 1, 1e7 do t2[i] = i end end)
t.eq(ok2, false, "Lua allocation over budget fails")
t.eq(err2, "not enough memory", "Lua's memory error")
t.raises("is below the", function() mw.mem.budget(1) end)
mw.mem.budget(false)
t.eq(mw.mem.budget(), nil, "budget removed")
for i = 1, 1000 do l:append(i) end
l:release()

local old_peak = mw.mem.stats().peak
mw.mem.resetpeak()
local now = mw.mem.stats()
assert(now.peak >= now.total and now.peak < old_peak - 8000000,
       "resetpeak starts from the current figure")

-- Sizes of the other objects, and the remaining fields.
collectgarbage(); collectgarbage(); mw.gc.collect()
local b0 = mw.mem.stats()
local mp = mw.map()
local b1 = mw.mem.stats()
t.eq(b1.objects.map.bytes - b0.objects.map.bytes, 80, "an empty map is 80 bytes")
mp.k = 1
local b2 = mw.mem.stats()
t.eq(b2.objects.map.bytes - b1.objects.map.bytes, 8 * 32, "the first 8 slots of 32 bytes")
mp:release()
local sl = mw.list{string.rep("a", 10), string.rep("b", 300)}
local b3 = mw.mem.stats()
-- 32 bytes of header, the bytes and a NUL; rounded to 16 up to 256 bytes.
t.eq(b3.objects.str.bytes - b1.objects.str.bytes, 48 + (32 + 300 + 1), "str sizes")
sl:release()
local s2 = mw.mem.stats()
assert(s2.lua_peak >= s2.lua and s2.native_peak >= s2.native, "per-heap peaks")
assert(s2.failed >= 2, "refused allocations counted: " .. s2.failed)
mw.mem.budget(s2.total + 10^7)
t.eq(mw.mem.stats().budget, s2.total + 10^7, "budget field")
mw.mem.budget(false)
t.eq(mw.mem.stats().budget, nil, "no budget field without a budget")

print("mem: ok")
