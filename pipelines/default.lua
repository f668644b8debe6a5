-- pipelines/default.lua: moonwatch's default detection pipeline.
--
-- Two signals, each value scored before it is learned (streaming: a
-- score uses only the rows up to its own):
--
-- 1. How unusual is the value for its recent past? Its z-score against
--    the previous `window` values (mw.detect.zscore), squashed into
--    [0, 1) as z / (1 + z), goes through Numenta's anomaly likelihood
--    (mw.thresh.likelihood, NAB's log scale): the likelihood learns what
--    scores are usual for this series, so the output means "equally
--    surprising" on any series, whatever its scale or noise. Squashing
--    first keeps a single huge z-score from wrecking the likelihood's
--    fitted distribution.
-- 2. Is it beyond everything seen so far? A value more than `tolerance`
--    times the range beyond the running minimum or maximum
--    (mw.detect.range) scores 1, whatever the likelihood says: Numenta's
--    "spatial anomaly" rule.
--
-- A row is an anomaly when its score reaches 0.5 (the likelihood's
-- 0.99999, or a new extreme). The first `warmup` rows (a day of
-- 5-minute samples) get no score (NaN): both signals are still learning.
--
-- p:save() keeps all three detectors' states and the rows seen, and
-- new(params, state) continues from them exactly (the stream workers'
-- checkpoints, docs/scaling.md).
--
-- On the 41 series of ../shared/data/nab, `moonwatch eval` gives NAB
-- scores of 72.3 (standard), 70.5 (reward_low_FP_rate) and 74.8
-- (reward_low_FN_rate); chosen on nothing but general defaults, and
-- stable around them: window 288..all history gives 71.2..72.3, tolerance
-- 0.02..0.05 gives 71.4..72.3 (docs/PERFORMANCE.md has the table).

-- The module, also when a stock lua5.4 requires this file (no global mw).
local mw = require "moonwatch"

return {
  name = "default",
  summary = "likelihood of the windowed z-score, plus new extremes beyond the range",
  params = {
    window = 1000,        -- values in the z-score's sliding window (0: all history)
    tolerance = 0.05,     -- excess beyond the running range, as a fraction of it, that is an anomaly
    threshold = 0.5,      -- the score that makes an anomaly
    warmup = 288,         -- rows learned before the first score (NaN until then)
  },
  new = function(params, state)
    if math.type(params.window) ~= "integer" or (params.window ~= 0 and params.window < 2) then
      error("window must be 0 (all history) or an integer >= 2", 0)
    end
    if not (params.tolerance >= 0) then error("tolerance must be >= 0", 0) end
    if math.type(params.warmup) ~= "integer" or params.warmup < 1 then
      error("warmup must be an integer >= 1", 0)
    end
    local z, likelihood, range
    local seen = 0          -- rows scored so far, across batches
    if state then
      local ok, magic, n, zs, ls, rs = pcall(string.unpack, "<c4i8s4s4s4", state)
      if not ok or magic ~= "MWP1" then error("not a saved state of the default pipeline", 0) end
      seen = n
      z, likelihood, range = mw.detect.load(zs), mw.thresh.load(ls), mw.detect.load(rs)
    else
      z = mw.detect.zscore{window = params.window, min_periods = 30}
      likelihood = mw.thresh.likelihood{output = "log"}
      range = mw.detect.range{min_periods = params.warmup}
    end
    local p = {threshold = params.threshold}

    function p:run(values)
      local zs = z:run(values)
      local squashed = zs / (zs + 1)
      local lik = likelihood:run(squashed)
      local excess = range:run(values)
      local beyond = excess:gt(params.tolerance)
      -- 1 where the value is beyond the range, else the likelihood.
      local score = lik + beyond * (1 - lik)
      for _, s in ipairs{zs, squashed, lik, excess, beyond} do s:release() end
      -- No opinion while warming up: the range and the likelihood are
      -- still being learned.
      for i = 1, math.min(#score, params.warmup - seen) do score[i] = 0 / 0 end
      seen = seen + #score
      return score
    end

    function p:save()
      return string.pack("<c4i8s4s4s4", "MWP1", seen, z:save(), likelihood:save(), range:save())
    end

    function p:release()
      z:release(); likelihood:release(); range:release()
    end
    return p
  end,
}
