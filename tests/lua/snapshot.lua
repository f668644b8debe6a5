-- snapshot.lua: heap snapshots attribute live native blocks to the Lua
-- line that made them, by type; diff lists what changed, largest first;
-- blocks made before tracing count under their type.
local t = require "helper"

local function here() return debug.getinfo(2, "l").currentline end
local function site_of(line) return "snapshot.lua:" .. line end

local function find(entries, site, type_)
  for _, e in ipairs(entries) do
    if e.site:sub(-#site) == site and e.type == type_ then return e end
  end
end

local early = mw.series.zeros(1000)      -- made before tracing

t.eq(mw.mem.trace(true), true, "tracing on")
local s1 = mw.mem.snapshot()
local big = mw.series.zeros(1000000); local l_big = here()
local lst = mw.list{1, 2, 3}; local l_list = here()
local function helper_alloc() return mw.series.zeros(5000) end
local small = helper_alloc(); local l_call = here()
local s2 = mw.mem.snapshot()

local b = assert(find(s2.entries, site_of(l_big), "buffer"), "the series' values on its line")
t.eq(b.bytes, 8000048, "1e6 doubles and their buffer's header, exactly")
assert(find(s2.entries, site_of(l_big), "series"), "the series object on its line")
assert(find(s2.entries, site_of(l_list), "list"), "the list on its line")
-- a C function's blocks go to the Lua line running it: inside helper_alloc
local inner = find(s2.entries, site_of(l_call - 1), "buffer")
assert(inner and inner.bytes >= 40000, "blocks made inside a Lua function go to its line")
local before = assert(find(s2.entries, "(before tracing)", "buffer"), "older blocks by type")
assert(before.bytes >= 8000, "the early series is there: " .. before.bytes)
t.eq(s2.entries[1].site:sub(-#site_of(l_big)), site_of(l_big), "largest first")

-- diff: the largest change first, with counts
local d = s2:diff(s1)
t.eq(d[1].site:sub(-#site_of(l_big)), site_of(l_big), "diff: the big series first")
t.eq(d[1].bytes_diff, 8000048, "diff: its bytes")
t.eq(d[1].count_diff, 2, "diff: two blocks (the buffer object and its values)")
big:release()
local s3 = mw.mem.snapshot()
local d2 = s3:diff(s2)
t.eq(d2[1].bytes_diff, -8000048, "a release shows as a negative difference")
t.eq(d2[1].bytes, 0, "nothing left on that line")
assert(not find(s3.entries, site_of(l_big), "buffer"), "the freed block left the snapshot")

-- top: by group, by site, by type
local top = mw.mem.top(2)
assert(#top <= 2 and top[1].bytes >= top[#top].bytes, "top n, largest first")
local by_type = s3:top(10, "type")
assert(by_type[1].type and by_type[1].bytes > 0, "grouped by type")
t.raises("by must be 'site' or 'type'", function() s3:top(3, "colour") end)
t.raises("snapshot expected", function() s3:diff({}) end)
assert(tostring(s3):find("bytes in the native heap", 1, true), "tostring")

-- the figures agree with the heap's own
local total = 0
for _, e in ipairs(s3.entries) do total = total + e.bytes end
t.eq(total, s3.total, "entries add up to the native heap's objects")
t.eq(s3.total, (function()
  local sum = 0
  for _, o in pairs(mw.mem.stats().objects) do sum = sum + o.bytes end
  return sum end)(), "the total is mw.mem.stats' objects")

t.eq(mw.mem.trace(false), false, "tracing off")
local s4 = mw.mem.snapshot()
t.eq(s4.traced, false, "not traced")
assert(find(s4.entries, "(not traced)", "list"), "untraced: by type only")
lst:release(); small:release(); early:release()
-- tracing again starts afresh; coroutines are charged to the resume line
mw.mem.trace(true)
local co = coroutine.create(function() return mw.series.zeros(2000) end)
local _, made = coroutine.resume(co); local l_resume = here()
local s5 = mw.mem.snapshot()
assert(find(s5.entries, site_of(l_resume), "buffer"), "a coroutine's blocks: the resuming line")
made:release()
mw.mem.trace(false)
print("snapshot: ok")
