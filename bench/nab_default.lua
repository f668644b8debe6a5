-- nab_default.lua: the default pipeline (pipelines/default.lua) on the NAB
-- corpus: the normalised score of each of NAB's three profiles (one
-- corpus-wide threshold each, optimised by mw.nab.score), the score at the
-- pipeline's own threshold, and the wall time of the whole run (read every
-- CSV, run the pipeline, score), against the windowed-Gaussian baseline
-- (zscore{window = 288}) run the same way in the same process.
--
--   moonwatch bench/nab_default.lua [nab-dir] [pipeline-file]
--
-- nab-dir holds data/ and labels/combined_windows.json (default
-- ../shared/data/nab); the pipeline defaults to pipelines/default.lua next
-- to this script's directory.
local NAB = arg and arg[1] or "../shared/data/nab"
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local PIPE = arg and arg[2] or (here .. "/../pipelines/default.lua")

local labels_path = NAB .. "/labels/combined_windows.json"
local f = io.open(labels_path)
if not f then
  print("no " .. labels_path .. ": NAB benchmark skipped")
  return
end
f:close()

local spec = dofile(PIPE)
local params = {}
for k, v in pairs(spec.params) do params[k] = v end

-- Wall seconds, on a monotonic clock.
local now = mw.time.now

local profiles = {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}

-- make(): an object with :run(values, time) -> scores
local function corpus(make)
  local t0 = now()
  local L = mw.nab.labels(labels_path)
  local names = {}
  for k in pairs(L) do names[#names + 1] = k end
  table.sort(names)
  local runs = {}
  for _, name in ipairs(names) do
    local frame = mw.csv(NAB .. "/data/" .. name, {batch = 1 << 20})()
    local p = make()
    runs[#runs + 1] = {name = name, score = p:run(frame.value, frame.timestamp),
                       time = frame.timestamp, windows = L[name]}
    if p.release then p:release() end
  end
  local out = {}
  for _, prof in ipairs(profiles) do out[prof] = mw.nab.score(runs, {profile = prof}) end
  return out, now() - t0, runs
end

local base, base_time = corpus(function()
  local d = mw.detect.zscore{window = 288, min_periods = 288}
  return {run = function(_, v) return d:run(v) end, release = function() d:release() end}
end)
local res, wall, runs = corpus(function() return spec.new(params) end)

print(string.format("NAB, %d series: pipeline '%s' (%s)", #runs, spec.name, PIPE))
print(string.format("  %-20s %10s %10s %12s", "profile", "pipeline", "baseline", "threshold"))
for _, prof in ipairs(profiles) do
  print(string.format("  %-20s %10.2f %10.2f %12.6g", prof, res[prof].score, base[prof].score,
                      res[prof].threshold))
end
local fixed = mw.nab.score(runs, {profile = "standard", threshold = spec.new(params).threshold})
print(string.format("  standard at the pipeline's threshold %g: %.2f", params.threshold, fixed.score))
print(string.format("  time of the whole run: %.3f s (baseline %.3f s, ratio %.2f)",
                    wall, base_time, wall / base_time))
