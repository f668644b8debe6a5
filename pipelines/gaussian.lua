-- pipelines/gaussian.lua: the windowed Gaussian baseline.
--
-- Each value's distance from the mean of the values before it, in
-- standard deviations (mw.detect.zscore over a sliding window), mapped
-- to [0, 1) as z / (1 + z): 0.75 is three standard deviations. This is
-- the "windowed Gaussian" baseline of the Numenta Anomaly Benchmark, a
-- yardstick for other pipelines: `moonwatch eval --pipeline gaussian`.
--
-- Parameters: window (values in the sliding window, default 288: a day
-- of 5-minute samples) and sigmas (the distance that is an anomaly,
-- default 4). p:save() is the detector's state; new(params, state)
-- continues from it.

-- The module, also when a stock lua5.4 requires this file (no global mw).
local mw = require "moonwatch"

return {
  name = "gaussian",
  summary = "windowed Gaussian: |x - mean| / std over a sliding window",
  params = {window = 288, sigmas = 4},
  new = function(params, state)
    assert(math.type(params.window) == "integer" and params.window >= 2,
           "window must be an integer >= 2")
    assert(type(params.sigmas) == "number" and params.sigmas > 0, "sigmas must be > 0")
    local detector = state and mw.detect.load(state)
                     or mw.detect.zscore{window = params.window, min_periods = params.window}
    local p = {threshold = params.sigmas / (1 + params.sigmas)}
    function p:run(values)
      local z = detector:run(values)
      local score = z / (z + 1)
      z:release()
      return score
    end
    function p:save() return detector:save() end
    function p:release() detector:release() end
    return p
  end,
}
