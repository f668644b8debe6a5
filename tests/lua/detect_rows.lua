-- detect_rows.lua: the Lua side of multivariate detectors: rows from a
-- frame (all columns but timestamp, or those named), a list of series, a
-- list of rows, a table or a series per update; the same scores every
-- way; fit; dims; the errors. hbos (deterministic, with fit) stands for
-- every multivariate kind.
local t = require "helper"

local N = 600
local xs, ys, zs, stamps, rows = {}, {}, {}, {}, {}
for i = 1, N do
  xs[i] = math.sin(i * 0.1) * 3 + (i == 500 and 40 or 0)
  ys[i] = math.cos(i * 0.07) * 2
  zs[i] = (i % 17) / 17
  stamps[i] = 1700000000000 + i * 60000
  rows[i] = {xs[i], ys[i], zs[i]}
end
local sx, sy, sz = mw.series(xs), mw.series(ys), mw.series(zs)
local frame = mw.frame{x = sx, y = sy, z = sz, timestamp = mw.series(stamps)}

local function same(a, b, what)
  t.eq(#a, #b, what .. ": lengths")
  for i = 1, #a do
    if not (a[i] == b[i] or (a[i] ~= a[i] and b[i] ~= b[i])) then
      error(string.format("%s: row %d: %s vs %s", what, i, a[i], b[i]), 2)
    end
  end
end

local function kind() return mw.detect.hbos{window = 100} end

-- The same scores from every shape of input, and from update in a loop.
local by_frame = kind():run(frame)
local by_cols = kind():run(frame, {"x", "y", "z"})
local by_series = kind():run{sx, sy, sz}
local by_rows = kind():run(rows)
local looped, d = {}, kind()
for i = 1, N do looped[i] = d:update(rows[i]) end
same(by_frame, by_cols, "frame == frame with its columns named")
same(by_frame, by_series, "frame == list of series")
same(by_frame, by_rows, "frame == list of rows")
same(by_frame, looped, "run == update in a loop")
assert(by_frame[500] > by_frame[499], "the spike row scores higher")
t.eq(by_frame:hastimes(), true, "a frame's timestamps are kept")
t.eq(by_frame:time(3), stamps[3], "the timestamps")
-- Rows as series, score without learning.
local d2 = kind()
for i = 1, 200 do d2:update(mw.series(rows[i])) end
t.eq(d2:count(), 200, "rows learned")
t.eq(d2:dims(), 3, "dims fixed by the first row")
t.eq(d2:score(rows[300]), d2:score(mw.series(rows[300])), "score of a table == of a series")
t.eq(d2:count(), 200, "score learns nothing")
assert(tostring(d2):find("(200 rows of 3 learned)", 1, true), tostring(d2))
-- A subset of the columns, in another order.
local two = kind():run(frame, {"z", "x"})
local two_rows = {}
for i = 1, N do two_rows[i] = {zs[i], xs[i]} end
same(two, kind():run(two_rows), "columns named in order")
-- NaN rows score NaN and teach nothing.
local d3 = kind()
for i = 1, 150 do d3:update(rows[i]) end
local before = d3:save()
assert(d3:update{1, 0 / 0, 2} ~= d3:update{1, 0 / 0, 2}, "a NaN row scores NaN")
t.eq(d3:save(), before, "a NaN row changes nothing")
-- fit: rows at once; kinds without one say so.
local fitted = mw.detect.hbos{online = false}:fit(frame)
t.eq(fitted:count(), N, "fit counts the rows")
t.eq(mw.detect.info("hbos").fit, true, "info: fit")
t.eq(mw.detect.info("hbos").rows, true, "info: rows")
t.eq(mw.detect.info("zscore").rows, false, "info: zscore scores values")
t.raises("zscore has no fit (it learns as it scores)", function() mw.detect.zscore{}:fit(frame) end)
-- Univariate kinds take rows of one; dims.
t.eq(mw.detect.zscore{}:dims(), 1, "a univariate kind's width")
t.eq(kind():dims(), nil, "no width before the first row")
local z = mw.detect.zscore{window = 10}
for i = 1, 20 do z:update{xs[i]} end
t.eq(z:count(), 20, "rows of one")

-- Errors name what was wrong.
local d4 = kind()
d4:update{1, 2, 3}
t.raises("rows of 2 values, but this hbos scores rows of 3", d4.update, d4, {1, 2})
t.raises("rows of 2 values, but this zscore scores rows of 1", function() mw.detect.zscore{}:update{1, 2} end)
t.raises("row value 2 is string, not a number", d4.update, d4, {1, "x", 3})
t.raises("number expected, got boolean", d4.update, d4, true)
t.raises("number, or a row (table of numbers or series) expected", d4.update, d4, frame)
t.raises("no column 'w' in the frame", function() kind():run(frame, {"x", "w"}) end)
t.raises("column 2 has 3 values, column 1 has 600", function() kind():run{sx, mw.series{1, 2, 3}} end)
t.raises("column 2 is number, not a series", function() kind():run{sx, 5} end)
t.raises("row 3 is not a table of 2 numbers", function() kind():run{{1, 2}, {3, 4}, {5}} end)
t.raises("row 2, value 1 is string, not a number", function() kind():run{{1, 2}, {"a", 4}} end)
t.raises("frame, list of series or list of rows expected", function() kind():run(42) end)
local gone = mw.series{1, 2}
gone:release()
t.raises("column 2 is released, not a series", function() kind():run{mw.series{1, 2}, gone} end)
t.raises("a row has 1 to 4096 values (got 5000)", function()
  local wide = {}
  for i = 1, 5000 do wide[i] = 0 end
  kind():update(wide)
end)
-- A finalizer that runs while the rows are read can neither grow the
-- input past the room made for it nor release the detector under us:
-- clean errors, tried until the collector runs at the right moment.
do
  local saved = {collectgarbage("incremental")}
  collectgarbage("generational", 1, 100)
  local s = mw.series.zeros(20000)
  local grew
  for _ = 1, 200 do
    local d = mw.detect.iforest{}
    local cols = {s, s}
    setmetatable({}, {__gc = function() for i = 3, 64 do cols[i] = s end end})
    local ok, e = pcall(d.fit, d, cols)
    if not ok then grew = e; break end
  end
  if grew then assert(grew:find("changed shape", 1, true), grew) end
  local d = mw.detect.knn{}
  local wide = {}
  for i = 1, 4000 do wide[i] = i end
  local released
  for trial = 1, 200 do
    setmetatable({}, {__gc = function() if trial > 1 then d:release() end end})
    local ok, e = pcall(d.update, d, wide)
    if not ok then released = e; break end
  end
  if released then assert(released:find("released detector", 1, true), released) end
  collectgarbage("incremental")
end

-- An empty input: no rows, no scores.
t.eq(#kind():run{}, 0, "no rows")

print("detect_rows: ok")
