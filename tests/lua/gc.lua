-- gc.lua: mw.gc from Lua: cycles made and dropped by a script are found
-- by the collector, and the controls behave as documented.
local t = require "helper"

t.fullgc()
local base = mw.mem.stats()

-- A two-list cycle, dropped from Lua: refcounting cannot free it.
do
  local a, b = mw.list{}, mw.list{}
  a:append(b)
  b:append(a)
end
collectgarbage(); collectgarbage()
t.eq(mw.mem.stats().objects.list.count, base.objects.list.count + 2, "cycle alive before collect")
t.eq(mw.gc.collect(), 2, "collect finds the two lists")
t.eq(mw.mem.stats().objects.list.count, base.objects.list.count, "cycle freed")
t.eq(mw.mem.stats().native, base.native, "native bytes back to the start")

-- A cycle held by a live handle survives.
local holder = mw.map{}
do
  local ring = {}
  for i = 1, 1000 do ring[i] = mw.list{} end
  for i = 1, 1000 do ring[i]:append(ring[i % 1000 + 1]) end
  holder.ring = ring[1]
end
collectgarbage(); collectgarbage()
t.eq(mw.gc.collect(), 0, "reachable cycle kept")
t.eq(#holder.ring, 1, "still usable")
holder.ring = nil
-- `holder.ring` above made a handle that Lua has not collected yet: it
-- keeps the ring alive until Lua's collector runs.
t.eq(mw.gc.collect(), 0, "a pending handle keeps the ring alive")
collectgarbage(); collectgarbage()
t.eq(mw.gc.collect(), 1000, "1000-list ring collected once dropped")

-- Release makes a cycle garbage without waiting for Lua's collector.
local x, y = mw.map{}, mw.map{}
x.y, y.x = y, x
x:release(); y:release()
t.eq(mw.gc.collect(), 2, "released cycle collected")

-- Controls.
t.eq(mw.gc.isenabled(), true, "enabled by default")
mw.gc.disable()
t.eq(mw.gc.isenabled(), false, "disable")
mw.gc.enable()
local t0, t1, t2 = mw.gc.threshold()
t.eq(t0, 700, "threshold 0"); t.eq(t1, 10, "threshold 1"); t.eq(t2, 10, "threshold 2")
local n0 = mw.gc.threshold(100)
t.eq(n0, 100, "set threshold 0")
t.raises("generation must be 0, 1 or 2", function() mw.gc.collect(3) end)
t.raises("threshold must not be negative", function() mw.gc.threshold(-1) end)

-- Automatic collection: garbage cycles made past threshold 0 trigger it.
local before = mw.gc.stats()[1].collections
for i = 1, 1000 do
  local c = mw.list{}
  c:append(c)
  c:release()
end
local after = mw.gc.stats()
assert(after[1].collections >= before + 5,
       "expected automatic generation-0 collections, got " .. after[1].collections - before)
assert(after[1].collected >= 900, "collected " .. after[1].collected)
mw.gc.threshold(700)
t.eq(select("#", mw.gc.count()), 3, "count gives three numbers")

-- Stats shape.
local s = mw.gc.stats()
t.eq(#s, 3, "one table per generation")
for g = 1, 3 do
  for _, k in ipairs{"collections", "collected", "uncollectable", "total_pause", "max_pause"} do
    assert(s[g][k] ~= nil, "stats field " .. k)
  end
  assert(s[g].max_pause <= s[g].total_pause)
end

-- Freeze: frozen garbage is not collected until unfrozen.
mw.gc.collect()
do
  local f = mw.list{}
  f:append(f)
  f:release()
end
mw.gc.freeze()
assert(mw.gc.frozen() >= 1, "frozen count")
t.eq(mw.gc.collect(), 0, "frozen objects are not collected")
mw.gc.unfreeze()
t.eq(mw.gc.frozen(), 0, "unfrozen")
t.eq(mw.gc.collect(), 1, "collected after unfreeze")

-- Debug mode reports to stderr; here only its switch is checked.
t.eq(mw.gc.debug(true), false, "debug was off")
t.eq(mw.gc.debug(false), true, "debug was on")
t.eq(mw.gc.uncollectable(), 0, "lists and maps are always collectable")

holder:release()

-- Threshold 0 turns automatic collection off; collect(0) and collect(1)
-- work from Lua; stats count what they found.
mw.gc.collect()
local s0 = mw.gc.stats()
mw.gc.threshold(0)
for i = 1, 2000 do local c = mw.list{}; c:append(c); c:release() end
t.eq(mw.gc.stats()[1].collections, s0[1].collections, "threshold 0: no automatic collection")
t.eq(mw.gc.collect(0), 2000, "collect(0) finds the young garbage")
t.eq(mw.gc.stats()[1].collected, s0[1].collected + 2000, "stats count it")
do local c = mw.list{}; c:append(c); c:release() end
t.eq(mw.gc.collect(1), 1, "collect(1) includes generation 0")
mw.gc.threshold(700)

-- gc.debug reports on stderr: run a child moonwatch and read it.
local exe = arg[-1]
local p = io.popen(exe .. [[ -e "mw.gc.debug(true); local a = mw.list{}; a:append(a); a:release(); mw.gc.collect()" 2>&1]])
local out = p:read("a")
p:close()
assert(out:find("moonwatch gc: collecting generation 2", 1, true), out)
assert(out:find("moonwatch gc: collectable list at", 1, true), out)
assert(out:find("moonwatch gc: done, 1 unreachable", 1, true), out)
print("gc: ok")
