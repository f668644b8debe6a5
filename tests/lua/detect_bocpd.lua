-- detect_bocpd.lua: mw.detect.bocpd (Bayesian online change points)
-- against a naive Lua implementation of Adams & MacKay's recursion, on
-- level shifts, and through the detector protocol (update == run, score
-- before update, save/load, NaN, constant input, scale, errors).
local t = require "helper"

-- ---- the reference --------------------------------------------------

-- log Gamma(x) for x > 0: Lanczos' approximation (g = 7, 9 terms),
-- accurate to about 1e-15, independent of the C library's lgamma.
local LANCZOS = {0.99999999999980993, 676.5203681218851, -1259.1392167224028,
  771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7}
local function lgamma(x)
  if x < 0.5 then
    return math.log(math.pi / math.abs(math.sin(math.pi * x))) - lgamma(1 - x)
  end
  x = x - 1
  local a, tt = LANCZOS[1], x + 7.5
  for i = 1, 8 do a = a + LANCZOS[i + 1] / (x + i) end
  return 0.5 * math.log(2 * math.pi) + (x + 0.5) * math.log(tt) - tt + math.log(a)
end

-- The Student t density with nu degrees of freedom, centre m, scale s.
local function student_pdf(x, nu, m, s)
  local u = (x - m) / s
  return math.exp(lgamma((nu + 1) / 2) - lgamma(nu / 2)) / (math.sqrt(nu * math.pi) * s)
         * (1 + u * u / nu) ^ (-(nu + 1) / 2)
end

local DEFAULTS = {lambda = 250, lag = 5, max_run = 500, min_periods = 30, standardize = true,
                  mu0 = 0, kappa0 = 0.1, alpha0 = 0.1, beta0 = 0.1}

local function with_defaults(p)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(p or {}) do o[k] = v end
  return o
end

