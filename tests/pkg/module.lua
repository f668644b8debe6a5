-- module.lua: the moonwatch module in a stock lua5.4 (require "moonwatch"
-- through LUA_CPATH, the interpreter's own allocator): a fair sample of
-- the API gives the same answers as in the moonwatch command, and what
-- differs (Lua's bytes read from lua_gc, a budget over the native heap
-- only) behaves as the reference says. Run by run_lua.sh; fails by
-- raising. arg[1]: a scratch directory.

assert(rawget(_G, "mw") == nil, "run by a stock lua5.4, not by moonwatch")
local mw = require "moonwatch"
assert(require "moonwatch" == mw and package.loaded.moonwatch == mw)
assert(rawget(_G, "mw") == nil, "a module sets no global")
assert(mw.version == "0.1.0")
local dir = assert(arg[1], "usage: module.lua SCRATCH_DIR")

local function raises(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern), ("error %q does not match %q"):format(tostring(err), pattern))
end

-- Series: kernels and reductions.
local s = mw.series{1, 2, 3, 4, 100}
assert(#s == 5 and s[5] == 100)
assert(s:mean() == 22 and s:sum() == 110)
assert(((s - 1) * 2)[2] == 2)
assert(s:gt(3):sum() == 2)
raises("bad argument #1 to 'series'", mw.series, "nope")

-- Containers and the cycle collector.
local a, b = mw.list{1}, mw.map{x = 2}
a:append(b); b.back = a
assert(tostring(a):find("list{1, map{"), tostring(a))
a:release(); b:release()
assert(mw.isreleased(a))
raises("released", function() return #a end)
assert(mw.gc.collect() == 2)

-- CSV, record by record and as frames.
local path = dir .. "/module.csv"
local fh = assert(io.open(path, "w"))
fh:write("timestamp,value\n")
for i = 0, 299 do
  fh:write(("2024-01-01 %02d:%02d:00,%s\n"):format(i // 60, i % 60, i == 250 and "50" or tostring(i % 3)))
end
fh:close()
local n = 0
for row in mw.csv(path) do
  n = n + 1
  if n == 1 then assert(row.value == 0 and math.type(row.timestamp) == "integer") end
end
assert(n == 300)
local frame = mw.csv(path, {batch = 1000})()
assert(mw.type(frame) == "frame" and #frame.value == 300)
raises("No such file", mw.csv, dir .. "/missing.csv")

-- A detector: batch run == updates, save/load continues, release.
local d = mw.detect.zscore{window = 50}
local scores = d:run(frame.value)
assert(#scores == 300)
local top, at = -1, 0
for i = 1, #scores do
  local v = scores[i]
  if v == v and v > top then top, at = v, i end
end
assert(at == 251 and top > 10, ("top score %g at %d"):format(top, at))
local e = mw.detect.zscore{window = 50}
for i = 1, 200 do e:update(frame.value[i]) end
local f = mw.detect.load(e:save())
for i = 201, 300 do
  local x, y = e:update(frame.value[i]), f:update(frame.value[i])
  assert(x == y or (x ~= x and y ~= y))
  assert(x == scores[i] or (x ~= x and scores[i] ~= scores[i]))
end
raises("unknown parameter 'windw'", mw.detect.zscore, {windw = 3})
d:release(); e:release(); mw.release(f)
raises("released detector", function() return d:update(1) end)

-- NAB scoring: a detection at the start of the one window is perfect.
local flags = {}
for i = 1, 300 do flags[i] = (i == 240) and 1 or 0 end
local r = mw.nab.score({{name = "m", score = flags, windows = {{240, 260}}}},
                       {threshold = 0.5})
assert(r.tp == 1 and r.fn == 0 and r.fp == 0 and math.abs(r.score - 100) < 1e-9, r.score)

-- The shipped pipelines come with the module.
local default = require "moonwatch.pipelines.default"
local p = default.new(default.params)
local ps = p:run(frame.value, frame.timestamp)
assert(#ps == 300)
p:release()

-- Memory: Lua's bytes are read from lua_gc (the interpreter's allocator is
-- not moonwatch's), the native heap's are exact; no Lua peak is known.
collectgarbage()
local m = mw.mem.stats()
local lua_kb = collectgarbage("count")
assert(math.abs(m.lua - lua_kb * 1024) < 64 * 1024, ("lua %d vs %g KiB"):format(m.lua, lua_kb))
assert(m.native > 0 and m.total == m.lua + m.native + m.pool)
assert(m.lua_peak == nil and m.peak >= m.native and m.native_peak >= m.native)
assert(m.objects.series.count >= 1)
local before = mw.mem.stats().native
local big = mw.series.zeros(100000)
assert(mw.mem.stats().native >= before + 800000)
big:release()
assert(mw.mem.stats().native < before + 800000)

-- A budget bounds the native heap (and counts Lua's bytes when set).
raises("below the", mw.mem.limit, 1000)
assert(mw.mem.limit("8M") == 8 * 1024 * 1024)
raises("memory limit exceeded %(limit 8.0 MiB", mw.series.zeros, 2000000)
local t = {}
for i = 1, 300000 do t[i] = i end      -- Lua's own heap is not bounded
assert(#t == 300000)
mw.mem.limit(false)
assert(mw.mem.stats().budget == nil)

-- The profiler and the timeline watch Lua's allocations too, so they need
-- a state on moonwatch's allocator and say so; snapshots need only the
-- native heap.
raises("needs a Lua state on moonwatch's allocator", mw.mem.profile, function() end)
raises("needs a Lua state on moonwatch's allocator", mw.mem.timeline, {})
mw.mem.trace(true)
local traced = mw.list{1, 2}
local snap = mw.mem.snapshot()
assert(snap.traced and snap.total > 0)
local found = false
for _, e in ipairs(snap.entries) do
  if e.type == "list" and e.site:find("module.lua:%d+") then found = true end
end
assert(found, "the list's site is a line of this script")
traced:release()
mw.mem.trace(false)

print("module: ok")
