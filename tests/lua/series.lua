-- series.lua: mw.series from Lua: construction, indexing and bounds,
-- views and their lifetime, arithmetic, masks, reductions, rolling and
-- ewm through the binding, memory accounting and errors. (The kernels'
-- numbers are checked against references in tests/test_stats.c.)
local t = require "helper"

local function near(a, b, what)
  if not (math.abs(a - b) <= 1e-9 * math.max(1, math.abs(a), math.abs(b))) then
    error(string.format("%s: expected %.17g, got %.17g", what, b, a), 2)
  end
end

-- Construction.
local s = mw.series{1, 2, 3, 4}
t.eq(#s, 4, "length")
t.eq(s[1], 1.0, "s[1]")
t.eq(mw.type(s), "series", "type")
t.eq(#mw.series.zeros(5), 5, "zeros")
t.eq(mw.series.zeros(5):sum(), 0, "zeros are zero")
t.eq(mw.series.full(3, 2.5):sum(), 7.5, "full")
local r = mw.series.range(1, 10)
t.eq(#r, 10, "range length (inclusive, as Lua's for)")
t.eq(r[10], 10, "range end")
t.eq(#mw.series.range(0, 1, 0.25), 5, "range with a step")
t.eq(#mw.series.range(10, 1, -3), 4, "descending range")
t.eq(#mw.series.range(1, 0), 0, "empty range")
t.eq(#mw.series{}, 0, "empty series")
local copy = mw.series(s)
copy[1] = 100
t.eq(s[1], 1.0, "mw.series(other) copies")

-- Timestamps.
local ts = mw.series({10, 20, 30}, {ts = {1000, 2000, 3000}})
t.eq(ts:hastimes(), true, "hastimes")
t.eq(ts:time(2), 2000, "time(i)")
t.eq(ts:times():sum(), 6000, "times()")
t.eq(s:hastimes(), false, "no timestamps by default")
t.eq(s:time(1), nil, "time without timestamps")
t.eq((ts * 2):time(3), 3000, "results keep timestamps")
t.raises("3 timestamps for 2 values", function() mw.series({1, 2}, {ts = {1, 2, 3}}) end)

-- Bounds errors.
t.raises("series index 5 out of range (length 4)", function() return s[5] end)
t.raises("series index 0 out of range", function() return s[0] end)
t.raises("series index 5 out of range", function() s[5] = 1 end)
t.raises("number has no integer representation", function() return s[1.5] end)
t.raises("element 2 is a string, not a number", function() mw.series{1, "x"} end)
t.raises("bad argument #1 to 'series' (table or series expected, got number)", function() mw.series(3) end)

-- pairs and totable.
local sum = 0
for i, v in pairs(s) do sum = sum + v end
t.eq(sum, 10, "pairs")
t.eq(#s:totable(), 4, "totable")

-- Append: amortised growth; not on a view.
local grow = mw.series{}
for i = 1, 1000 do grow:append(i) end
t.eq(#grow, 1000, "append")
t.eq(grow:sum(), 500500, "appended values")
local withts = mw.series{}
withts:append(1, 111)
t.eq(withts:time(1), 111, "append with a timestamp")

-- Views share the buffer; writes are visible both ways; the base may go.
local base = mw.series.range(1, 10)
local v = base:slice(3, 6)
t.eq(#v, 4, "slice length")
t.eq(v[1], 3, "slice start")
v[1] = -3
t.eq(base[3], -3, "write through a view is visible in the base")
base[4] = -4
t.eq(v[2], -4, "write to the base is visible in the view")
local vv = v:slice(2, 3)
t.eq(vv[1], -4, "slice of a slice")
t.eq(#base:slice(-3), 3, "negative start counts from the end")
t.eq(#base:slice(8, 100), 3, "end clamped")
t.eq(#base:slice(5, 4), 0, "empty slice")
t.raises("cannot append to a slice", function() v:append(1) end)
assert(tostring(v):find("view", 1, true), tostring(v))
base:release()
collectgarbage(); collectgarbage()
t.eq(v[1], -3, "a view keeps the buffer alive after its base is released")
t.eq(vv[2], 5, "so does a view of a view")

-- Arithmetic with broadcasting; length mismatch.
local a, b = mw.series{1, 2, 3}, mw.series{10, 20, 30}
t.eq((a + b):sum(), 66, "series + series")
t.eq((a * 2):sum(), 12, "series * number")
t.eq((10 - a):sum(), 24, "number - series")
t.eq((b / a)[3], 10, "series / series")
t.eq((-a):sum(), -6, "unary minus")
t.eq((a ^ 2):sum(), 14, "power")
t.raises("length mismatch: 3 and 2", function() return a + mw.series{1, 2} end)
t.raises("series or number expected, got string", function() return a + "x" end)

-- Comparisons give masks; where keeps the length (pandas' where).
local m = a:gt(1)
t.eq(m:sum(), 2, "gt mask")
t.eq(a:le(2):sum(), 2, "le")
t.eq(a:eq(b / 10):sum(), 3, "eq against a series")
t.eq(mw.series{0/0}:ne(1)[1], 1, "NaN ~= 1 is true")
local w = a:where(m)
t.eq(#w, 3, "where keeps the length")
assert(w[1] ~= w[1], "where puts NaN where the mask is false")
t.eq(w:sum(), 5, "where keeps the rest")
t.raises("mask of length 2 for a series of 3", function() a:where(mw.series{1, 1}) end)

-- Element-wise and cumulative.
t.eq(mw.series{-1, 2}:abs():sum(), 3, "abs")
near(mw.series{math.exp(1)}:log()[1], 1, "log")
local d = mw.series{1, 4, 9}:diff()
assert(d[1] ~= d[1] and d[2] == 3 and d[3] == 5, "diff")
t.eq(mw.series{1, 2, 3}:cumsum()[3], 6, "cumsum")
local sh = mw.series{1, 2, 3}:shift(1)
assert(sh[1] ~= sh[1] and sh[2] == 1, "shift")
t.eq(mw.series{1, 2, 3}:shift(-1, 0)[3], 0, "shift with fill")
t.eq(mw.series{1, 0/0}:fillna(7)[2], 7, "fillna")

-- Reductions (NaN skipped) and their errors.
local x = mw.series{3, 1, 0/0, 4, 1, 5}
t.eq(x:count(), 5, "count skips NaN")
t.eq(x:sum(), 14, "sum skips NaN")
near(x:mean(), 2.8, "mean")
near(x:var(), 3.2, "var (ddof 1)")
near(x:var(0), 2.56, "var (ddof 0)")
near(x:std(), math.sqrt(3.2), "std")
t.eq(x:min(), 1, "min"); t.eq(x:max(), 5, "max")
t.eq(x:argmin(), 2, "argmin (first)"); t.eq(x:argmax(), 6, "argmax")
t.eq(x:median(), 3, "median")
near(x:quantile(0.25), 1, "quantile")
t.eq(x:mad(), 2, "mad: deviations 0, 2, 1, 2, 2 from 3")
t.eq(mw.series{}:sum(), 0, "sum of nothing is 0")
t.raises("bad argument #1 to 'mean' (no values: the series is empty or all NaN)", function() mw.series{}:mean() end)
t.raises("no values", function() mw.series{0/0}:median() end)
t.raises("needs at least 2 values, has 1", function() mw.series{1}:var() end)
t.raises("quantile must be in [0, 1]", function() x:quantile(1.5) end)

-- Rolling and ewm return series of the same length.
local data = mw.series.range(1, 10)
local rm = data:rolling(3):mean()
t.eq(#rm, 10, "rolling keeps the length")
assert(rm[2] ~= rm[2], "NaN before the window fills")
t.eq(rm[3], 2, "rolling mean")
t.eq(data:rolling(3):sum()[10], 27, "rolling sum")
t.eq(data:rolling(3):min()[10], 8, "rolling min")
t.eq(data:rolling(3):max()[10], 10, "rolling max")
t.eq(data:rolling(3):median()[10], 9, "rolling median")
t.eq(data:rolling(3, 1):mean()[1], 1, "min_periods")
near(data:rolling(3):std()[10], 1, "rolling std")
near(data:rolling(3):var(0)[10], 2 / 3, "rolling var ddof 0")
t.eq(data:rolling(5):quantile(0.5)[10], 8, "rolling quantile")
t.eq(mw.series{2, 2, 2}:ewm(0.5):mean()[3], 2, "ewm mean of a constant")
t.eq(mw.series{2, 2, 2}:ewm(0.5):std()[3], 0, "ewm std of a constant")
t.eq(#mw.series{}:rolling(5):median(), 0, "rolling over an empty series")
local short = mw.series{1}:rolling(5):min()
assert(#short == 1 and short[1] ~= short[1], "window longer than the series")
t.eq(mw.series{1, 2}:rolling(5, 1):quantile(0.5)[2], 1.5, "short series, min_periods 1")
t.raises("window must be 1 or more", function() data:rolling(0) end)
t.raises("min_periods must be in 1..window", function() data:rolling(3, 4) end)
t.raises("alpha must be in (0, 1]", function() data:ewm(0) end)
assert(tostring(data:rolling(3)):find("window = 3", 1, true))

-- tostring: length, type, first and last values, sparkline.
local str = tostring(mw.series.range(1, 100))
assert(str:find("series(100, float64)", 1, true), str)
assert(str:find("[1, 2, 3, ..., 98, 99, 100]", 1, true), str)
assert(str:find("\xe2\x96\x81", 1, true) and str:find("\xe2\x96\x88", 1, true), "sparkline: " .. str)
t.eq(tostring(mw.series{}), "series(0, float64)", "empty tostring")

-- Memory: a series of 1e7 values costs 80 MB plus its headers.
collectgarbage(); collectgarbage(); mw.gc.collect()
local before = mw.mem.stats()
local big = mw.series.zeros(10000000)
local after = mw.mem.stats()
local delta = after.native - before.native
assert(delta >= 80000000 and delta <= 80000000 + 256, "a 1e7 series costs " .. delta .. " bytes")
t.eq(after.objects.buffer.bytes - before.objects.buffer.bytes - 80000000 <= 64, true, "buffer bytes")
big:release()
t.eq(mw.mem.stats().native, before.native, "release returns the 80 MB")


-- Review cases: each was a bug once.
local whole = mw.series{1, 2, 3}:slice()
assert(tostring(whole):find("view", 1, true), "a whole-range slice is a view")
t.raises("cannot append to a slice", function() whole:append(4) end)
t.raises("element 2 is a string, not a number", function() mw.series{1, "3"} end)
t.raises("timestamp 1 is not an integer", function() mw.series({1}, {ts = {"5"}}) end)
t.raises("bad argument #1 to 'series' (table or series expected, got list)",
         function() mw.series(mw.list{}) end)
t.raises("bad argument #1 to 'lt' (series or number expected, got string)",
         function() mw.series{1}:lt("x") end)
t.raises("bad argument #1 to 'lt' (length mismatch: 1 and 2)",
         function() mw.series{1}:lt(mw.series{1, 2}) end)
local _ = mw.series({}, {ts = {}}) * 2   -- no copy of empty timestamps
-- range gives exactly the values of Lua's numeric for.
local function for_values(a, b, c)
  local out = {}
  for v = a, b, c do out[#out + 1] = v end
  return out
end
for _, args in ipairs{{0, 0.7, 0.1}, {1, 2, 0.1}, {math.maxinteger - 2, math.maxinteger, 1},
                      {math.mininteger + 2, math.mininteger, -1}, {5, 1, -2}, {1, 1, 1},
                      {0.5, -0.5, -0.25}} do
  local want = for_values(args[1], args[2], args[3])
  local got = mw.series.range(args[1], args[2], args[3])
  t.eq(#got, #want, "range length for " .. table.concat(args, ", "))
  for i = 1, #want do t.eq(got[i], want[i] + 0.0, "range value " .. i) end
end
t.raises("step too small", function() mw.series.range(1e17, 1e17 + 100, 1) end)
t.raises("range too long", function() mw.series.range(1, math.huge) end)
t.raises("start and stop must be finite", function() mw.series.range(0.5, math.huge) end)
t.eq(#mw.series.range(1, 3.9), 3, "integer start and step: integer loop, limit floored")
-- A failed append leaves the series as it was (no timestamps added).
collectgarbage(); collectgarbage(); mw.gc.collect()
local full = mw.series.zeros(100000)
mw.mem.budget(mw.mem.stats().total + 1000000)
local okb = pcall(full.append, full, 1, 123)
mw.mem.budget(false)
t.eq(okb, false, "append over budget fails")
t.eq(full:hastimes(), false, "and adds no timestamps")
t.eq(#full, 100000, "nor a value")
t.eq(mw.mem.stats().objects.buffer ~= nil, true, "buffer listed in stats")

print("series: ok")