-- The recursion as the paper writes it, in plain probabilities: a run
-- of length r holds the last r values and its own Normal-Gamma
-- posterior (mu, kappa, alpha, beta); a new value either starts a run
-- (hazard H, prior predictive) or extends one ((1 - H), its predictive).
-- Runs longer than max_run are dropped and the rest renormalised. With
-- standardize the prior is moved to the data's units (mean + std * mu0,
-- std^2 * beta0), which is the same model as standardising the data.
-- Returns the scores P(run length <= lag), 0 for the first min_periods.
local function naive_bocpd(xs, params)
  local p = with_defaults(params)
  local H = 1 / p.lambda
  local prior = {mu = p.mu0, kappa = p.kappa0, alpha = p.alpha0, beta = p.beta0}
  if p.standardize then
    local n, sum, ss = p.min_periods, 0, 0
    for i = 1, n do sum = sum + xs[i] end
    local mean = sum / n
    for i = 1, n do ss = ss + (xs[i] - mean) ^ 2 end
    local std = math.max(math.sqrt(ss / (n - 1)), 1e-9 * math.abs(mean), 2.2250738585072014e-308)
    prior.mu = mean + std * p.mu0
    prior.beta = p.beta0 * std * std
  end
  local function predictive(th, x)
    return student_pdf(x, 2 * th.alpha, th.mu,
                       math.sqrt(th.beta * (th.kappa + 1) / (th.alpha * th.kappa)))
  end
  local function learn(th, x)
    return {mu = (th.kappa * th.mu + x) / (th.kappa + 1), kappa = th.kappa + 1,
            alpha = th.alpha + 0.5,
            beta = th.beta + th.kappa * (x - th.mu) ^ 2 / (2 * (th.kappa + 1))}
  end
  local probs, thetas, out = {}, {}, {}
  for i, x in ipairs(xs) do
    local new_probs, new_thetas = {}, {}
    new_probs[1] = H * predictive(prior, x)          -- the run probabilities sum to 1
    new_thetas[1] = learn(prior, x)
    for r = 1, math.min(#probs, p.max_run - 1) do
      new_probs[r + 1] = (1 - H) * probs[r] * predictive(thetas[r], x)
      new_thetas[r + 1] = learn(thetas[r], x)
    end
    local total, recent = 0, 0
    for r = 1, #new_probs do total = total + new_probs[r] end
    for r = 1, #new_probs do
      new_probs[r] = new_probs[r] / total
      if r <= p.lag then recent = recent + new_probs[r] end
    end
    probs, thetas = new_probs, new_thetas
    out[i] = i <= p.min_periods and 0 or recent
  end
  return out
end

local function close(a, b, rel)
  return math.abs(a - b) <= rel * math.max(math.abs(a), math.abs(b)) + 1e-300
end

-- ---- against the reference ------------------------------------------

local ref_series = mw.synth{n = 300, level = 10, noise = 1, amplitude = 0, seed = 5, anomalies = {
  {kind = "level", at = 100, len = 80, size = 4},
  {kind = "spike", at = 250, size = 6},
  {kind = "variance", at = 200, len = 30, size = 3},
}}
local ref_values = ref_series:totable()
local ref_cases = {
  {},                                       -- defaults, untruncated (max_run 500 > 300)
  {max_run = 40, lag = 3},                  -- truncated
  {standardize = false, mu0 = 10, kappa0 = 2, alpha0 = 3, beta0 = 5, lambda = 50,
   lag = 1, min_periods = 2, max_run = 60},
  {lambda = 1000, lag = 10, kappa0 = 1, alpha0 = 1, beta0 = 1, mu0 = 0.5, min_periods = 10},
}
for ci, params in ipairs(ref_cases) do
  local want = naive_bocpd(ref_values, params)
  local got = mw.detect.bocpd(params):run(ref_series)
  local above = 0
  for i = 1, #want do
    if got[i] > 0.5 then above = above + 1 end
    -- Measured: within 8e-14 in all four cases.
    assert(close(got[i], want[i], 1e-9), string.format(
      "case %d, value %d: bocpd %.17g, reference %.17g", ci, i, got[i], want[i]))
  end
  assert(above > 0, "case " .. ci .. ": some score above 0.5 (the shift)")
end

-- ---- level shifts: detection rate and delay -------------------------

-- mw.synth level shifts of 3 noise standard deviations, each starting
-- and ending (two change points), on white noise; 3 seeds, 30 changes.
-- A change is detected when the highest score in the W values from it
-- exceeds the 99th percentile of the scores away from every change.
local W = 10
local detected, total, delays = 0, 0, {}
for seed = 1, 3 do
  local s, list = mw.synth{n = 20000, noise = 1, amplitude = 0, seed = seed, anomalies = {
    {kind = "level", at = 2000, len = 1000, size = 3},
    {kind = "level", at = 5000, len = 1500, size = -3},
    {kind = "level", at = 8000, len = 700, size = 3},
    {kind = "level", at = 11000, len = 2000, size = -3},
    {kind = "level", at = 15000, len = 900, size = 3},
  }}
  local scores = mw.detect.bocpd():run(s)
  local changes, near = {}, {}
  for _, a in ipairs(list) do
    changes[#changes + 1] = a.at
    changes[#changes + 1] = a.at + a.len
  end
  for _, at in ipairs(changes) do for i = at, at + W - 1 do near[i] = true end end
  local away = {}
  for i = 31, #scores do
    assert(scores[i] >= 0 and scores[i] <= 1, "a probability")
    if not near[i] then away[#away + 1] = scores[i] end
  end
  local p99 = mw.series(away):quantile(0.99)
  for _, at in ipairs(changes) do
    local best, best_at = -1, nil
    for i = at, at + W - 1 do
      if scores[i] > best then best, best_at = scores[i], i end
    end
    total = total + 1
    if best > p99 then detected = detected + 1 end
    delays[#delays + 1] = best_at - at
  end
end
table.sort(delays)
local rate = detected / total
local median_delay, worst_delay = delays[#delays // 2 + 1], delays[#delays]
-- Measured: 30 of 30 detected, delay median 3 and at most 4 (default
-- lag 5: the score peaks once the new level is confirmed, before lag
-- values have passed).
assert(rate >= 0.9, "detection rate of level shifts " .. rate)
assert(median_delay <= 4, "median delay " .. median_delay)
assert(worst_delay <= 6, "worst delay " .. worst_delay)

-- ---- the protocol ---------------------------------------------------

local s, anomalies = mw.synth{n = 3000, level = 100, noise = 2, amplitude = 0, seed = 11,
                              anomalies = 6}
local small = {max_run = 100, lag = 3}

-- update in a loop == run, and score(x) == what update(x) returns.
for _, params in ipairs{{}, small} do
  local a, b = mw.detect.bocpd(params), mw.detect.bocpd(params)
  local ran = b:run(s)
  for i = 1, #s do
    local peek = a:score(s[i])
    local got = a:update(s[i])
    t.eq(peek, got, "score == update at " .. i)
    t.eq(got, ran[i], "update == run at " .. i)
  end
  t.eq(a:count(), #s, "values learned")
end

-- save at several points (during the warm-up, at its end, later), load,
-- continue: the same numbers as an uninterrupted run.
local whole = mw.detect.bocpd(small):run(s)
for _, cut in ipairs{0, 1, 10, 29, 30, 31, 150, 1500} do
  local d = mw.detect.bocpd(small)
  if cut > 0 then d:run(s:slice(1, cut)) end
  local copy = mw.detect.load(d:save())
  t.eq(copy:count(), cut, "values learned survive save")
  local rest = copy:run(s:slice(cut + 1))
  for i = 1, #rest do t.eq(rest[i], whole[cut + i], "after load at " .. cut .. ", value " .. i) end
  local cloned = d:clone():run(s:slice(cut + 1))
  for i = 1, #cloned do t.eq(cloned[i], whole[cut + i], "clone at " .. cut) end
end

-- reset: back to a fresh detector, same numbers.
do
  local d = mw.detect.bocpd(small)
  d:run(s)
  d:reset()
  t.eq(d:count(), 0, "reset count")
  local again = d:run(s)
  for i = 1, #s do t.eq(again[i], whole[i], "after reset " .. i) end
end

-- NaN is skipped (NaN score, no state change), in and after the warm-up.
do
  local values = s:totable()
  local holed = {}
  local nan_at = {[5] = true, [700] = true, [701] = true}
  for i, v in ipairs(values) do
    holed[#holed + 1] = v
    if nan_at[i] then holed[#holed + 1] = 0 / 0 end
  end
  local got = mw.detect.bocpd(small):run(mw.series(holed))
  local k = 0
  for i = 1, #got do
    if got[i] ~= got[i] then
      assert(holed[i] ~= holed[i], "NaN score only for NaN input")
    else
      k = k + 1
      t.eq(got[i], whole[k], "score after skipped NaN, value " .. k)
    end
  end
  t.eq(k, #s, "every finite value scored")
  local d = mw.detect.bocpd(small)
  d:run(s:slice(1, 100))
  local nan_score = d:update(0 / 0)
  assert(nan_score ~= nan_score, "update(NaN) is NaN")
  t.eq(d:count(), 100, "NaN not learned")
end

-- Constant input (no spread): finite scores in [0, 1]; a step after it
-- is a change.
for _, level in ipairs{0, 5, -1e6, 1e-300} do
  local flat = mw.series.full(600, level)
  local scores = mw.detect.bocpd():run(flat)
  for i = 1, #scores do
    assert(scores[i] >= 0 and scores[i] <= 1, "constant " .. level .. ": score " .. scores[i])
  end
  local step = mw.series.full(700, level)
  for i = 601, 700 do step[i] = level + 1 + math.abs(level) * 0.01 end
  local stepped = mw.detect.bocpd():run(step)
  for i = 1, #stepped do assert(stepped[i] >= 0 and stepped[i] <= 1, "finite after a step") end
  local peak = 0
  for i = 601, 610 do peak = math.max(peak, stepped[i]) end
  assert(peak > 0.9, "a step after constant " .. level .. " is a change: " .. peak)
end

-- Any scale: standardising makes the scores (nearly) scale-free, and
-- extreme magnitudes stay finite.
do
  local base = mw.detect.bocpd():run(s)
  for _, factor in ipairs{1e-200, 1e-3, 1e6, 1e200} do
    local scaled = mw.detect.bocpd():run(s * factor)
    for i = 1, #s do
      assert(close(scaled[i], base[i], 1e-6), string.format(
        "scale %g, value %d: %.17g vs %.17g", factor, i, scaled[i], base[i]))
    end
  end
  local wild = {}
  for i = 1, 400 do
    wild[i] = (i % 3 == 0 and 1.7e308) or (i % 3 == 1 and -1.7e308) or 5e-324 * i
  end
  for _, params in ipairs{{}, {standardize = false}, {min_periods = 2}} do
    local scores = mw.detect.bocpd(params):run(mw.series(wild))
    for i = 1, #scores do assert(scores[i] >= 0 and scores[i] <= 1, "extreme value " .. i) end
  end
end

-- More run lengths than data, and a warm-up longer than the data.
do
  local short = s:slice(1, 200)
  local a = mw.detect.bocpd{max_run = 1000000}:run(short)
  local b = mw.detect.bocpd{max_run = 201}:run(short)
  for i = 1, #short do t.eq(a[i], b[i], "no truncation either way, value " .. i) end
  local c = mw.detect.bocpd{min_periods = 1000}:run(short)
  for i = 1, #short do t.eq(c[i], 0, "warm-up longer than the data") end
end

-- Memory is O(max_run): 7 doubles a run length, 1 a warm-up value.
t.eq(mw.detect.bocpd{max_run = 1000}:bytes() - mw.detect.bocpd{max_run = 500}:bytes(),
     7 * 500 * 8, "bytes per run length")
t.eq(mw.detect.bocpd{min_periods = 130}:bytes() - mw.detect.bocpd{min_periods = 30}:bytes(),
     100 * 8, "bytes per warm-up value")

-- ---- errors -----------------------------------------------------------

-- Out of memory at init: a clean error, nothing kept.
do
  t.fullgc()
  local before = mw.mem.stats().native
  mw.mem.budget(mw.mem.stats().total + 1000000)
  t.raises("memory limit exceeded", mw.detect.bocpd, {max_run = 1000000})
  mw.mem.budget(false)
  t.fullgc()
  t.eq(mw.mem.stats().native, before, "native bytes after a failed init")
end

local bad = {
  {{lambda = 1}, "lambda must be a number in (1, "},
  {{lambda = 0.5}, "lambda must be a number"},
  {{lag = 0}, "lag must be an integer in [1, "},
  {{lag = 2.5}, "lag must be an integer"},
  {{max_run = 1}, "max_run must be an integer in [2, "},
  {{max_run = 1e7}, "max_run must be an integer"},
  {{min_periods = 1}, "min_periods must be an integer in [2, "},
  {{standardize = 1}, "standardize must be a boolean"},
  {{mu0 = 1e101}, "mu0 must be a number"},
  {{mu0 = 0 / 0}, "mu0 must be a number"},
  {{kappa0 = 0}, "kappa0 must be a number in (0, "},
  {{alpha0 = -1}, "alpha0 must be a number in (0, "},
  {{beta0 = 0}, "beta0 must be a number in (0, "},
  {{beta0 = 1 / 0}, "beta0 must be a number"},
  {{lag = 5, max_run = 5}, "lag (5) must be less than max_run (5)"},
  {{lag = 600}, "lag (600) must be less than max_run (500)"},
  {{window = 10}, "unknown parameter 'window'"},
}
for _, case in ipairs(bad) do
  t.raises(case[2], mw.detect.bocpd, case[1])
end

-- Corrupt state: a flipped byte anywhere, a cut, a longer string.
do
  local d = mw.detect.bocpd(small)
  d:run(s:slice(1, 500))
  local saved = d:save()
  for _, at in ipairs{#saved // 2, #saved - 20, 40} do
    local flipped = saved:sub(1, at - 1) .. string.char(saved:byte(at) ~ 0x10) .. saved:sub(at + 1)
    t.raises("bad detector state", mw.detect.load, flipped)
  end
  t.raises("bad detector state", mw.detect.load, saved:sub(1, #saved - 9))
  t.raises("bad detector state", mw.detect.load, saved .. "x")
  local warm = mw.detect.bocpd(small)
  warm:run(s:slice(1, 10))
  local w = warm:save()
  local at = #w // 2
  t.raises("checksum", mw.detect.load,
           w:sub(1, at - 1) .. string.char(w:byte(at) ~ 0xff) .. w:sub(at + 1))
end

-- Forged states with a valid checksum (blob.c's, redone here): every
-- count and value load reads is checked.
do
  local checksum = t.reseal   -- body .. its checksum
  -- The container's head: magic, version, name, 9 parameters, count.
  local head_len = 4 + 1 + 1 + #"bocpd" + 1 + 9 * 8 + 8
  local function split(saved) return saved:sub(1, head_len), saved:sub(head_len + 1, #saved - 8) end

  local d = mw.detect.bocpd(small)
  d:run(s:slice(1, 300))
  local head, state = split(d:save())
  local same = mw.detect.load(checksum(head .. state))
  t.eq(same:run(s:slice(301, 400))[100], whole[400], "a re-checksummed state loads")

  local n_warm, centre, scale, len, at = string.unpack("<I8<d<d<I8", state)
  t.eq(n_warm, 30, "warm-up count in the state"); t.eq(len, 100, "run lengths in the state")
  local weights_at = at
  local means_at, betas_at = at + 8 * len, at + 16 * len
  local function patch(pos, fmt, v)
    return checksum(head .. state:sub(1, pos - 1) .. string.pack(fmt, v) ..
                    state:sub(pos + #string.pack(fmt, v)))
  end
  local cases = {
    {patch(1, "<I8", 31), "warm-up count out of range"},
    {patch(25, "<I8", 101), "run lengths out of range"},
    {patch(25, "<I8", 0), "no run length"},
    {patch(25, "<I8", 99), "unexpected bytes"},
    {patch(17, "<d", 0), "scale out of range"},
    {patch(17, "<d", -1), "scale out of range"},
    {patch(9, "<d", 0 / 0), "centre is not a finite number"},
    {patch(weights_at + 8, "<d", 1 / 0), "log-weight is not a finite number"},
    {patch(means_at, "<d", 1e250), "mean out of range"},
    {patch(betas_at + 80, "<d", -1), "beta out of range"},
    {patch(betas_at, "<d", 0), "beta out of range"},
    {patch(betas_at, "<d", 1e305), "beta out of range"},
    {checksum(head .. state:sub(1, #state - 4)), "truncated"},
  }
  for _, case in ipairs(cases) do t.raises(case[2], mw.detect.load, case[1]) end

  local warm = mw.detect.bocpd(small)
  warm:run(s:slice(1, 10))
  local whead, wstate = split(warm:save())
  t.eq(string.unpack("<I8", wstate), 10, "warm-up count while warming")
  t.raises("warm-up value is not a finite number", mw.detect.load,
           checksum(whead .. wstate:sub(1, 8 + 8 * 4) .. string.pack("<d", 0 / 0) ..
                    wstate:sub(8 + 8 * 5 + 1)))
  t.raises("truncated", mw.detect.load, checksum(whead .. wstate:sub(1, #wstate - 8)))
end

print(string.format("detect_bocpd: ok (level shifts: %d of %d detected, delay median %d, max %d)",
                    detected, total, median_delay, worst_delay))
