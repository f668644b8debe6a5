-- detect_seasonal.lua: the holt_winters, esd and shesd detectors.
--
-- Each is checked against an independent reference written plainly here
-- (a naive generalised ESD that sorts and removes values one at a time,
-- a naive S-H-ESD, the Holt-Winters recursion), against published or
-- library numbers (the NIST handbook's run of Rosner's example,
-- statsmodels' Holt-Winters fitted values), for its detection rate on
-- mw.synth data, and for the detector contract: update loop == run, score
-- == update without a trace, save/load mid-stream, NaN skipped, constant
-- input, a window longer than the data, parameter errors, corrupt state.
-- The batch test of esd and shesd (d:test on a whole series) against the
-- same naive tests run once on the whole series, Rosner's example, and
-- the streaming scores on the same sample.
local t = require "helper"

local NAN = 0 / 0

-- ---- helpers --------------------------------------------------------------

local function to_table(s)
  local out = {}
  for i = 1, #s do out[i] = s[i] end
  return out
end

-- Element-wise ==, NaN equal to NaN.
local function same(a, b, what)
  t.eq(#a, #b, what .. ": length")
  for i = 1, #a do
    local x, y = a[i], b[i]
    if not (x == y or (x ~= x and y ~= y)) then
      error(string.format("%s: differ at %d: %.17g vs %.17g", what, i, x, y), 2)
    end
  end
end

local function close(got, want, rtol, what)
  if got ~= got and want ~= want then return end -- NaN where NaN is expected
  local err = math.abs(got - want) / math.max(math.abs(want), 1e-300)
  if not (err <= rtol or got == want) then
    error(string.format("%s: got %.17g, want %.17g (relative error %g)", what, got, want, err), 2)
  end
end

local function all_close(got, want, rtol, what)
  t.eq(#got, #want, what .. ": length")
  for i = 1, #want do close(got[i], want[i], rtol, what .. " at " .. i) end
end

local function all_finite(s, what)
  for i = 1, #s do
    local v = s[i]
    if not (v == v and v > -math.huge and v < math.huge) then
      error(string.format("%s: score %d is %s", what, i, tostring(v)), 2)
    end
  end
end

-- The contract every kind must keep, on the values xs (a Lua array):
-- run == update loop == score-then-update (score leaves no trace),
-- save/load at every cut continues identically, reset starts afresh,
-- NaN skipped, and the memory figure does not move.
local function contract(make, xs, cuts, what)
  local series = mw.series(xs)
  local d = make()
  local bytes = d:bytes()
  local ran = to_table(d:run(series))
  t.eq(d:bytes(), bytes, what .. ": memory is allocated once")
  t.eq(d:count(), #xs, what .. ": values learned")
  all_finite(ran, what)
  local loop, peeks = {}, {}
  local e = make()
  for i, x in ipairs(xs) do
    peeks[i] = e:score(x)
    e:score(x + 1) -- another value scored in between changes nothing
    loop[i] = e:update(x)
  end
  same(loop, ran, what .. ": update loop vs run")
  same(peeks, ran, what .. ": score vs update")
  for _, cut in ipairs(cuts) do
    local a = make()
    for i = 1, cut do a:update(xs[i]) end
    local b = mw.detect.load(a:save())
    t.eq(b:count(), cut, what .. ": count after load")
    t.eq(b:save(), a:save(), what .. ": save(load(s)) == s")
    local rest = {}
    for i = cut + 1, #xs do rest[#rest + 1] = b:update(xs[i]) end
    same(rest, table.move(ran, cut + 1, #xs, 1, {}), what .. ": continued after load at " .. cut)
  end
  d:reset()
  t.eq(d:count(), 0, what .. ": reset count")
  same(to_table(d:run(series)), ran, what .. ": after reset")
  -- NaN skipped: scores NaN there, the others as without them.
  local holed, where = {}, {}
  for i, x in ipairs(xs) do
    if i % 37 == 5 then holed[#holed + 1] = NAN; where[#holed] = true end
    holed[#holed + 1] = x
  end
  local h = to_table(make():run(mw.series(holed)))
  local kept = {}
  for i = 1, #holed do
    if where[i] then
      assert(h[i] ~= h[i], what .. ": NaN in, NaN out")
    else
      kept[#kept + 1] = h[i]
    end
  end
  same(kept, ran, what .. ": NaN skipped")
  return ran
end

-- mw_blob_checksum (src/detect/blob.c), to forge states that pass the
-- container's check and reach a kind's own validation.
local checksum = t.checksum

local reseal = t.reseal

-- Where a kind's own state starts in a saved string: after "MWDS", the
-- version, the name, the parameters and the count (detect.c).
local function state_at(s)
  local _, pos = string.unpack("<s1", s, 6)
  local n_params
  n_params, pos = string.unpack("<B", s, pos)
  return pos + 8 * n_params + 8
end

-- s with the bytes at pos replaced by bytes, resealed.
local function forge(s, pos, bytes)
  local body = s:sub(1, -9)
  return reseal(body:sub(1, pos - 1) .. bytes .. body:sub(pos + #bytes))
end

local function corrupt(d, what)
  local s = d:save()
  t.eq(mw.detect.load(s):save(), s, what .. ": the state loads")
  local mid = #s // 2
  local flipped = s:sub(1, mid - 1) .. string.char(s:byte(mid) ~ 0x10) .. s:sub(mid + 1)
  t.raises("checksum mismatch", mw.detect.load, flipped)
  t.raises("bad detector state", mw.detect.load, s:sub(1, -2))
  t.raises("truncated", mw.detect.load, reseal(s:sub(1, -18)))
end

-- The fraction of anomalies whose highest score inside beats the 99th
-- percentile of the scores outside every anomaly (after warm-up).
local function detection_rate(make, cases)
  local hits, total = 0, 0
  for _, c in ipairs(cases) do
    local scores = make():run(c.series)
    local inside = {}
    for _, a in ipairs(c.anomalies) do
      for i = a.at, a.at + math.max(a.len or 1, 1) - 1 do inside[i] = true end
    end
    local outside = {}
    for i = c.warm + 1, #scores do
      if not inside[i] then outside[#outside + 1] = scores[i] end
    end
    table.sort(outside)
    local q99 = outside[math.floor(0.99 * #outside)]
    for _, a in ipairs(c.anomalies) do
      local top = -math.huge
      for i = a.at, a.at + math.max(a.len or 1, 1) - 1 do top = math.max(top, scores[i]) end
      total = total + 1
      if top > q99 then hits = hits + 1 end
    end
  end
  return hits / total
end

-- Spikes of +-size noise deviations, 20 a series, spread after warm.
local function spiky(n, period, noise, size, seed, warm)
  local list = {}
  local gap = (n - warm - 200) // 20
  for k = 1, 20 do
    list[k] = {kind = "spike", at = warm + 100 + (k - 1) * gap + (seed * 37 + k * 11) % (gap // 2),
               size = k % 2 == 0 and size or -size}
  end
  local s = mw.synth{n = n, period = period, noise = noise, anomalies = list, seed = seed}
  return {series = s, anomalies = list, warm = warm}
end

-- ---- critical values from scipy --------------------------------------------

-- lambda[alpha][m]: the ESD critical value with m values remaining
-- (m = 3 .. 64), made by (scipy 1.10.1, /usr/bin/python3):
--
--   from scipy import stats
--   for alpha in (0.05, 0.01):
--       lam = []
--       for m in range(3, 65):                 # m values remaining: n - i + 1
--           t = stats.t.isf(alpha / (2 * m), m - 2)
--           lam.append(t * (m - 1) / ((m - 2 + t * t) * m) ** 0.5)
--       print("[%r] = {%s}," % (alpha, ", ".join("%.17g" % v for v in lam)))
local LAMBDA = {}
do
  local lists = {
    [0.05] = {1.1543048513440384, 1.48125, 1.7150373121065825, 1.8871451177924217,
      2.0199685076806557, 2.1266450871956275, 2.2150042233255633, 2.2899540844796067,
      2.3547300515655398, 2.4115595184316527, 2.4620328685426989, 2.5073208538648353,
      2.5483077688336788, 2.5856763388293675, 2.6199636386387599, 2.6515991193366926,
      2.6809310962387949, 2.7082456454361061, 2.7337803566976797, 2.7577345243835643,
      2.7802768213172593, 2.8015511614535273, 2.821681237733705, 2.8407740764172633,
      2.8589228513310809, 2.8762091343069209, 2.8927047112054187, 2.9084730597227315,
      2.9235705613300622, 2.9380475023499479, 2.9519489064050726, 2.9653152309733071,
      2.9781829536387021, 2.9905850682055775, 3.0025515066900264, 3.0141094999960898,
      3.0252838875875772, 3.0360973845091821, 3.0465708125649904, 3.0567233012340882,
      3.0665724629205107, 3.0761345463444574, 3.0854245712422754, 3.0944564470226879,
      3.1032430776017033, 3.1117964542894812, 3.1201277383143715, 3.1282473343306116,
      3.1361649560574847, 3.1438896850317293, 3.1514300233157986, 3.1587939408873145,
      3.1659889183361001, 3.1730219854111987, 3.1798997558889779, 3.1866284591724812,
      3.1932139689801415, 3.1996618294372734, 3.2059772788452632, 3.2121652713702784,
      3.2182304968645088, 3.2241773990081732},
    [0.01] = {1.1546847100299753, 1.4962499999999705, 1.7636784794977869, 1.9728167175443085,
      2.1391059896012203, 2.2743651271139984, 2.3868098750782796, 2.4820832497171001,
      2.5641212520017671, 2.6357330437346365, 2.6989718640398541, 2.755372404941574,
      2.8061052912205966, 2.8520798130619087, 2.8940137954244269, 2.9324821543932846,
      2.9679513293748552, 3.0008041587489247, 3.0313581539933661, 3.0598791335206967,
      3.0865915828311628, 3.1116865231590722, 3.1353276882111625, 3.1576563376221634,
      3.1787950779848195, 3.1988509194454835, 3.2179177419513323, 3.2360783011390772,
      3.2534058719727752, 3.2699656049185206, 3.2858156522011304, 3.301008108808857,
      3.3155898032003703, 3.3296029652792183, 3.3430857935316243, 3.3560729388391066,
      3.3685959190612231, 3.3806834758032314, 3.3923618826659503, 3.4036552125918451,
      3.4145855705751793, 3.4251732969213218, 3.4354371453647179, 3.4453944396432568,
      3.4550612115453871, 3.464452322969104, 3.4735815741386, 3.4824617997985889,
      3.4911049549355688, 3.4995221913492593, 3.5077239262080968, 3.5157199035634887,
      3.5235192496631429, 3.5311305227901078, 3.5385617582575746, 3.5458205091071684,
      3.5529138829882028, 3.5598485756350793, 3.5666309013082773, 3.573266820519748,
      3.5797619653250305, 3.5861216624309957},
  }
  for alpha, list in pairs(lists) do
    LAMBDA[alpha] = {}
    for i, v in ipairs(list) do LAMBDA[alpha][i + 2] = v end
  end
end

-- ---- a naive generalised ESD -------------------------------------------------

local function sorted(values)
  local c = table.move(values, 1, #values, 1, {})
  table.sort(c)
  return c
end

local function median_of(values)
  local s = sorted(values)
  local m = #s
  local mid = (m + 1) // 2
  if m % 2 == 1 then return s[mid] end
  return 0.5 * s[mid] + 0.5 * s[mid + 1]
end

local function mean_sd(values)
  local sum = 0
  for _, v in ipairs(values) do sum = sum + v end
  local mean = sum / #values
  local squares = 0
  for _, v in ipairs(values) do squares = squares + (v - mean) ^ 2 end
  return mean, math.sqrt(squares / (#values - 1))
end

-- Centre and scale of a sample: median and 1.4826 * MAD (the standard
-- deviation when the MAD is 0), or mean and standard deviation; floored.
local function centre_scale(values, robust)
  local c, s
  if robust then
    c = median_of(values)
    local devs = {}
    for i, v in ipairs(values) do devs[i] = math.abs(v - c) end
    s = 1.4826 * median_of(devs)
    if s == 0 then
      local _, sd = mean_sd(values)
      s = sd
    end
  else
    c, s = mean_sd(values)
  end
  return c, math.max(s, 1e-9 * math.abs(c), 1e-12)
end

local function esd_steps(n, max_anoms)
  return math.min(math.max(math.floor(max_anoms * n), 1), n - 3)
end

-- The score of x in the sample `values` (gesd.h): remove the farthest
-- value k times (the larger on a tie), keeping R / lambda per step.
local function esd_score_naive(values, x, k, robust, lambda)
  local cur = table.move(values, 1, #values, 1, {})
  local removed, best, last = false, 0, 0
  for _ = 1, k do
    local m = #cur
    local lo, hi = math.huge, -math.huge
    for _, v in ipairs(cur) do lo = math.min(lo, v); hi = math.max(hi, v) end
    if lo == hi then removed = true; last = 0; break end
    local c, s = centre_scale(cur, robust)
    local at, far = nil, -1
    for j, v in ipairs(cur) do
      local dev = math.abs(v - c)
      if dev > far or (dev == far and v > cur[at]) then at, far = j, dev end
    end
    local v = table.remove(cur, at)
    local ratio = far / s / lambda[m]
    if removed then
      best = math.max(best, ratio)
    elseif v == x then
      removed, best = true, ratio
    end
    last = ratio
  end
  if removed then return best end
  local c, s = centre_scale(cur, robust)
  return math.min(math.abs(x - c) / s / lambda[#cur], last, 1)
end

local function esd_reference(xs, p)
  local win, out = {}, {}
  for i, x in ipairs(xs) do
    win[#win + 1] = x
    if #win > p.window then table.remove(win, 1) end
    if #win < p.min_periods then
      out[i] = 0
    else
      out[i] = esd_score_naive(win, x, esd_steps(#win, p.max_anoms), p.robust, LAMBDA[p.alpha])
    end
  end
  return out
end

local function shesd_reference(xs, p)
  local win, out = {}, {}
  for i, x in ipairs(xs) do
    win[#win + 1] = {value = x, phase = (i - 1) % p.period}
    if #win > p.window then table.remove(win, 1) end
    if #win < 2 * p.period then
      out[i] = 0
    else
      local by_phase = {}
      for _, w in ipairs(win) do
        by_phase[w.phase] = by_phase[w.phase] or {}
        table.insert(by_phase[w.phase], w.value)
      end
      local med = {}
      for q, values in pairs(by_phase) do med[q] = median_of(values) end
      local resid = {}
      for j, w in ipairs(win) do resid[j] = w.value - med[w.phase] end
      local x_res = x - med[(i - 1) % p.period]
      out[i] = esd_score_naive(resid, x_res, esd_steps(#win, p.max_anoms), true, LAMBDA[p.alpha])
    end
  end
  return out
end

-- ---- Holt-Winters, the recursion written out ------------------------------------

-- Scores and one-step forecasts of additive Holt-Winters with period m
-- (1: no season) after a warm-up of p.warm values (2m by default).
local function hw_reference(xs, p)
  local m, warm = p.period, p.warm or 2 * p.period
  local level, trend, season, phase, msq = 0, 0, {}, 1, 0
  local scores, forecasts, buffer = {}, {}, {}
  local function forecast()
    return level + trend + (m > 1 and season[phase] or 0)
  end
  local function learn(x)
    local s = m > 1 and season[phase] or 0
    local base = level + trend
    local new_level = p.alpha * (x - s) + (1 - p.alpha) * base
    trend = p.beta * (new_level - level) + (1 - p.beta) * trend
    level = new_level
    if m > 1 then
      season[phase] = p.gamma * (x - base) + (1 - p.gamma) * s
      phase = phase % m + 1
    end
  end
  for i, x in ipairs(xs) do
    if #buffer < warm then
      buffer[#buffer + 1] = x
      scores[i] = 0
      if #buffer == warm then
        local block = m > 1 and m or warm // 2
        local first, second = 0, 0
        for j = 1, block do first = first + buffer[j]; second = second + buffer[block + j] end
        first, second = first / block, second / block
        level, trend = first, (second - first) / block
        for j = 1, m > 1 and m or 0 do season[j] = buffer[j] - first end
        local squares = 0
        for j = 1, warm do
          forecasts[j] = forecast()
          if j > block then squares = squares + (buffer[j] - forecasts[j]) ^ 2 end
          learn(buffer[j])
        end
        msq = squares / (warm - block)
      end
    else
      local f = forecast()
      forecasts[i] = f
      local e = x - f
      scores[i] = math.abs(e) / math.max(math.sqrt(msq), 1e-9 * math.abs(f), 1e-12)
      learn(x)
      msq = (1 - p.scale_alpha) * msq + p.scale_alpha * e * e
    end
  end
  return scores, forecasts
end

-- The period a holt_winters detector found, from its saved state
-- (holt_winters.c: u8 running, then u64 period), nil while warming up.
local function hw_period(d)
  local s = d:save()
  local at = state_at(s)
  if s:byte(at) == 0 then return nil end
  return (string.unpack("<i8", s, at + 1))
end

--=============================================================================
-- esd
--=============================================================================

-- Rosner's example (Technometrics 25(2), 1983), as the NIST/SEMATECH
-- e-Handbook's "Generalized ESD Test for Outliers" page runs it
-- (https://www.itl.nist.gov/div898/handbook/eda/section3/eda35h3.r): 54
-- values, at most 10 outliers, alpha 0.05, mean and standard deviation.
-- Its table (R_i, lambda_i):
--   1 3.118906 3.158794    6 2.848172 3.120128
--   2 2.942973 3.151430    7 2.279327 3.111796
--   3 3.179424 3.143890    8 2.310366 3.103243
--   4 2.810181 3.136165    9 2.101581 3.094456
--   5 2.815580 3.128247   10 2.067178 3.085425
-- so 3 outliers (R_3 > lambda_3, although R_1 < lambda_1). The values are
-- removed in the order 6.01, 5.42, 5.34, 4.64, -0.25, 4.30, 3.68, 3.59,
-- 0.68, 3.30 (checked with numpy). A value's score is max(R_i / lambda_i)
-- from its step on; each value is learned last into a window of exactly
-- the 54, so that its score is taken on that sample.
do
  local y = {-0.25, 0.68, 0.94, 1.15, 1.20, 1.26, 1.26, 1.34, 1.38, 1.43, 1.49, 1.49, 1.55,
    1.56, 1.58, 1.65, 1.69, 1.70, 1.76, 1.77, 1.81, 1.91, 1.94, 1.96, 1.99, 2.06, 2.09, 2.10,
    2.14, 2.15, 2.23, 2.24, 2.26, 2.35, 2.37, 2.40, 2.47, 2.54, 2.62, 2.64, 2.90, 2.92, 2.92,
    2.93, 3.21, 3.26, 3.30, 3.59, 3.68, 4.30, 4.64, 5.34, 5.42, 6.01}
  local R = {3.118906, 2.942973, 3.179424, 2.810181, 2.815580, 2.848172, 2.279327, 2.310366,
    2.101581, 2.067178}
  local L = {3.158794, 3.151430, 3.143890, 3.136165, 3.128247, 3.120128, 3.111796, 3.103243,
    3.094456, 3.085425}
  local order = {6.01, 5.42, 5.34, 4.64, -0.25, 4.30, 3.68, 3.59, 0.68, 3.30}
  local step = {}
  for i, v in ipairs(order) do step[v] = i end
  local function nist_score(i)
    local best = 0
    for j = i, 10 do best = math.max(best, R[j] / L[j]) end
    return best
  end
  local outliers = 0
  for j = 1, #y do
    local d = mw.detect.esd{window = 54, robust = false, max_anoms = 10.5 / 54, min_periods = 54}
    for i = 1, #y do if i ~= j then d:update(y[i]) end end
    local score = d:update(y[j])
    if score > 1 then outliers = outliers + 1 end
    if step[y[j]] then
      -- NIST prints 7 digits: the ratio of two agrees to 1e-6.
      close(score, nist_score(step[y[j]]), 1e-6, "Rosner's data, value " .. y[j])
    else
      assert(score <= nist_score(10) * (1 + 1e-6),
             "a value the test never reaches scores at most as the last removed")
    end
  end
  t.eq(outliers, 3, "Rosner's data: three outliers")
end

-- Against the naive test, robust and classic, on data with ties (values
-- rounded to quarters), spikes, and a stretch where most values are equal
-- (the MAD is 0 there and the robust test falls back on the standard
-- deviation). Tolerance: the critical values come from scipy, whose t
-- quantile is accurate to a few 1e-9 (tests/test_dist.c); ours to 1e-13.
do
  local s = mw.synth{n = 420, noise = 1, seed = 11, anomalies = {
    {kind = "spike", at = 100, size = 6}, {kind = "spike", at = 101, size = -5},
    {kind = "spike", at = 250, size = 9}, {kind = "level", at = 300, len = 30, size = 4}}}
  local xs = {}
  for i = 1, #s do xs[i] = math.floor(s[i] * 4) / 4 end
  for i = 340, 380 do xs[i] = i % 9 == 0 and 1.5 or 0.25 end
  for _, p in ipairs{
    {window = 60, max_anoms = 0.1, alpha = 0.05, robust = true, min_periods = 30},
    {window = 60, max_anoms = 0.2, alpha = 0.01, robust = false, min_periods = 10},
    {window = 25, max_anoms = 0.5, alpha = 0.05, robust = true, min_periods = 4},
  } do
    local got = to_table(mw.detect.esd(p):run(mw.series(xs)))
    all_close(got, esd_reference(xs, p), 1e-8,
              string.format("esd vs naive (window %d, robust %s)", p.window, p.robust))
  end
end

-- The contract, robust and classic, window full and not.
do
  local s = mw.synth{n = 900, noise = 2, level = 50, seed = 4, anomalies = 8}
  local xs = to_table(s)
  contract(function() return mw.detect.esd{window = 200} end, xs, {10, 29, 30, 199, 200, 777},
           "esd")
  contract(function() return mw.detect.esd{window = 100, robust = false, max_anoms = 0.3} end,
           xs, {5, 100, 450}, "esd classic")
end

-- Detection on noise with spikes of +-4 standard deviations. Measured
-- 0.95 (robust) and 0.95 (classic); zscore{window = 500}, the ideal on
-- Gaussian noise, measures 0.95 too.
do
  local cases = {}
  for seed = 1, 5 do cases[seed] = spiky(6000, 0, 1, 4, seed, 500) end
  local robust = detection_rate(function() return mw.detect.esd{} end, cases)
  local classic = detection_rate(function() return mw.detect.esd{robust = false} end, cases)
  print(string.format("esd detection rate: robust %.2f, classic %.2f", robust, classic))
  assert(robust >= 0.9, "esd detection rate " .. robust)
  assert(classic >= 0.9, "esd classic detection rate " .. classic)
end

-- Degenerate input: constant, constant with one spike, huge offsets, a
-- window longer than the data.
do
  local flat = mw.series.full(300, 7)
  local scores = mw.detect.esd{window = 100}:run(flat)
  all_finite(scores, "esd constant")
  t.eq(scores:max(), 0, "esd: a constant series scores 0")
  local spiked = mw.series.full(300, 7)
  spiked[200] = 8
  scores = mw.detect.esd{window = 100}:run(spiked)
  all_finite(scores, "esd constant with a spike")
  assert(scores[200] > 1, "a spike in a constant series is an outlier")
  t.eq(scores[201], 0, "and the constant values after it are not")
  local big = mw.synth{n = 400, level = 1e9, noise = 1e-3, seed = 2} -- 1e9 + noise
  all_finite(mw.detect.esd{window = 100, robust = false}:run(big), "esd at 1e9")
  all_finite(mw.detect.esd{window = 100}:run(big * 1e140), "esd at 1e149")
  local short = mw.synth{n = 50, seed = 3}
  local scores_short = mw.detect.esd{window = 1000}:run(short)
  all_finite(scores_short, "esd window longer than the data")
  t.eq(scores_short:slice(1, 29):max(), 0, "esd: 0 before min_periods")
  assert(scores_short:slice(30):max() > 0, "esd scores once min_periods are in")
end

-- Parameters and states.
do
  t.raises("window must be an integer in [4", mw.detect.esd, {window = 3})
  t.raises("window must be an integer", mw.detect.esd, {window = 10.5})
  t.raises("max_anoms must be a number in (0, 0.5]", mw.detect.esd, {max_anoms = 0})
  t.raises("max_anoms must be a number in (0, 0.5]", mw.detect.esd, {max_anoms = 0.6})
  t.raises("alpha must be a number in (0, 0.5]", mw.detect.esd, {alpha = 0})
  t.raises("alpha must be a number in (0, 0.5]", mw.detect.esd, {alpha = 0.7})
  t.raises("robust must be a boolean", mw.detect.esd, {robust = 1})
  t.raises("min_periods must be an integer in [4", mw.detect.esd, {min_periods = 3})
  t.raises("min_periods (60) must not exceed window (50)", mw.detect.esd,
           {window = 50, min_periods = 60})
  t.raises("unknown parameter 'period'", mw.detect.esd, {period = 3})
  local info = mw.detect.info("esd")
  t.eq(info.params[1].name, "window", "esd info")
  t.eq(info.params[2].default, 0.1, "esd max_anoms default")

  local d = mw.detect.esd{window = 20, min_periods = 5}
  for i = 1, 30 do d:update(i % 7) end
  corrupt(d, "esd")
  local s = d:save()
  local at = state_at(s)
  t.raises("window count out of range", mw.detect.load, forge(s, at, string.pack("<i8", 21)))
  t.raises("window value 3 is not finite", mw.detect.load,
           forge(s, at + 8 + 3 * 8, string.pack("<d", 1 / 0)))
  t.raises("unexpected bytes", mw.detect.load, forge(s, at, string.pack("<i8", 19)))
end

--=============================================================================
-- shesd
--=============================================================================

-- Against the naive S-H-ESD: phases from arrival order, residual = value
-- minus its phase's median in the window, robust ESD on the residuals.
-- Windows a multiple of the period (one phase changes per value) and not
-- (two change), data with ties and a stretch of equal residuals.
do
  local s = mw.synth{n = 300, period = 6, amplitude = 3, noise = 0.5, seed = 21, anomalies = {
    {kind = "spike", at = 90, size = 8}, {kind = "spike", at = 91, size = -6},
    {kind = "level", at = 200, len = 20, size = 5}}}
  local xs = {}
  for i = 1, #s do xs[i] = math.floor(s[i] * 8) / 8 end
  for i = 240, 260 do xs[i] = (i % 6) * 1.0 end
  for _, p in ipairs{
    {period = 6, window = 24, max_anoms = 0.1, alpha = 0.05},
    {period = 6, window = 31, max_anoms = 0.2, alpha = 0.01},
    {period = 6, window = 12, max_anoms = 0.5, alpha = 0.05},
    {period = 2, window = 9, max_anoms = 0.1, alpha = 0.05},
  } do
    local got = to_table(mw.detect.shesd(p):run(mw.series(xs)))
    all_close(got, shesd_reference(xs, p), 1e-8,
              string.format("shesd vs naive (period %d, window %d)", p.period, p.window))
  end
end

do
  local xs = to_table(mw.synth{n = 700, period = 24, noise = 0.3, seed = 8, anomalies = 6})
  contract(function() return mw.detect.shesd{period = 24} end, xs,
           {1, 47, 48, 95, 96, 97, 500}, "shesd")
  contract(function() return mw.detect.shesd{period = 24, window = 61, max_anoms = 0.3} end, xs,
           {50, 61, 62, 400}, "shesd window not a multiple")
end

-- Detection: spikes of +-5 noise deviations on a seasonal signal (amplitude
-- 5 noise deviations), periods 24 and 288. Measured 0.89 and
-- 0.97 (window 4 periods; 8 periods detect more at twice the cost).
do
  local cases24, cases288 = {}, {}
  for seed = 1, 5 do
    cases24[seed] = spiky(6000, 24, 0.2, 5, seed, 96)
    cases288[seed] = spiky(12000, 288, 0.2, 5, seed, 1152)
  end
  local r24 = detection_rate(function() return mw.detect.shesd{period = 24} end, cases24)
  local r288 = detection_rate(function() return mw.detect.shesd{period = 288} end, cases288)
  print(string.format("shesd detection rate: period 24 %.2f, period 288 %.2f", r24, r288))
  assert(r24 >= 0.85, "shesd detection rate, period 24: " .. r24)
  assert(r288 >= 0.92, "shesd detection rate, period 288: " .. r288)
  -- Without the seasonal step, the same spikes are lost in the season.
  local plain = detection_rate(function() return mw.detect.esd{window = 96} end, cases24)
  assert(plain < r24 - 0.3, "esd on the raw seasonal series does worse: " .. plain)
end

do
  local flat = mw.series.full(200, -3)
  local scores = mw.detect.shesd{period = 5}:run(flat)
  all_finite(scores, "shesd constant")
  t.eq(scores:max(), 0, "shesd: a constant series scores 0")
  local pattern = {}
  for i = 1, 200 do pattern[i] = (i % 5) * 2.0 end
  pattern[150] = pattern[150] + 1
  scores = mw.detect.shesd{period = 5}:run(mw.series(pattern))
  all_finite(scores, "shesd exact season")
  assert(scores[150] > 1, "a bump on an exact season is an outlier")
  local short = mw.synth{n = 30, period = 24, seed = 1}
  local scores_short = mw.detect.shesd{period = 24}:run(short)
  t.eq(scores_short:max(), 0, "shesd: 0 before two periods")
  local big = mw.synth{n = 300, period = 10, level = 1e9, amplitude = 1, noise = 1e-3, seed = 2}
  all_finite(mw.detect.shesd{period = 10}:run(big), "shesd at 1e9")
end

do
  t.raises("period is required", mw.detect.shesd, {})
  t.raises("period is required", mw.detect.shesd, {period = 1})
  t.raises("period must be an integer in [0", mw.detect.shesd, {period = -1})
  t.raises("window (20) must hold at least 2 periods (24)", mw.detect.shesd,
           {period = 12, window = 20})
  t.raises("window must be an integer", mw.detect.shesd, {period = 12, window = 30.5})
  t.raises("max_anoms must be a number in (0, 0.5]", mw.detect.shesd, {period = 4, max_anoms = 1})
  t.raises("alpha must be a number in (0, 0.5]", mw.detect.shesd, {period = 4, alpha = -0.1})
  t.raises("unknown parameter 'robust'", mw.detect.shesd, {period = 4, robust = true})
  t.eq(mw.detect.shesd{period = 7}.params.window, 0, "window 0 stands for 4 periods")

  local d = mw.detect.shesd{period = 4, window = 10}
  for i = 1, 7 do d:update(i) end
  corrupt(d, "shesd")
  local s = d:save()
  local at = state_at(s)
  t.raises("phase out of range", mw.detect.load, forge(s, at, string.pack("<i8", 4)))
  t.raises("phase 2 does not follow 7 values", mw.detect.load, forge(s, at, string.pack("<i8", 2)))
  t.raises("window count out of range", mw.detect.load, forge(s, at + 8, string.pack("<i8", 11)))
  t.raises("window value 0 is not finite", mw.detect.load,
           forge(s, at + 16, string.pack("<d", 0 / 0)))
  for i = 8, 30 do d:update(i) end
  s = d:save()
  t.eq(mw.detect.load(s):save(), s, "a full window loads")
end

--=============================================================================
-- holt_winters
--=============================================================================

-- The recursion against statsmodels: with the classic initialisation and
-- the default smoothing, its fitted values are the forecasts. Made by
-- (statsmodels 0.13.5, /usr/bin/python3):
--
--   import numpy as np
--   from statsmodels.tsa.holtwinters import ExponentialSmoothing
--   from statsmodels.tsa.exponential_smoothing.initialization import _initialization_simple
--   t = np.arange(70)
--   y = 10 + 0.05 * t + 3 * np.sin(2 * np.pi * t / 7) + ((t * 37) % 11 - 5) / 10
--   l0, b0, s0 = _initialization_simple(y, "add", "add", 7)
--   fit = ExponentialSmoothing(y, trend="add", seasonal="add", seasonal_periods=7,
--                              initialization_method="known", initial_level=l0,
--                              initial_trend=b0, initial_seasonal=s0).fit(
--       smoothing_level=0.1, smoothing_trend=0.0035, smoothing_seasonal=0.1, optimized=False)
--   print(", ".join(repr(v) for v in fit.fittedvalues))
do
  local fitted = {
    9.568367346938775, 12.425368478016335, 13.509968326553125, 11.286550496209692,
      9.17790906672117, 8.044873606124094, 8.01013836793169, 9.881049534556128,
      12.795304228247968, 13.932254918052836, 11.64631213159825, 9.59211019340056,
      8.398329199233004, 8.309158929962528, 10.337362286764579, 13.178633389446256,
      14.140822066697984, 12.039900137236078, 9.81083563815288, 8.691909182430944,
      8.780118853111123, 10.712629973114673, 13.606672444399518, 14.517440766441583,
      12.346125080584013, 10.188728787425426, 9.011122141648524, 9.035883984936708,
      11.12372541338526, 13.841215643738382, 14.835044257920138, 12.82667039372282,
      10.496292118377703, 9.383264568280175, 9.455970179757388, 11.447074026718113,
      14.234754881527067, 15.177310464776712, 13.09259664657258, 10.847935287996364,
      9.568159306907972, 9.812727982010834, 11.943496913281773, 14.556992395174799,
      15.570892870999991, 13.522683961583638, 11.118651752842117, 9.917208209644734,
      10.189909126947832, 12.223813053007719, 14.922091764499687, 15.775455846965176,
      13.888993844174237, 11.568303481317942, 10.199415846309138, 10.614478543092495,
      12.66680718633956, 15.205023116810107, 16.142435117459392, 14.275175725981418,
      11.806985894103446, 10.528434416897163, 10.84647914685728, 13.04463684093201,
      15.665710448046006, 16.440940494264314, 14.708170325295889, 12.212892798055494,
      10.778820983690725, 11.237724835026611}
  local y = {}
  for i = 0, 69 do
    y[i + 1] = 10 + 0.05 * i + 3 * math.sin(2 * math.pi * i / 7) + ((i * 37) % 11 - 5) / 10
  end
  local p = {period = 7, alpha = 0.1, beta = 0.0035, gamma = 0.1, scale_alpha = 0.02}
  local scores, forecasts = hw_reference(y, p)
  all_close(forecasts, fitted, 1e-12, "Holt-Winters forecasts vs statsmodels")
  local got = to_table(mw.detect.holt_winters{period = 7}:run(mw.series(y)))
  all_close(got, scores, 1e-12, "holt_winters vs the recursion")
  t.eq(got[14], 0, "warm-up: 2 periods score 0")
  assert(got[15] > 0, "scores start after 2 periods")
end

-- Against the recursion on longer data, other parameters, no season.
do
  local xs = to_table(mw.synth{n = 3000, period = 24, trend = 0.002, noise = 0.3, seed = 5,
                               anomalies = 10})
  for _, p in ipairs{
    {period = 24, alpha = 0.5, beta = 0.05, gamma = 0.2, scale_alpha = 0.1},
    {period = 24, alpha = 1, beta = 0, gamma = 0, scale_alpha = 1},
    {period = 1, warm = 100, alpha = 0.3, beta = 0.1, gamma = 0.1, scale_alpha = 0.05},
  } do
    local got = to_table(mw.detect.holt_winters{period = p.period, alpha = p.alpha, beta = p.beta,
      gamma = p.gamma, scale_alpha = p.scale_alpha, detect_len = p.warm or 2000}:run(mw.series(xs)))
    local want = hw_reference(xs, p)
    all_close(got, want, 1e-9, "holt_winters vs the recursion, period " .. p.period)
  end
end

-- Finding the period: synthetic seasons of 24, 288 and 7 (with a trend),
-- an alternating series (period 2), and series without any season (white
-- noise, a random walk, a trend) that must give period 1.
do
  local function found(s, params)
    local d = mw.detect.holt_winters(params or {})
    d:run(s)
    return hw_period(d)
  end
  for seed = 1, 5 do
    t.eq(found(mw.synth{n = 2500, period = 24, noise = 0.2, seed = seed}), 24, "period 24")
    t.eq(found(mw.synth{n = 2500, period = 24, noise = 1, seed = seed}), 24, "period 24, noise 1")
    t.eq(found(mw.synth{n = 2500, period = 288, noise = 0.1, seed = seed}), 288, "period 288")
    local p288 = found(mw.synth{n = 2500, period = 288, noise = 0.3, seed = seed})
    assert(math.abs(p288 - 288) <= 1, "period 288 in noise 0.3: " .. p288)
    t.eq(found(mw.synth{n = 2500, period = 7, trend = 0.01, noise = 0.3, seed = seed}), 7,
         "period 7 with a trend")
    local noise = mw.synth{n = 2500, noise = 1, seed = seed}
    t.eq(found(noise), 1, "white noise has no season")
    t.eq(found(noise:cumsum()), 1, "a random walk has no season")
    local alternating = {}
    for i = 1, 2500 do alternating[i] = (i % 2 == 0 and 1 or -1) + noise[i] * 0.5 end
    t.eq(found(mw.series(alternating)), 2, "alternating: period 2")
  end
  t.eq(found(mw.series.range(1, 2500)), 1, "a straight line has no season")
  t.eq(found(mw.synth{n = 2500, period = 600, noise = 0.1, seed = 1}), 1,
       "a period beyond max_period is not found")
  t.eq(found(mw.synth{n = 2500, period = 600, noise = 0.1, seed = 1},
             {max_period = 700, detect_len = 2400}), 600, "unless max_period covers it")
  t.eq(found(mw.synth{n = 1999, period = 24, seed = 1}), nil, "still warming up at 1999 values")
  -- The period found is the model's: from the end of the warm-up, the
  -- scores are those of the recursion with that period started on the
  -- same 2000 values.
  local s = mw.synth{n = 3000, period = 24, noise = 0.2, seed = 9, anomalies = 6}
  local got = to_table(mw.detect.holt_winters{}:run(s))
  local want = hw_reference(to_table(s), {period = 24, warm = 2000, alpha = 0.1, beta = 0.0035,
                                          gamma = 0.1, scale_alpha = 0.02})
  all_close(got, want, 1e-9, "holt_winters with the period found")
end

do
  local xs = to_table(mw.synth{n = 2600, period = 12, noise = 0.3, seed = 3, anomalies = 8})
  contract(function() return mw.detect.holt_winters{period = 12} end, xs, {1, 23, 24, 25, 1000},
           "holt_winters")
  contract(function() return mw.detect.holt_winters{max_period = 50, detect_len = 300} end, xs,
           {150, 299, 300, 301, 2000}, "holt_winters finding the period")
  contract(function() return mw.detect.holt_winters{period = 1, detect_len = 50, side = "up"} end,
           xs, {49, 50, 51}, "holt_winters without a season")
end

-- Detection: spikes of +-5 noise deviations on seasons of 24 and 288, the
-- period given and found; and synth's mixed anomalies (spikes of 8, level
-- shifts of 5, variance changes of 4 deviations).
-- Measured: 1.00 (24), 0.98 (288), 1.00 (found), 0.98 (mixed).
do
  local cases24, cases288, mixed = {}, {}, {}
  for seed = 1, 5 do
    cases24[seed] = spiky(6000, 24, 0.2, 5, seed, 2000)
    cases288[seed] = spiky(12000, 288, 0.2, 5, seed, 2000)
    local s, list = mw.synth{n = 8000, period = 24, noise = 0.2, anomalies = 12, seed = seed}
    mixed[seed] = {series = s, anomalies = list, warm = 48}
  end
  local r24 = detection_rate(function() return mw.detect.holt_winters{period = 24} end, cases24)
  local r288 = detection_rate(function() return mw.detect.holt_winters{period = 288} end, cases288)
  local found = detection_rate(function() return mw.detect.holt_winters{} end, cases24)
  local rmixed = detection_rate(function() return mw.detect.holt_winters{period = 24} end, mixed)
  print(string.format("holt_winters detection rate: period 24 %.2f, 288 %.2f, found %.2f, mixed %.2f",
                      r24, r288, found, rmixed))
  assert(r24 >= 0.95, "holt_winters detection rate, period 24: " .. r24)
  assert(r288 >= 0.93, "holt_winters detection rate, period 288: " .. r288)
  assert(found >= 0.95, "holt_winters detection rate, period found: " .. found)
  assert(rmixed >= 0.93, "holt_winters detection rate, mixed: " .. rmixed)
end

do
  local flat = mw.series.full(500, 3)
  for _, params in ipairs{{period = 10}, {period = 1, detect_len = 20}, {max_period = 20, detect_len = 60}} do
    local scores = mw.detect.holt_winters(params):run(flat)
    all_finite(scores, "holt_winters constant")
    t.eq(scores:max(), 0, "holt_winters: a constant series scores 0")
  end
  local d = mw.detect.holt_winters{max_period = 20, detect_len = 60}
  d:run(flat)
  t.eq(hw_period(d), 1, "a constant series has no season")
  local big = mw.synth{n = 600, period = 10, level = 1e9, noise = 1e-3, seed = 2}
  all_finite(mw.detect.holt_winters{period = 10}:run(big), "holt_winters at 1e9")
  all_finite(mw.detect.holt_winters{period = 10}:run(big * 1e140), "holt_winters at 1e149")
  local short = mw.synth{n = 900, period = 500, seed = 1}
  t.eq(mw.detect.holt_winters{period = 500}:run(short):max(), 0,
       "holt_winters: 0 before two periods")
  local up = mw.detect.holt_winters{period = 4, side = "up"}
  local down = mw.detect.holt_winters{period = 4, side = "down"}
  for i = 1, 40 do up:update(i % 4); down:update(i % 4) end
  assert(up:score(10) > 0 and up:score(-10) == 0, "side up")
  assert(down:score(-10) > 0 and down:score(10) == 0, "side down")
end

do
  t.raises("period must be an integer in [0", mw.detect.holt_winters, {period = -2})
  t.raises("alpha must be a number in (0, 1]", mw.detect.holt_winters, {alpha = 0})
  t.raises("beta must be a number in [0, 1]", mw.detect.holt_winters, {beta = 1.5})
  t.raises("gamma must be a number in [0, 1]", mw.detect.holt_winters, {gamma = -0.1})
  t.raises("scale_alpha must be a number in (0, 1]", mw.detect.holt_winters, {scale_alpha = 0})
  t.raises("side must be one of", mw.detect.holt_winters, {side = "left"})
  t.raises("max_period must be an integer in [2", mw.detect.holt_winters, {max_period = 1})
  t.raises("detect_len must be an integer in [2", mw.detect.holt_winters, {detect_len = 1})
  t.raises("acf_threshold must be a number in (0, 1]", mw.detect.holt_winters, {acf_threshold = 0})
  t.raises("detect_len (1000) must be at least 2 * max_period + 2 (1002)",
           mw.detect.holt_winters, {detect_len = 1000})
  t.raises("unknown parameter 'window'", mw.detect.holt_winters, {window = 3})
  mw.detect.holt_winters{period = 7, detect_len = 2} -- detect_len does not matter with a period

  local warming = mw.detect.holt_winters{period = 5}
  for i = 1, 7 do warming:update(i) end
  corrupt(warming, "holt_winters warming up")
  local s = warming:save()
  local at = state_at(s)
  t.raises("bad running flag 2", mw.detect.load, forge(s, at, "\2"))
  t.raises("warm-up count out of range", mw.detect.load, forge(s, at + 1, string.pack("<i8", 10)))
  t.raises("warm-up value 2 is not finite", mw.detect.load,
           forge(s, at + 9 + 16, string.pack("<d", -1 / 0)))

  local running = mw.detect.holt_winters{period = 5}
  for i = 1, 30 do running:update(i % 5) end
  corrupt(running, "holt_winters running")
  s = running:save()
  t.raises("period 4 does not match the parameter 5", mw.detect.load,
           forge(s, at + 1, string.pack("<i8", 4)))
  t.raises("phase out of range", mw.detect.load, forge(s, at + 9, string.pack("<i8", 5)))
  t.raises("negative scale", mw.detect.load, forge(s, at + 33, string.pack("<d", -1)))
  -- Level, trend, scale and season are running figures: extreme input
  -- overflows them (found by fuzzing, issue #12: a state saved after
  -- values 1e300 apart was refused by load), and such a state loads and
  -- continues alike.
  local extreme = mw.detect.holt_winters{period = 5}
  for i = 1, 30 do extreme:update(i % 5) end
  for _, x in ipairs({1e300, -1e300, 1e300, 3, -1e300, 2}) do extreme:update(x) end
  local again = mw.detect.load(extreme:save())
  t.eq(again:save(), extreme:save(), "holt_winters after overflow: saved as loaded")
  for i = 1, 10 do
    t.eq(t.same(again:update(i), extreme:update(i)), true, "holt_winters after overflow continues alike")
  end

  local found = mw.detect.holt_winters{max_period = 10, detect_len = 40}
  for i = 1, 50 do found:update(i % 3) end
  s = found:save()
  t.eq(hw_period(found), 3, "period 3 found")
  t.eq(mw.detect.load(s):save(), s, "a found period loads")
  t.raises("period out of range", mw.detect.load, forge(s, at + 1, string.pack("<i8", 11)))
end

--=============================================================================
-- the batch test: esd and shesd on a whole series (d:test)
--=============================================================================

-- The naive S-H-ESD on a whole series: phase = position modulo the period
-- (a NaN keeps its place and is left out), residual = value minus its
-- phase's median over the series, the robust naive test on all residuals.
local function shesd_batch_reference(xs, p)
  local by_phase = {}
  for i, x in ipairs(xs) do
    if x == x then
      local q = (i - 1) % p.period
      by_phase[q] = by_phase[q] or {}
      table.insert(by_phase[q], x)
    end
  end
  local med = {}
  for q, values in pairs(by_phase) do med[q] = median_of(values) end
  local resid = {}
  for i, x in ipairs(xs) do
    if x == x then resid[#resid + 1] = x - med[(i - 1) % p.period] end
  end
  local k = esd_steps(#resid, p.max_anoms)
  local out = {}
  for i, x in ipairs(xs) do
    out[i] = x == x and esd_score_naive(resid, x - med[(i - 1) % p.period], k, true,
                                        LAMBDA[p.alpha]) or NAN
  end
  return out
end

-- The naive generalised ESD on a whole series (NaN left out).
local function esd_batch_reference(xs, p)
  local finite = {}
  for _, x in ipairs(xs) do if x == x then finite[#finite + 1] = x end end
  local k = esd_steps(#finite, p.max_anoms)
  local out = {}
  for i, x in ipairs(xs) do
    out[i] = x == x and esd_score_naive(finite, x, k, p.robust, LAMBDA[p.alpha]) or NAN
  end
  return out
end

-- Rosner's 54 values (above) tested as a whole: NIST's three outliers,
-- and every score the streaming test's on a window of exactly these 54
-- values (the same sample, the same numbers: ==).
do
  local y = {-0.25, 0.68, 0.94, 1.15, 1.20, 1.26, 1.26, 1.34, 1.38, 1.43, 1.49, 1.49, 1.55,
    1.56, 1.58, 1.65, 1.69, 1.70, 1.76, 1.77, 1.81, 1.91, 1.94, 1.96, 1.99, 2.06, 2.09, 2.10,
    2.14, 2.15, 2.23, 2.24, 2.26, 2.35, 2.37, 2.40, 2.47, 2.54, 2.62, 2.64, 2.90, 2.92, 2.92,
    2.93, 3.21, 3.26, 3.30, 3.59, 3.68, 4.30, 4.64, 5.34, 5.42, 6.01}
  local params = {window = 54, robust = false, max_anoms = 10.5 / 54, min_periods = 54}
  t.eq(esd_steps(54, params.max_anoms), 10, "Rosner: k = 10")
  local d = mw.detect.esd(params)
  local scores, outliers = d:test(mw.series(y))
  t.eq(#scores, 54, "one score a value")
  t.eq(table.concat(outliers, ","), "52,53,54", "Rosner: NIST's three outliers, 5.34 5.42 6.01")
  close(scores[54], 3.179424 / 3.143890, 1e-6, "Rosner: 6.01 at R_3 / lambda_3")
  for j = 1, #y do
    local w = mw.detect.esd(params)
    for i = 1, #y do if i ~= j then w:update(y[i]) end end
    t.eq(scores[j], w:update(y[j]), "Rosner: batch == streaming on the 54, value " .. y[j])
  end
  -- The order of the values does not matter to a test of the whole sample.
  local shuffled, back = {}, {}
  for i = 1, 54 do shuffled[i] = y[(i * 17) % 54 + 1]; back[i] = (i * 17) % 54 + 1 end
  local again = d:test(mw.series(shuffled))
  for i = 1, 54 do t.eq(again[i], scores[back[i]], "Rosner shuffled " .. i) end
  all_close(to_table(scores), esd_batch_reference(y, {robust = false, max_anoms = 10.5 / 54,
                                                      alpha = 0.05}), 1e-8, "Rosner vs naive")
end

-- Against the naive test on whole series (the critical values above
-- cover samples of up to 64 values): noise with spikes, quantised values
-- (ties), robust and classic, two levels, with NaN in the series.
do
  for seed = 1, 4 do
    local s = mw.synth{n = 64, noise = 1, seed = 30 + seed, anomalies = {
      {kind = "spike", at = 10 + seed, size = 5}, {kind = "spike", at = 40, size = -7},
      {kind = "spike", at = 41, size = 4}}}
    local xs = to_table(s)
    if seed % 2 == 0 then
      for i = 1, #xs do xs[i] = math.floor(xs[i] * 2) / 2 end
    end
    for _, p in ipairs{
      {robust = true, max_anoms = 0.1, alpha = 0.05},
      {robust = false, max_anoms = 0.2, alpha = 0.05},
      {robust = true, max_anoms = 0.5, alpha = 0.01},
      {robust = false, max_anoms = 0.05, alpha = 0.01},
    } do
      local what = string.format("esd test vs naive (seed %d, robust %s, k %d)", seed, p.robust,
                                 esd_steps(64, p.max_anoms))
      local got, found = mw.detect.esd(p):test(mw.series(xs))
      local want = esd_batch_reference(xs, p)
      all_close(to_table(got), want, 1e-8, what)
      local listed = {}
      for i = 1, #want do if want[i] > 1 + 1e-8 then listed[#listed + 1] = i end end
      t.eq(table.concat(found, ","), table.concat(listed, ","), what .. ": outliers listed")
      if p.robust and p.max_anoms == 0.1 then
        assert(#found >= 2, what .. ": the large spikes are outliers")
      end
    end
  end
end

-- S-H-ESD against the naive one on whole series of 60 and 64 values.
do
  for seed = 1, 3 do
    local s = mw.synth{n = 60, period = 6, amplitude = 3, noise = 0.4, seed = 40 + seed,
                       anomalies = {{kind = "spike", at = 20 + seed, size = 6},
                                    {kind = "spike", at = 47, size = -5}}}
    local xs = to_table(s)
    for i = 1, #xs do xs[i] = math.floor(xs[i] * 8) / 8 end
    for _, p in ipairs{
      {period = 6, max_anoms = 0.1, alpha = 0.05},
      {period = 6, max_anoms = 0.3, alpha = 0.01},
      {period = 30, max_anoms = 0.1, alpha = 0.05},
    } do
      local got, found = mw.detect.shesd(p):test(mw.series(xs))
      all_close(to_table(got), shesd_batch_reference(xs, p), 1e-8,
                string.format("shesd test vs naive (seed %d, period %d)", seed, p.period))
      if p.period == 6 and p.alpha == 0.05 then
        local hit = {}
        for _, i in ipairs(found) do hit[i] = true end
        assert(hit[20 + seed] and hit[47], "shesd test: both spikes found, seed " .. seed)
      end
    end
  end
  local xs = to_table(mw.synth{n = 64, period = 4, noise = 0.3, seed = 50, anomalies = 3})
  xs[9], xs[30] = NAN, NAN
  local got = mw.detect.shesd{period = 4}:test(mw.series(xs))
  all_close(to_table(got), shesd_batch_reference(xs, {period = 4, max_anoms = 0.1, alpha = 0.05}),
            1e-8, "shesd test vs naive, NaN holding their places")
end

-- NaN: NaN out, and the other scores those of the series without them
-- (bit for bit). For shesd, a whole period of NaN is taken out, so that
-- the phases of the other values stay the same.
do
  local s = mw.synth{n = 3000, noise = 1, seed = 60, anomalies = 12}
  local xs = to_table(s)
  local holed, kept_at = {}, {}
  for i, x in ipairs(xs) do
    if i % 97 == 3 then holed[#holed + 1] = NAN end
    if i % 501 == 7 then holed[#holed + 1] = math.huge end
    holed[#holed + 1] = x
    kept_at[#holed] = i
  end
  for _, robust in ipairs{true, false} do
    local d = mw.detect.esd{robust = robust}
    local clean = d:test(s)
    local with_holes = d:test(mw.series(holed))
    for i = 1, #holed do
      if kept_at[i] then
        t.eq(with_holes[i], clean[kept_at[i]], "esd test: NaN left out of the sample, at " .. i)
      else
        assert(with_holes[i] ~= with_holes[i], "esd test: NaN in, NaN out")
      end
    end
  end
  local seasonal = to_table(mw.synth{n = 2400, period = 24, noise = 0.3, seed = 61, anomalies = 10})
  local gap, at = {}, {}
  for i, x in ipairs(seasonal) do
    if i == 24 * 40 + 1 then
      for _ = 1, 24 do gap[#gap + 1] = 0 / 0 end
    end
    gap[#gap + 1] = x
    at[#gap] = i
  end
  local d = mw.detect.shesd{period = 24}
  local clean = d:test(mw.series(seasonal))
  local holed_scores = d:test(mw.series(gap))
  for i = 1, #gap do
    if at[i] then
      t.eq(holed_scores[i], clean[at[i]], "shesd test: a period of NaN left out, at " .. i)
    else
      assert(holed_scores[i] ~= holed_scores[i], "shesd test: NaN in, NaN out")
    end
  end
end

-- The state is neither read nor changed: count, saved state and the
-- following scores are those of a detector that never ran a test.
do
  local xs = to_table(mw.synth{n = 1500, period = 24, noise = 0.3, seed = 70, anomalies = 8})
  local first = mw.series(table.move(xs, 1, 700, 1, {}))
  local rest = mw.series(table.move(xs, 701, 1500, 1, {}))
  for _, make in ipairs{
    function() return mw.detect.esd{window = 200} end,
    function() return mw.detect.esd{window = 100, robust = false} end,
    function() return mw.detect.shesd{period = 24} end,
  } do
    local d, fresh = make(), make()
    d:run(first)
    fresh:run(first)
    local count, saved, bytes = d:count(), d:save(), d:bytes()
    local a = d:test(rest)
    t.eq(d:count(), count, d.name .. " test: count unchanged")
    t.eq(d:save(), saved, d.name .. " test: state unchanged")
    t.eq(d:bytes(), bytes, d.name .. " test: memory unchanged")
    same(to_table(d:run(rest)), to_table(fresh:run(rest)), d.name .. " test: run afterwards")
    -- and the state does not enter the test: a fresh detector gives the same
    same(to_table(make():test(rest)), to_table(a), d.name .. " test: independent of the state")
  end
end

-- Detection: S-H-ESD on seasonal series of 8000 values (period 24,
-- amplitude 5 noise deviations) with 20 spikes of +-7 noise deviations a
-- series: the fraction of spikes the test calls outliers, and of other
-- values it calls outliers. Measured over 5 series: 1.00 found, 0 false
-- (of 39900); the plain esd test on the same series finds none. A test at
-- level 0.05 on 8000 values wants about 4.5 deviations after the noise:
-- spikes of 6 deviations measure 0.93 found, of 5, 0.71 (no false ones).
do
  local found, spikes, false_alarms, others, plain = 0, 0, 0, 0, 0
  for seed = 1, 5 do
    local c = spiky(8000, 24, 0.2, 7, seed, 0)
    local is_spike = {}
    for _, a in ipairs(c.anomalies) do is_spike[a.at] = true end
    local _, listed = mw.detect.shesd{period = 24}:test(c.series)
    local hit = {}
    for _, i in ipairs(listed) do
      hit[i] = true
      if not is_spike[i] then false_alarms = false_alarms + 1 end
    end
    for _, a in ipairs(c.anomalies) do
      spikes = spikes + 1
      if hit[a.at] then found = found + 1 end
    end
    others = others + #c.series - #c.anomalies
    local _, raw = mw.detect.esd{}:test(c.series)
    for _, i in ipairs(raw) do if is_spike[i] then plain = plain + 1 end end
  end
  local rate, false_rate = found / spikes, false_alarms / others
  print(string.format("shesd test: %.2f of the spikes found, %.5f of other values flagged, " ..
                      "plain esd test %.2f", rate, false_rate, plain / spikes))
  assert(rate >= 0.95, "shesd test detection rate " .. rate)
  assert(false_rate <= 0.001, "shesd test false alarms " .. false_rate)
  assert(plain / spikes < rate - 0.5, "esd without the seasonal step does worse")
end

-- Frames and timestamps as d:run; small and degenerate series; errors.
do
  local stamped = mw.synth{n = 200, start = 1700000000000, step = 60000, seed = 80}
  local scores = mw.detect.esd{}:test(stamped)
  t.eq(scores:time(200), stamped:time(200), "test keeps the input's timestamps")
  local f = mw.frame{timestamp = mw.series.range(0, 199) * 1000, value = stamped, other = stamped * 2}
  local by_frame = mw.detect.esd{}:test(f, "value")
  same(to_table(by_frame), to_table(scores), "test on a frame's column")
  t.eq(by_frame:time(200), 199000, "a frame's timestamp column becomes timestamps")
  t.raises("no column 'c'", function() mw.detect.esd{}:test(f, "c") end)
  t.raises("series or frame expected", function() mw.detect.esd{}:test({1, 2, 3}) end)

  local tiny, none = mw.detect.esd{}:test(mw.series{1, 100, NAN, 2})
  t.eq(tiny[1], 0, "fewer than 4 finite values: 0")
  t.eq(tiny[2], 0, "fewer than 4 finite values: 0 (even a far one)")
  assert(tiny[3] ~= tiny[3], "NaN among few values")
  t.eq(#none, 0, "no outlier listed")
  local empty, listed = mw.detect.esd{}:test(mw.series{})
  t.eq(#empty, 0, "an empty series")
  t.eq(#listed, 0, "an empty series has no outliers")
  local flat = mw.detect.esd{}:test(mw.series.full(100, 5))
  all_finite(flat, "esd test constant")
  t.eq(flat:max(), 0, "esd test: a constant series scores 0")
  local spiked = mw.series.full(100, 5)
  spiked[30] = 6
  local _, one = mw.detect.esd{}:test(spiked)
  t.eq(table.concat(one, ","), "30", "a spike in a constant series")
  local big = mw.synth{n = 500, level = 1e9, noise = 1e-3, seed = 2}
  all_finite(mw.detect.esd{robust = false}:test(big), "esd test at 1e9")
  all_finite(mw.detect.shesd{period = 10}:test(mw.series.full(100, -3)), "shesd test constant")

  local z = mw.detect.zscore{}
  t.raises("zscore has no batch test", function() z:test(stamped) end)
  t.raises("bad argument #1 to 'test' (zscore has no batch test)", function() z.test(z, stamped) end)
  t.raises("has no batch test", function() mw.thresh.constant{}:test(stamped) end)
  local sh = mw.detect.shesd{period = 24}
  t.raises("the series (47 values) must hold at least 2 periods (48 values)",
           function() sh:test(stamped:slice(1, 47)) end)
  t.eq(#sh:test(stamped:slice(1, 48)), 48, "two periods are enough")
end

print("detect_seasonal: ok")
