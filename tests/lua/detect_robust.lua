-- detect_robust.lua: the robust detectors (mad, quantile, iqr) against a
-- naive reference written here (sort a copy of the window at every step),
-- against numbers from numpy, and the detector contract: update == run,
-- save/load continuation, NaN skipped, constant input, windows longer than
-- the data, parameter errors, corrupt state, detection of injected spikes.
local t = require "helper"

local nan = 0 / 0

-- ---- the naive reference --------------------------------------------------

local function sorted_copy(values)
  local c = table.move(values, 1, #values, 1, {})
  table.sort(c)
  return c
end

-- numpy's default ('linear') quantile: position q (n - 1) between the order
-- statistics around it (the textbook formula, not numpy's rounding-careful
-- one: the two agree to an ulp or two).
local function quantile(sorted, q)
  local n = #sorted
  local position = q * (n - 1)
  local k = math.floor(position)
  if k + 1 >= n then return sorted[n] end
  return sorted[k + 1] + (sorted[k + 2] - sorted[k + 1]) * (position - k)
end

-- mw_detect_standard_score: dev / scale folded by side, the scale floored
-- at 1e-9 |centre| (at least 1e-12).
local function standard(dev, scale, centre, side)
  local floor = math.max(1e-9 * math.abs(centre), 1e-12)
  if not (scale > floor) then scale = floor end
  local z = dev / scale
  if side == "up" then return math.max(z, 0) end
  if side == "down" then return math.max(-z, 0) end
  return math.abs(z)
end

local MAD_SCALE = 1 / 0.6744897501960817     -- 1 / Phi^-1(3/4)
local MEAN_AD_SCALE = math.sqrt(math.pi / 2)
local mad_was_zero = 0                         -- how often the fallback ran

local scorers = {}

function scorers.mad(window, x, p)
  local median = quantile(sorted_copy(window), 0.5)
  local dist = {}
  for i, v in ipairs(window) do dist[i] = math.abs(v - median) end
  table.sort(dist)
  local scale = MAD_SCALE * quantile(dist, 0.5)
  if scale == 0 then
    mad_was_zero = mad_was_zero + 1
    local sum = 0
    for _, v in ipairs(dist) do sum = sum + v end
    scale = MEAN_AD_SCALE * sum / #dist
  end
  return standard(x - median, scale, median, p.side)
end

local function fence(x, low, high, spread, side)
  if x > high and side ~= "down" then return standard(x - high, spread, high, "up") end
  if x < low and side ~= "up" then return standard(x - low, spread, low, "down") end
  return 0
end

function scorers.quantile(window, x, p)
  local s = sorted_copy(window)
  local low, high = quantile(s, p.low), quantile(s, p.high)
  return fence(x, low, high, high - low, p.side)
end

function scorers.iqr(window, x, p)
  local s = sorted_copy(window)
  local q1, q3 = quantile(s, 0.25), quantile(s, 0.75)
  local iqr = q3 - q1
  return fence(x, q1 - p.k * iqr, q3 + p.k * iqr, iqr, p.side)
end

local defaults = {
  mad = {window = 1000, min_periods = 30, side = "both"},
  quantile = {window = 1000, low = 0.01, high = 0.99, min_periods = 100, side = "both"},
  iqr = {window = 1000, k = 1.5, min_periods = 30, side = "both"},
}

local function with_defaults(kind, params)
  local p = {}
  for k, v in pairs(defaults[kind]) do p[k] = v end
  for k, v in pairs(params) do p[k] = v end
  return p
end

-- The scores of xs (a Lua array) by the definition: the window before each
-- value, 0 until min_periods values, NaN for NaN (skipped).
local function reference(kind, params, xs)
  local p = with_defaults(kind, params)
  local window, out = {}, {}
  for i, x in ipairs(xs) do
    if x ~= x then
      out[i] = nan
    else
      out[i] = #window < p.min_periods and 0 or scorers[kind](window, x, p)
      window[#window + 1] = x
      if #window > p.window then table.remove(window, 1) end
    end
  end
  return out
end

local function close(got, want, what)
  if want ~= want then
    assert(got ~= got, what .. ": expected NaN, got " .. tostring(got))
    return
  end
  assert(math.abs(got - want) <= 1e-12 * math.max(1, math.abs(want)),
         string.format("%s: expected %.17g, got %.17g", what, want, got))
end

local function same(a, b, what)
  t.eq(#a, #b, what .. ": length")
  for i = 1, #a do
    local x, y = a[i], b[i]
    if not (x == y or (x ~= x and y ~= y)) then
      error(string.format("%s: differ at %d: %.17g vs %.17g", what, i, x, y), 2)
    end
  end
end

local function describe(kind, params)
  local keys = {}
  for k, v in pairs(params) do keys[#keys + 1] = k .. "=" .. tostring(v) end
  table.sort(keys)
  return kind .. "{" .. table.concat(keys, ", ") .. "}"
end

-- ---- data -------------------------------------------------------------------

-- Continuous data with spikes and a level shift, and tie-heavy integer
-- data (more than half zeros: the MAD is often 0, the window holds many
-- copies of a value, so pushes evict one of several equal values).
local smooth = mw.synth{n = 600, noise = 1, level = 5, seed = 21, anomalies = {
  {kind = "spike", at = 150, size = 8}, {kind = "spike", at = 151, size = -6},
  {kind = "level", at = 400, len = 100, size = 3}}}:totable()
math.randomseed(5)
local ties = {}
for i = 1, 600 do ties[i] = math.random() < 0.6 and 0 or math.random(-3, 3) end
-- and some -0 among the zeros: equal to 0, and must behave as 0
for i = 7, 600, 50 do if ties[i] == 0 then ties[i] = -0.0 end end

local cases = {
  {"mad", {}}, {"mad", {side = "up"}}, {"mad", {side = "down"}},
  {"quantile", {}}, {"quantile", {low = 0.25, high = 0.5, side = "up"}},
  {"quantile", {low = 0, high = 1}}, {"quantile", {low = 0.1, high = 0.9, side = "down"}},
  {"iqr", {}}, {"iqr", {k = 0}}, {"iqr", {k = 3, side = "down"}},
}
-- window 600 holds all but the last value; 5000 is longer than the data
local windows = {2, 3, 7, 64, 600, 5000}

for _, case in ipairs(cases) do
  local kind, base = case[1], case[2]
  for _, window in ipairs(windows) do
    for _, min_periods in ipairs{2, math.min(window, 50)} do
      local params = {window = window, min_periods = min_periods}
      for k, v in pairs(base) do params[k] = v end
      for name, xs in pairs{smooth = smooth, ties = ties} do
        local what = describe(kind, params) .. " on " .. name
        local want = reference(kind, params, xs)
        local got = mw.detect[kind](params):run(mw.series(xs)):totable()
        t.eq(#got, #want, what .. ": length")
        for i = 1, #want do close(got[i], want[i], what .. " at " .. i) end
      end
    end
  end
end
assert(mad_was_zero > 1000, "the MAD was 0 in " .. mad_was_zero .. " windows: fallback untested")

-- ---- numbers from numpy ------------------------------------------------------

--[[ /usr/bin/python3 (numpy 1.24.2):
import numpy as np
from statistics import NormalDist
x = [3.1, 2.7, 3.5, 2.9, 3.0, 9.4, 3.3, 2.8, 3.6, 3.6, -4.0, 3.2]
w, mp = 5, 3
c = 1 / NormalDist().inv_cdf(0.75)
mad, quant, iqr = [], [], []
for i, v in enumerate(x):
    win = np.array(x[max(0, i - w):i])
    if len(win) < mp:
        mad.append(0.0); quant.append(0.0); iqr.append(0.0); continue
    m = np.median(win)
    mad.append(abs(v - m) / (c * np.median(np.abs(win - m))))
    lo, hi = np.quantile(win, [0.1, 0.9])
    quant.append(max(v - hi, lo - v, 0) / (hi - lo))
    q1, q3 = np.quantile(win, [0.25, 0.75])
    r = q3 - q1
    iqr.append(max(v - (q3 + 1.5 * r), (q1 - 1.5 * r) - v, 0) / r)
for name, s in (("mad", mad), ("quantile", quant), ("iqr", iqr)):
    print(name, "= {" + ", ".join(repr(float(a)) for a in s) + "}")
]]
local numpy_x = {3.1, 2.7, 3.5, 2.9, 3.0, 9.4, 3.3, 2.8, 3.6, 3.6, -4.0, 3.2}
local numpy = {
  mad = {0.0, 0.0, 0.0, 0.3372448750980412, 0.0, 43.16734401254919, 0.6744897501960817,
         1.1241495836601367, 2.0234692505882435, 0.6744897501960817, 17.08707367163405,
         0.22482991673202624},
  quantile = {0.0, 0.0, 0.0, 0.0, 0.0, 10.82142857142858, 0.0, 0.03414634146341465, 0.0,
              0.0, 1.7156862745098038, 0.0},
  iqr = {0.0, 0.0, 0.0, 0.0, 0.0, 29.999999999999975, 0.0, 0.0, 0.0, 0.0,
         22.83333333333331, 0.0},
}
local numpy_params = {
  mad = {window = 5, min_periods = 3},
  quantile = {window = 5, min_periods = 3, low = 0.1, high = 0.9},
  iqr = {window = 5, min_periods = 3},
}
for kind, want in pairs(numpy) do
  local d = mw.detect[kind](numpy_params[kind])
  for i, x in ipairs(numpy_x) do close(d:update(x), want[i], kind .. " vs numpy at " .. i) end
end

-- ---- the contract, for each kind ----------------------------------------------

local long = mw.synth{n = 3000, period = 100, noise = 0.3, seed = 4, anomalies = 6}
local long_t = long:totable()
local contract_params = {
  mad = {window = 500},
  quantile = {window = 500, low = 0.05, high = 0.95},
  iqr = {window = 500, k = 2},
}

for kind, params in pairs(contract_params) do
  local what = describe(kind, params)
  local full = mw.detect[kind](params):run(long):totable()

  -- update in a loop gives the numbers of run, bit for bit; score first
  -- gives the same number and changes nothing
  local d = mw.detect[kind](params)
  local looped = {}
  for i, x in ipairs(long_t) do
    local s = d:score(x)
    looped[i] = d:update(x)
    t.eq(s, looped[i], what .. ": score == update at " .. i)
  end
  same(looped, full, what .. ": update loop vs run")
  t.eq(d:count(), #long_t, what .. ": count")

  -- save at a point (before the window fills, and after the ring wrapped
  -- to a middle slot), load, continue: the uninterrupted numbers
  for _, cut in ipairs{200, 1733} do
    local first = mw.detect[kind](params)
    local head = first:run(long:slice(1, cut)):totable()
    local saved = first:save()
    local copy = mw.detect.load(saved)
    t.eq(copy:count(), cut, what .. ": count after load")
    t.eq(copy:save(), saved, what .. ": a loaded state saves the same string")
    local tail = copy:run(long:slice(cut + 1)):totable()
    table.move(tail, 1, #tail, cut + 1, head)
    same(head, full, what .. ": save at " .. cut .. ", load, continue")
    local clone = first:clone()
    same(clone:run(long:slice(cut + 1)):totable(), tail, what .. ": clone continues")
  end

  -- reset: as new
  d:reset()
  t.eq(d:count(), 0, what .. ": count after reset")
  same(d:run(long):totable(), full, what .. ": reset, run again")

  -- NaN is skipped: NaN out, and the following scores are those of the
  -- stream without it
  local holes, kept = {}, {}
  for i, x in ipairs(long_t) do
    if i % 97 == 0 then holes[#holes + 1] = nan end
    holes[#holes + 1] = x
  end
  local with_nan = mw.detect[kind](params):run(mw.series(holes)):totable()
  for i, s in ipairs(with_nan) do
    if holes[i] ~= holes[i] then
      assert(s ~= s, what .. ": NaN in, NaN out at " .. i)
    else
      kept[#kept + 1] = s
    end
  end
  same(kept, full, what .. ": NaN skipped")
  local dn = mw.detect[kind](params)
  dn:run(long:slice(1, 600))
  local before = dn:save()
  local skipped = dn:update(nan)
  assert(skipped ~= skipped, what .. ": update(NaN) is NaN")
  local infinite = dn:update(math.huge)
  assert(infinite ~= infinite, what .. ": update(inf) is NaN")
  t.eq(dn:save(), before, what .. ": NaN and inf change nothing")

  -- constant input (zero spread): finite scores; the constant scores 0,
  -- anything else a large finite score
  for _, c in ipairs{7.5, 0, -1e6} do
    local dc = mw.detect[kind]{window = 50, min_periods = 10}
    local scores = dc:run(mw.series.full(120, c))
    t.eq(scores:max(), 0, what .. ": constant " .. c .. " scores 0")
    for _, off in ipairs{1e-3, -1e-3, 1e6, -1e6} do
      local s = dc:score(c + off)
      assert(s > 1 and s < math.huge, what .. ": constant " .. c .. ", offset " .. off ..
             ": finite, large score, got " .. s)
    end
  end

  -- a window longer than the data: all the history (also in the reference
  -- comparisons above); the memory is taken at creation
  local whole = {}
  for k, v in pairs(params) do whole[k] = v end
  whole.window, whole.min_periods = 1e6, 10
  local big = mw.detect[kind](whole)
  assert(big:bytes() >= 16e6, what .. ": two arrays of 1e6 doubles, got " .. big:bytes())
  local want = reference(kind, whole, table.move(long_t, 1, 300, 1, {}))
  local got = big:run(long:slice(1, 300)):totable()
  for i = 1, 300 do close(got[i], want[i], what .. ": window > data at " .. i) end
  big:release()

  -- corrupt state: a flipped byte and a truncation are reported
  local saved = d:save()
  local mid = #saved // 2
  local flipped = saved:sub(1, mid - 1) .. string.char(saved:byte(mid) ~ 0x20) .. saved:sub(mid + 1)
  t.raises("checksum mismatch", mw.detect.load, flipped)
  t.raises("bad detector state", mw.detect.load, saved:sub(1, -2))
  t.raises("bad detector state", mw.detect.load, saved:sub(1, 20))
end

-- The MAD fallback, by hand: 60 zeros and 40 ones have MAD 0; the mean
-- absolute deviation from the median 0 is 0.4, so 1 scores
-- 1 / (sqrt(pi / 2) * 0.4).
local mostly = {}
for i = 1, 100 do mostly[i] = i % 5 < 3 and 0 or 1 end
local dm = mw.detect.mad{window = 100}
dm:run(mw.series(mostly))
close(dm:score(1), 1 / (MEAN_AD_SCALE * 0.4), "mad: mean absolute deviation fallback")
t.eq(dm:score(0), 0, "mad: the median scores 0")
close(dm:score(-2), 2 / (MEAN_AD_SCALE * 0.4), "mad: below")

-- side folds the deviation
local dside = mw.detect.mad{window = 20, min_periods = 5, side = "up"}
dside:run(mw.series{1, 2, 3, 4, 5, 6})
t.eq(dside:score(0), 0, "side up: below counts 0")
assert(dside:score(10) > 0, "side up: above counts")

-- defaults, visible as fields
t.eq(mw.detect.mad().params.window, 1000, "mad window default")
t.eq(mw.detect.mad().params.min_periods, 30, "mad min_periods default")
t.eq(mw.detect.quantile().params.low, 0.01, "quantile low default")
t.eq(mw.detect.quantile().params.high, 0.99, "quantile high default")
t.eq(mw.detect.quantile().params.min_periods, 100, "quantile min_periods default")
t.eq(mw.detect.iqr().params.k, 1.5, "iqr k default")
t.eq(mw.detect.iqr().params.side, "both", "iqr side default")
t.eq(tostring(mw.detect.iqr{window = 40, k = 3}),
     'iqr{window=40, k=3, min_periods=30, side="both"} (0 values learned)', "tostring")

-- ---- parameter errors --------------------------------------------------------

local errors = {
  {"mad", {window = 1}, "window must be an integer in [2, 10000000], got 1"},
  {"mad", {window = 2.5}, "window must be an integer in [2, 10000000], got 2.5"},
  {"mad", {window = 1e8}, "window must be an integer in [2, 10000000], got 100000000"},
  {"mad", {min_periods = 1}, "min_periods must be an integer in [2, 10000000], got 1"},
  {"mad", {window = 20}, "min_periods (30) must not exceed window (20)"},
  {"mad", {side = "sideways"}, "side must be one of 'both', 'up', 'down' (got 'sideways')"},
  {"mad", {side = 1}, "side must be one of 'both', 'up', 'down'"},
  {"mad", {alpha = 0.1}, "unknown parameter 'alpha'; valid parameters: window, min_periods, side"},
  {"quantile", {low = -0.1}, "low must be a number in [0, 1], got -0.10000000000000001"},
  {"quantile", {high = 0}, "high must be a number in (0, 1], got 0"},
  {"quantile", {high = 1.5}, "high must be a number in (0, 1], got 1.5"},
  {"quantile", {low = 0.6, high = 0.4}, "low (0.59999999999999998) must be below high (0.40000000000000002)"},
  {"quantile", {low = 0.5, high = 0.5}, "low (0.5) must be below high (0.5)"},
  {"quantile", {window = 50}, "min_periods (100) must not exceed window (50)"},
  {"quantile", {low = "a"}, "low must be a number (got string)"},
  {"iqr", {k = -1}, "k must be a number in [0, 1000000], got -1"},
  {"iqr", {k = math.huge}, "k must be a number in [0, 1000000], got inf"},
  {"iqr", {window = 10, min_periods = 11}, "min_periods (11) must not exceed window (10)"},
  {"iqr", {bogus = 1}, "unknown parameter 'bogus'; valid parameters: window, k, min_periods, side"},
}
for _, e in ipairs(errors) do
  t.raises(e[3], mw.detect[e[1]], e[2])
end

-- ---- detection of injected spikes ---------------------------------------------

-- The fraction of the spikes in `at` whose score is above the 99th
-- percentile of the scores of the samples that are no anomaly.
local function detection_rate(scores, at, marked)
  local outside = {}
  for i = 1, #scores do
    if not marked[i] then outside[#outside + 1] = scores[i] end
  end
  local p99 = mw.series(outside):quantile(0.99)
  local hits = 0
  for _, i in ipairs(at) do
    if scores[i] > p99 then hits = hits + 1 end
  end
  return hits / #at
end

-- 40 spikes of +-size noise sds, every 450 samples from 1500; with
-- `heavy`, also a spike of 40 sds every 47 samples (2% of the data).
local function spiked(size, heavy, period)
  local list, marked, at = {}, {}, {}
  for i = 0, 39 do
    local where = 1500 + 450 * i
    list[#list + 1] = {kind = "spike", at = where, size = i % 2 == 0 and size or -size}
    marked[where] = true
    at[#at + 1] = where
  end
  if heavy then
    for where = 1010, 20000, 47 do
      if not marked[where] then
        list[#list + 1] = {kind = "spike", at = where, size = 40}
        marked[where] = true
      end
    end
    table.sort(list, function(a, b) return a.at < b.at end)
  end
  local s = mw.synth{n = 20000, noise = 0.5, period = period, amplitude = 1, seed = 11,
                     anomalies = list}
  return s, at, marked
end

-- Seasonal data (period 200, amplitude 2 noise sds), spikes of 6 sds,
-- default parameters. Measured: mad 0.925, quantile 0.900, iqr 0.575
-- (the fences are wide on a seasonal window: spikes at the trough stay
-- inside them).
local s, at, marked = spiked(6, false, 200)
local floors = {mad = 0.85, quantile = 0.85, iqr = 0.5}
for kind, floor in pairs(floors) do
  local rate = detection_rate(mw.detect[kind]():run(s):totable(), at, marked)
  assert(rate >= floor, string.format("%s: seasonal spikes detected %.3f < %.3f", kind, rate, floor))
end

-- Contaminated data: 2% of heavy spikes inflate the standard deviation
-- but not the median and MAD nor the quartiles; spikes of 4 sds. Measured:
-- mad 1.000, iqr 0.975, quantile with 5%/95% fences 1.000 (with the
-- default 1%/99% fences 0.500: the high fence sits on the heavy spikes);
-- zscore 0.000.
s, at, marked = spiked(4, true, 0)
local contaminated = {
  {"mad", {}, 0.95}, {"iqr", {}, 0.9}, {"quantile", {low = 0.05, high = 0.95}, 0.95},
}
for _, c in ipairs(contaminated) do
  local rate = detection_rate(mw.detect[c[1]](c[2]):run(s):totable(), at, marked)
  assert(rate >= c[3], string.format("%s: spikes among heavy spikes detected %.3f < %.3f",
                                     c[1], rate, c[3]))
end
local zrate = detection_rate(mw.detect.zscore():run(s):totable(), at, marked)
assert(zrate < 0.2, "zscore was expected to miss them (the contrast), got " .. zrate)

print("detect_robust: ok")
