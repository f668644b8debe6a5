-- detect.lua: the protocol every detector and thresholder keeps (run ==
-- update loop, save/load continuation, NaN skipped, finite scores on
-- constant input, score without learning, reset, corrupt state), and the
-- zscore and ewma detectors against naive implementations.
local t = require "helper"

-- Parameters for kinds that need some (the rest run on their defaults).
local needs = {
  shesd = {period = 50},
}

local data = mw.synth{n = 3000, period = 50, noise = 0.3, anomalies = 6, seed = 11}
local scores_in = data:abs()        -- input for thresholders: non-negative

local same, check_series_equal = t.same, t.equal_values

local function kinds()
  local list = {}
  for _, name in ipairs(mw.detect.names) do list[#list + 1] = {mw.detect, name, data} end
  for _, name in ipairs(mw.thresh.names) do list[#list + 1] = {mw.thresh, name, scores_in} end
  return list
end

local nkinds = 0
for _, k in ipairs(kinds()) do
  local tab, name, input = k[1], k[2], k[3]
  local make = function() return tab[name](needs[name]) end
  nkinds = nkinds + 1
  local what = name

  -- run gives the numbers of update called in a loop
  local a, b = make(), make()
  local ran = a:run(input)
  local looped = {}
  for i = 1, #input do looped[i] = b:update(input[i]) end
  check_series_equal(ran, looped, what .. ": run vs update")
  t.eq(a:count(), #input, what .. ": values learned")
  for i = 1, #input do
    local s = ran[i]
    assert(s == s and s > -math.huge and s < math.huge,
           what .. ": finite score expected at " .. i .. ", got " .. tostring(s))
  end

  -- save in the middle, load, continue: the same scores
  local half = #input // 2
  local c = make()
  c:run(input:slice(1, half))
  local saved = c:save()
  local d = tab.load(saved)
  t.eq(tostring(d), tostring(c), what .. ": loaded detector describes itself the same")
  local rest = input:slice(half + 1, #input)
  check_series_equal(d:run(rest), ran:slice(half + 1, #input), what .. ": save/load continuation")
  check_series_equal(c:clone():run(rest), ran:slice(half + 1, #input), what .. ": clone continuation")

  -- score does not learn; it is what update returns
  local e = make()
  e:run(input:slice(1, half))
  local x = input[half + 1]
  local s1, s2 = e:score(x), e:score(x)
  t.eq(s1, s2, what .. ": score twice")
  t.eq(e:update(x), s1, what .. ": update returns score")
  t.eq(e:count(), half + 1, what .. ": count after update")

  -- reset: like new
  e:reset()
  t.eq(e:count(), 0, what .. ": count after reset")
  check_series_equal(e:run(input), ran, what .. ": after reset")

  -- NaN and infinities are skipped: NaN out, no state change
  local f, g = make(), make()
  local out = {}
  for i = 1, 200 do
    out[#out + 1] = f:update(input[i])
    if i % 37 == 0 then
      local skipped = f:update(0 / 0)
      assert(skipped ~= skipped, what .. ": NaN in, NaN out")
      assert(f:update(math.huge) ~= f:update(math.huge), what .. ": inf in, NaN out")
    end
  end
  check_series_equal(mw.series(out), g:run(input:slice(1, 200)), what .. ": NaN skipped")
  local with_nan = mw.series{1, 0 / 0, 2}
  local r = make():run(with_nan)
  assert(r[2] ~= r[2], what .. ": run gives NaN for NaN")

  -- constant input: finite scores, also for a different value after it
  local h = make()
  local flat = h:run(mw.series.full(1500, 5))
  for i = 1, #flat do assert(flat[i] == flat[i] and math.abs(flat[i]) < math.huge, what .. ": constant input") end
  local after = h:update(6)
  assert(after == after and math.abs(after) < math.huge, what .. ": after constant input: " .. tostring(after))

  -- a corrupt or truncated state is a clear error, never a crash
  for _, at in ipairs{1, 5, 9, #saved // 2, #saved - 3} do
    local bad = saved:sub(1, at - 1) .. string.char((saved:byte(at) + 1) % 256) .. saved:sub(at + 1)
    t.raises("bad detector state", tab.load, bad)
  end
  for _, len in ipairs{0, 3, 10, #saved // 2, #saved - 1} do
    t.raises("bad detector state", tab.load, saved:sub(1, len))
  end
  t.raises("bad detector state", tab.load, saved .. "x")

  -- fields and parameters read back
  t.eq(d.name, (tab == mw.thresh and "thresh." or "") .. name, what .. ": name")
  local info = tab.info(name)
  for _, p in ipairs(info.params) do
    local want = (needs[name] or {})[p.name]
    if want == nil then want = p.default end
    t.eq(a.params[p.name], want, what .. ": parameter " .. p.name)
  end
  assert(tostring(a):find(name, 1, true), what .. ": tostring names the kind")
  t.raises("unknown parameter 'bogus'", tab[name], {bogus = 1})
  a:release(); b:release()
  t.raises("released detector", function() a:update(1) end)
end
assert(nkinds >= 2, "kinds found: " .. nkinds)

-- ---- zscore against a naive windowed mean and std ---------------------

local function naive_zscore(x, window, min_periods, side)
  local out, hist = {}, {}
  for i = 1, #x do
    local n = #hist
    local score = 0
    if n >= min_periods then
      local sum = 0
      for _, v in ipairs(hist) do sum = sum + v end
      local mean = sum / n
      local ss = 0
      for _, v in ipairs(hist) do ss = ss + (v - mean) ^ 2 end
      local z = (x[i] - mean) / math.sqrt(ss / (n - 1))
      if side == "up" then score = math.max(z, 0)
      elseif side == "down" then score = math.max(-z, 0)
      else score = math.abs(z) end
    end
    out[i] = score
    hist[#hist + 1] = x[i]
    if window > 0 and #hist > window then table.remove(hist, 1) end
  end
  return out
end

local function close(a, b, tol, what)
  t.eq(#a, #b, what .. ": length")
  for i = 1, #a do
    local err = math.abs(a[i] - b[i]) / math.max(1, math.abs(b[i]))
    if err > tol then
      error(string.format("%s: value %d: %.17g vs %.17g", what, i, a[i], b[i]), 2)
    end
  end
end

local x = mw.synth{n = 1200, period = 40, noise = 0.5, anomalies = 3, seed = 5}
for _, cfg in ipairs{{50, 10, "both"}, {7, 2, "up"}, {0, 30, "down"}, {200, 200, "both"}} do
  local z = mw.detect.zscore{window = cfg[1], min_periods = cfg[2], side = cfg[3]}
  close(z:run(x), naive_zscore(x, cfg[1], cfg[2], cfg[3]), 1e-9,
        string.format("zscore window=%d min_periods=%d side=%s", cfg[1], cfg[2], cfg[3]))
end
-- a window larger than the data: all history so far
close(mw.detect.zscore{window = 5000, min_periods = 2}:run(x), naive_zscore(x, 0, 2, "both"), 1e-9,
      "zscore window > data")
-- long streams: the sliding figures are recomputed, no drift
local long = mw.synth{n = 200000, level = 1e6, noise = 1, seed = 3}
local zl = mw.detect.zscore{window = 100}:run(long)
local tail = long:slice(#long - 100, #long - 1)
local want = math.abs(long[#long] - tail:mean()) / tail:std()
close({zl[#zl]}, {want}, 1e-9, "zscore after 2e5 values at level 1e6")

-- ---- ewma against its recursion ---------------------------------------

local function naive_ewma(x, alpha, min_periods)
  local out, mean, var = {}, nil, 0
  for i = 1, #x do
    local score = 0
    if i - 1 >= min_periods then
      score = math.abs(x[i] - mean) / math.sqrt(var)
    end
    out[i] = score
    if mean == nil then
      mean, var = x[i], 0
    else
      local diff = x[i] - mean
      mean = mean + alpha * diff
      var = (1 - alpha) * (var + alpha * diff * diff)
    end
  end
  return out
end
close(mw.detect.ewma{alpha = 0.1, min_periods = 5}:run(x), naive_ewma(x, 0.1, 5), 1e-12, "ewma")
close(mw.detect.ewma{alpha = 1, min_periods = 1}:run(mw.series{1, 2, 3}), {0, 1 / 1e-9, 1 / 2e-9}, 1e-12,
      "ewma alpha 1: variance 0, floored scale")

-- ---- detection on injected spikes ---------------------------------------

-- Fraction of the spikes whose score is above the 99th percentile of the
-- scores away from every anomaly.
local function detection_rate(scores, anomalies, kind)
  local away = {}
  local mask = {}
  for _, a in ipairs(anomalies) do
    for i = a.at - 5, a.at + math.max(a.len, 1) + 50 do mask[i] = true end
  end
  for i = 1, #scores do if not mask[i] then away[#away + 1] = scores[i] end end
  table.sort(away)
  local p99 = away[math.floor(#away * 0.99)]
  local hit, total = 0, 0
  for _, a in ipairs(anomalies) do
    if a.kind == kind then
      total = total + 1
      if scores[a.at] > p99 then hit = hit + 1 end
    end
  end
  return hit / total, total
end

local spiky, placed = mw.synth{n = 20000, period = 0, noise = 1, seed = 9, anomalies = (function()
  local list = {}
  for i = 1, 40 do list[i] = {kind = "spike", at = 400 * i + 200, size = 6} end
  return list
end)()}
local rate, total = detection_rate(mw.detect.zscore{window = 300}:run(spiky), placed, "spike")
t.eq(total, 40, "spikes placed")
-- measured: 1.0 (40 of 40 spikes of 6 sigma above the 99th percentile)
assert(rate >= 0.95, "zscore detection rate " .. rate)
rate = detection_rate(mw.detect.ewma{alpha = 0.01}:run(spiky), placed, "spike")
-- measured: 1.0
assert(rate >= 0.95, "ewma detection rate " .. rate)

-- ---- frames, timestamps, errors ----------------------------------------

local stamped = mw.synth{n = 100, start = 1700000000000, step = 60000, seed = 2}
local zs = mw.detect.zscore{window = 20}:run(stamped)
t.eq(zs:time(100), stamped:time(100), "scores keep the input's timestamps")
local f = mw.frame{timestamp = mw.series.range(0, 99) * 1000, value = stamped}
local zf = mw.detect.zscore{window = 20}:run(f)
check_series_equal(zf, zs, "a frame's value column")
t.eq(zf:time(100), 99000, "a frame's timestamp column becomes timestamps")
local f2 = mw.frame{a = stamped, b = stamped}
t.raises("several columns", function() mw.detect.zscore{}:run(f2) end)
check_series_equal(mw.detect.zscore{window = 20}:run(f2, "b"), zs, "a named column")
t.raises("no column 'c'", function() mw.detect.zscore{}:run(f2, "c") end)
t.raises("series or frame expected", function() mw.detect.zscore{}:run({1, 2}) end)

t.raises("window must be an integer in [0, 1000000000], got 1.5", mw.detect.zscore, {window = 1.5})
t.raises("window must be 0 (all history) or at least 2", mw.detect.zscore, {window = 1})
t.raises("min_periods (10) must not exceed window (3)", mw.detect.zscore, {window = 3, min_periods = 10})
t.raises("side must be one of 'both', 'up', 'down' (got 'left')", mw.detect.zscore, {side = "left"})
t.raises("alpha must be a number in (0, 1], got 0", mw.detect.ewma, {alpha = 0})
t.raises("alpha must be a number (got string)", mw.detect.ewma, {alpha = "x"})
t.raises("valid parameters: window, min_periods, side", mw.detect.zscore, {windw = 3})
t.raises("parameter names must be strings", mw.detect.zscore, {3})
t.raises("number expected, got string", function() mw.detect.zscore{}:update("x") end)
t.raises("detector expected", function() mw.detect.zscore{}.update(42, 1) end)
t.raises("not a saved detector state", mw.detect.load, "hello world, this is not a state")

-- chains: copies in a row; the originals are untouched
local z1 = mw.detect.zscore{window = 30}
local e1 = mw.detect.ewma{alpha = 0.2, min_periods = 1}
local ch = mw.detect.chain(z1, e1)
t.eq(z1:count(), 0, "chain copies its stages")
local by_hand = e1:run(z1:run(x))
check_series_equal(ch:run(x), by_hand, "chain == stages by hand")
assert(tostring(ch):find("chain(zscore{window=30", 1, true), tostring(ch))
check_series_equal(mw.detect.load(ch:save()):run(x), mw.detect.chain(z1, e1):run(x),
                   "chain save/load")

-- memory: a detector's native bytes are accounted and given back
t.fullgc()
local before = mw.mem.stats().native
local big = mw.detect.zscore{window = 100000}
t.eq(mw.mem.stats().native - before, big:bytes(), "a detector's bytes are in mw.mem native")
assert(big:bytes() >= 800000, "the window's buffer is counted")
big:release()
t.eq(mw.mem.stats().native, before, "released: back to the figure before")
do
  local closing <close> = mw.detect.zscore{window = 1000}
  assert(mw.mem.stats().native > before)
end
t.eq(mw.mem.stats().native, before, "<close> releases")
t.eq(mw.type(ch), "detector", "mw.type")
mw.release(ch)
assert(mw.isreleased(ch), "mw.release on a detector")

-- A flat stretch after a busy one: once the window holds only equal
-- values its spread is exactly 0 (no residue of the values that left), so
-- another equal value scores 0, in update, run and after save/load. Real
-- data does this (NAB's ec2_disk_write_bytes_1ef3de: zeros after large
-- writes; the rolling figures alone scored 16.4 there).
do
  local values = {}
  for i = 1, 50 do values[i] = 1e6 * (1 + math.sin(i)) end
  for i = 51, 120 do values[i] = 0 end
  local s = mw.series(values)
  for _, name in ipairs{"zscore"} do
    local d = mw.detect[name]{window = 20, min_periods = 20}
    local r = d:run(s)
    for i = 71, 120 do t.eq(r[i], 0.0, name .. ": a flat window scores an equal value 0 at " .. i) end
    local d2 = mw.detect[name]{window = 20, min_periods = 20}
    for i = 1, 100 do d2:update(values[i]) end
    local back = mw.detect.load(d2:save())
    t.eq(back:update(0), 0.0, name .. ": after save/load too")
    assert(back:update(1) > 1e6, name .. ": a change after a flat window is extreme")
  end
end

-- range: against a naive reference (the excess over the running range,
-- in units of it), both sides and one side, with min_periods; and a
-- change from a constant history.
do
  math.randomseed(7)
  local values = {}
  for i = 1, 3000 do
    values[i] = math.random() * 10 + (i % 500 == 0 and (i % 1000 == 0 and 1 or -1) * (20 + i / 25) or 0)
  end
  local s = mw.series(values)
  for _, side in ipairs{"both", "up", "down"} do
    local got = mw.detect.range{side = side, min_periods = 10}:run(s)
    local lo, hi = values[1], values[1]
    for i = 1, #values do
      local x, want = values[i], 0.0
      if i > 10 then
        local r = hi - lo
        if x > hi and side ~= "down" then want = (x - hi) / r end
        if x < lo and side ~= "up" then want = (lo - x) / r end
      end
      if math.abs(got[i] - want) > 1e-12 * math.max(1, want) then
        error(string.format("range %s at %d: %.17g, want %.17g", side, i, got[i], want))
      end
      lo, hi = math.min(lo, x), math.max(hi, x)
    end
  end
  local flags = mw.detect.range{}:run(s):gt(0.05):slice(200)   -- past the first noise
  t.eq(flags:sum(), 6, "range: six growing excursions, each a new extreme beyond 5%")
  local r = mw.detect.range{min_periods = 3}
  for _ = 1, 5 do t.eq(r:update(2.5), 0.0, "range: a constant history scores 0") end
  assert(r:update(2.6) > 1e6, "range: a change from a constant is extreme")
end
