-- scale.lua: mw.scale.minmax and mw.scale.standard against naive running
-- figures, run == update, save/load continuation, NaN rows, widths,
-- options, errors and memory.
local t = require "helper"

local function close(got, want, tol, what)
  t.eq(#got, #want, what .. ": width")
  for k = 1, #want do
    local err = math.abs(got[k] - want[k]) / math.max(1, math.abs(want[k]))
    if not (err <= tol) then
      error(string.format("%s: value %d: %.17g, want %.17g", what, k, got[k], want[k]), 2)
    end
  end
end

local function same(a, b) return a == b or (a ~= a and b ~= b) end

-- rows of 3 features on very different scales, seeded
local a = mw.synth{n = 500, noise = 1, seed = 1}
local b = mw.synth{n = 500, noise = 1, level = 1e6, seed = 2} * 1000
local c = mw.synth{n = 500, noise = 0.01, seed = 3}
local rows = {}
for i = 1, 500 do rows[i] = {a[i], b[i], c[i]} end

-- naive figures over rows[1..n]
local function naive(n)
  local lo, hi, mean, var = {}, {}, {}, {}
  for k = 1, 3 do
    local s = 0
    lo[k], hi[k] = math.huge, -math.huge
    for i = 1, n do
      local v = rows[i][k]
      s = s + v
      lo[k], hi[k] = math.min(lo[k], v), math.max(hi[k], v)
    end
    mean[k] = s / n
    local ss = 0
    for i = 1, n do ss = ss + (rows[i][k] - mean[k]) ^ 2 end
    var[k] = ss / n
  end
  return lo, hi, mean, var
end

local mm, st = mw.scale.minmax{}, mw.scale.standard{}
for i = 1, 500 do
  local got_m, got_s = mm:update(rows[i]), st:update(rows[i])
  if i % 97 == 0 or i == 1 or i == 2 then
    local lo, hi, mean, var = naive(i)
    local want_m, want_s = {}, {}
    for k = 1, 3 do
      local range = hi[k] - lo[k]
      want_m[k] = (rows[i][k] - lo[k]) / (range > 0 and range or 1)
      local sd = math.sqrt(var[k])
      want_s[k] = (rows[i][k] - mean[k]) / (sd >= 1e-12 * math.max(1, math.abs(mean[k])) and sd or 1)
    end
    close(got_m, want_m, 1e-12, "minmax at " .. i)
    close(got_s, want_s, 1e-6, "standard at " .. i)
    for k = 1, 3 do assert(got_m[k] >= 0 and got_m[k] <= 1, "minmax update in [0, 1]") end
  end
end
t.eq(mm:count(), 500, "rows learned")
t.eq(mm:dims(), 3, "width")
t.eq(mm:kind(), "minmax", "kind")
-- the first row: minmax 0, standard 0 (no spread yet)
close(mw.scale.minmax{}:update{5, 6}, {0, 0}, 0, "minmax first row")
close(mw.scale.standard{}:update{5, 6}, {0, 0}, 0, "standard first row")
-- transform does not learn; beyond the range is beyond [0, 1] unless clipped
local before = mm:count()
local far = mm:transform{1e9, 0, 0}
t.eq(mm:count(), before, "transform learns nothing")
assert(far[1] > 1, "minmax transform beyond the range")
local clipped = mw.scale.minmax{clip = true}
clipped:run(rows)
close(clipped:transform{1e9, -1e300, 0.0}, {1, 0, clipped:transform{1e9, -1e300, 0.0}[3]}, 0,
      "clip")

-- run == update in a loop, on a frame (names and timestamps kept), a list
-- of series and a list of rows
local frame = mw.frame{timestamp = mw.series.range(1, 500), a = a, b = b, c = c}
for _, kind in ipairs{"minmax", "standard"} do
  local s1, s2, s3, s4 = mw.scale[kind](), mw.scale[kind](), mw.scale[kind](), mw.scale[kind]()
  local out = s1:run(frame)
  t.eq(out.timestamp[500], 500, kind .. ": timestamps kept")
  local lists = s3:run{a, b, c}
  local by_rows = s4:run(rows)
  for i = 1, 500 do
    local r = s2:update(rows[i])
    for k, name in ipairs{"a", "b", "c"} do
      assert(same(out[name][i], r[k]), kind .. ": run vs update at " .. i)
      assert(same(lists["x" .. k][i], r[k]), kind .. ": list of series at " .. i)
      assert(same(by_rows["x" .. k][i], r[k]), kind .. ": list of rows at " .. i)
    end
  end
  -- chosen columns, in the order given
  local two = mw.scale[kind]():run(frame, {"c", "a"})
  local ref = mw.scale[kind]():run{c, a}
  t.eq(two.c[10], ref.x1[10], kind .. ": a chosen column")
  t.eq(two.a[10], ref.x2[10], kind .. ": chosen columns in their order")
  t.raises("distinct", function() mw.scale[kind]():run(frame, {"a", "a"}) end)

  -- save in the middle, load, continue exactly
  local half = mw.scale[kind]()
  for i = 1, 250 do half:update(rows[i]) end
  local saved = half:save()
  local back = mw.scale.load(saved)
  t.eq(tostring(back), tostring(half), kind .. ": loaded describes itself the same")
  t.eq(back:bytes(), half:bytes(), kind .. ": bytes after load")
  for i = 251, 500 do
    local r1, r2 = back:update(rows[i]), half:update(rows[i])
    for k = 1, 3 do t.eq(r1[k], r2[k], kind .. ": continuation at " .. i) end
  end
  for _, at in ipairs{1, 5, 7, #saved // 2, #saved - 3} do
    local bad = saved:sub(1, at - 1) .. string.char((saved:byte(at) + 1) % 256) .. saved:sub(at + 1)
    t.raises("bad scaler state", mw.scale.load, bad)
  end
  for _, len in ipairs{0, 3, 10, #saved - 1} do
    t.raises("bad scaler state", mw.scale.load, saved:sub(1, len))
  end
  t.raises("bad scaler state", mw.scale.load, saved .. "x")
  -- a scaler saved before any row
  local empty = mw.scale.load(mw.scale[kind]():save())
  t.eq(empty:dims(), nil, kind .. ": no width before a row")

  -- NaN rows are not learned; their values are scaled one by one
  local e, f = mw.scale[kind](), mw.scale[kind]()
  for i = 1, 100 do
    e:update(rows[i]); f:update(rows[i])
    if i % 10 == 0 then
      local r = e:update{0 / 0, rows[i][2], math.huge}
      assert(r[1] ~= r[1], kind .. ": NaN stays NaN")
      t.eq(r[2], f:transform(rows[i])[2], kind .. ": the finite value is scaled")
    end
  end
  t.eq(e:count(), 100, kind .. ": NaN rows not learned")
  t.eq(e:save(), f:save(), kind .. ": same state with and without the NaN rows")

  -- reset, width, errors
  e:reset()
  t.eq(e:count(), 0, kind .. ": reset")
  t.raises("rows of 2 values, but this scaler scales rows of 3", e.update, e, {1, 2})
  t.raises("a row has 1 to 4096 values (got 0)", e.update, e, {})
  t.raises("has learned no row yet", function() mw.scale[kind]():transform{1} end)
  t.raises("not a number", e.update, e, {1, "x", 3})
  -- into a series
  local into = mw.series{0, 0, 0}
  t.eq(f:update(rows[1], into), into, kind .. ": writes into the series given")
  t.raises("the series has 2 values, the row 3", f.update, f, rows[1], mw.series{0, 0})
  -- a series as the row
  local as_series = mw.scale[kind]()
  as_series:run(rows)
  close(as_series:transform(mw.series(rows[7])), as_series:transform(rows[7]), 0, kind .. ": series row")

  -- memory: the struct and two doubles a feature
  local m = mw.scale[kind]()
  local base = m:bytes()
  m:update{1, 2, 3, 4, 5}
  t.eq(m:bytes() - base, 5 * 2 * 8, kind .. ": bytes per feature")
  -- release and close
  m:release()
  t.raises("released scaler", m.update, m, {1, 2, 3, 4, 5})
  do
    local closing <close> = mw.scale[kind]()
    closing:update{1}
  end
end

-- min_periods: NaN until enough rows
local late = mw.scale.standard{min_periods = 3}
local r1 = late:update{1}
assert(r1[1] ~= r1[1], "NaN before min_periods")
late:update{2}
close(late:update{3}, {(3 - 2) / math.sqrt(2 / 3)}, 1e-12, "standard at min_periods")
-- options
close(mw.scale.standard{with_mean = false}:run({{2}, {4}}).x1, {2 / 1, 4 / 1}, 1e-12, "with_mean=false")
close(mw.scale.standard{with_std = false}:run({{2}, {4}}).x1, {0, 1}, 1e-12, "with_std=false")
-- a constant feature: 0 for its value, x - value beyond it
local const = mw.scale.standard{}
for _ = 1, 10 do close(const:update{7}, {0}, 0, "constant feature") end
close(const:transform{8}, {1}, 0, "constant feature, another value")
t.raises("unknown parameter 'window'; valid parameters: min_periods, clip", mw.scale.minmax, {window = 3})
t.raises("min_periods must be an integer in [1, 1e9]", mw.scale.standard, {min_periods = 0})
t.raises("clip must be a boolean (got number)", mw.scale.minmax, {clip = 1})
t.raises("bad scaler state: not a saved scaler state", mw.scale.load, "hello")

-- scaling makes knn see every feature: a spike of 8 sigma in a (units of
-- 1) drowns in b's spread (units of 1000) until the rows are standardised
local spiky = {}
for i = 1, 500 do spiky[i] = {rows[i][1], rows[i][2], rows[i][3]} end
spiky[400][1] = spiky[400][1] + 8
local function rank_of(scores, at)
  local above = 0
  for i = 201, 500 do if scores[i] > scores[at] then above = above + 1 end end
  return above + 1
end
local raw_rank = rank_of(mw.detect.knn{window = 200}:run(spiky), 400)
local scaled_rank = rank_of(mw.detect.knn{window = 200}:run(mw.scale.standard{}:run(spiky)), 400)
print(string.format("rank of the spike among 300 rows: raw %d, standardised %d", raw_rank, scaled_rank))
t.eq(scaled_rank, 1, "standardised: the spike scores highest")
assert(raw_rank > 20, "raw: the spike is lost in b's spread")
