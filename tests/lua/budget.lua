-- budget.lua: one memory budget over both heaps (mw.mem.limit): going
-- over it is a catchable error naming the limit and the request, for every
-- family of allocating operations; nothing half-built remains (the
-- figures come back to where they were) and the script carries on.
local t = require "helper"

-- Runs fn under a budget of `room` bytes above what is in use now; it
-- must fail with a message containing `want`. Then, with the budget gone
-- and everything unreachable collected, the native heap is back to the
-- byte where it was, and Lua's within a few KiB (the error's own strings).
local function over(what, room, want, fn)
  t.fullgc()
  local before = mw.mem.stats()
  mw.mem.limit(before.total + room)
  local ok, err = pcall(fn)
  mw.mem.limit(false)
  t.eq(ok, false, what .. ": over the budget fails")
  err = tostring(err)
  assert(err:find(want, 1, true), what .. ": expected '" .. want .. "' in: " .. err)
  t.fullgc()
  local after = mw.mem.stats()
  t.eq(after.native, before.native, what .. ": native heap back to its figure")
  assert(math.abs(after.lua - before.lua) < 16384,
         what .. ": Lua heap back near its figure: " .. before.lua .. " -> " .. after.lua)
  return err
end

-- series: the message names the limit and the request, exactly (a
-- small series first, so that the pool has room for the header and the
-- request refused is the 8,000,000 bytes of values)
local warm = mw.series.zeros(1)
t.fullgc()
local base = mw.mem.stats().total
mw.mem.limit(base + 2^20)
local ok, err = pcall(mw.series.zeros, 1e6)
mw.mem.limit(false)
t.eq(ok, false, "series over budget")
local limit_text = string.format("%.1f MiB", (base + 2^20) / 2^20)
t.eq(err, "memory limit exceeded (limit " .. limit_text .. ", requested 8000000 bytes)",
     "the message: limit and requested bytes")
warm:release()
over("series", 2^20, "memory limit exceeded (limit", function() return mw.series.zeros(1e6) end)
over("series arithmetic", 2^20, "memory limit exceeded", function()
  local s = mw.series.zeros(50000)
  for _ = 1, 100 do s = s + 1 end     -- each result is a new series
  return s
end)

-- frame: columns added before the failure stay, the frame is usable
do
  local col = mw.series.zeros(100)
  local f = mw.frame{a = col}
  t.fullgc()
  mw.mem.limit(mw.mem.stats().total + 65536)
  local ok2 = pcall(function() for i = 1, 1e5 do f:add("c" .. i, col) end end)
  mw.mem.limit(false)
  t.eq(ok2, false, "frame over budget")
  local n = #f:columns()
  assert(n > 10, "columns added before the failure are kept: " .. n)
  t.eq(f[f:columns()[n]][1], 0, "the last column added is whole")
  f:add("after", col)
  t.eq(#f:columns(), n + 1, "the frame carries on")
  f:release(); col:release()
end
over("frame", 65536, "memory limit exceeded", function()
  local col = mw.series.zeros(10)
  local f = mw.frame{a = col}
  for i = 1, 1e5 do f:add("c" .. i, col) end
end)

-- csv batches: a batch too big fails; reading again without the budget
-- gives every row
local path = os.tmpname()
do
  local out = assert(io.open(path, "w"))
  out:write("timestamp,value\n")
  for i = 1, 200000 do out:write(string.format("%d,%d\n", 1700000000000 + i * 60000, i)) end
  out:close()
end
over("csv batch", 2^20, "memory limit exceeded", function()
  local sum = 0
  for b in mw.csv(path, {batch = 200000}) do sum = sum + b.value:sum() end
  return sum
end)
local sum = 0
for b in mw.csv(path, {batch = 65536}) do sum = sum + b.value:sum(); b:release() end
t.eq(sum, 200000 * 200001 / 2, "after the failure, the file reads whole")
os.remove(path)

-- detectors: the window is refused before anything is kept
over("detector", 2^20, "memory limit exceeded (limit", function()
  return mw.detect.zscore{window = 1000000}
end)
over("robust detector", 2^20, "memory limit exceeded", function()
  return mw.detect.mad{window = 1000000}
end)
over("detector save", 4096, "memory limit exceeded", function()
  local d = mw.detect.zscore{window = 2000}
  d:run(mw.series.range(1, 2000))
  mw.mem.limit(mw.mem.stats().total + 1024)
  return d:save()
end)

-- Lua's own heap: tables and strings (Lua's fixed message)
over("Lua table", 2^20, "not enough memory", function()
  local tab = {}
  for i = 1, 1e7 do tab[i] = i end
end)
over("Lua string", 2^20, "not enough memory", function()
  return string.rep("x", 1e8)
end)

-- the figures: frees counted, reset_peak, limit given as a size
local s0 = mw.mem.stats()
for _ = 1, 10 do mw.list{1, 2, 3}:release() end
local s1 = mw.mem.stats()
assert(s1.frees >= s0.frees + 10, "frees counted: " .. s0.frees .. " -> " .. s1.frees)
assert(s1.allocations >= s0.allocations + 10, "allocations counted")
t.eq(mw.mem.limit("1G"), 2^30, "a size with a unit")
t.eq(mw.mem.limit("1.5 GiB"), 1.5 * 2^30 // 1, "a fraction and a long unit")
t.eq(mw.mem.limit(false), nil, "no budget")
t.raises("'12Q' is not a size", mw.mem.limit, "12Q")
t.raises("is below the", mw.mem.limit, "1K")
local big = mw.series.zeros(1e6)
big:release()
mw.mem.reset_peak()
local s2 = mw.mem.stats()
assert(s2.peak < s1.peak + 8e6 and s2.peak >= s2.total, "reset_peak starts from now")
print("budget: ok")
