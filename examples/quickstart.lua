-- quickstart.lua: a first detection job.
--
--   scripts/run examples/quickstart.lua [data.csv [labels.json]]
--
-- Runs moonwatch's default pipeline (the one `moonwatch detect` uses) over
-- a real series of the Numenta Anomaly Benchmark: the CPU of an AWS EC2
-- instance, 4032 samples at 5-minute steps, with one labelled anomaly
-- window. Prints the anomalies found with their timestamps, says which fall
-- in the labelled window, scores the result as NAB would, writes a plot
-- (quickstart.svg, in the current directory) and shows the memory used.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local path = arg and arg[1] or here .. "/data/ec2_cpu_utilization_825cc2.csv"
local labels_path = arg and arg[2] or here .. "/data/labels.json"
local name = path:match("[^/]+$")

mw.mem.resetpeak()
local t0 = mw.time.now()

-- The whole file as one frame of native columns (timestamps as epoch ms).
local frame = mw.csv(path, {batch = 65536})()
local values, stamps = frame.value, frame.timestamp
print(string.format("%s: %d samples from %s to %s", name, #values,
                    mw.time.format(stamps[1]), mw.time.format(stamps[#stamps])))

-- The default pipeline: the likelihood of each value's z-score, and new
-- extremes beyond the running range (see pipelines/default.lua). It scores
-- each value before learning it, in one pass of C loops; NaN during its
-- warm-up (the first day).
local default = require "moonwatch.pipelines.default"
local pipeline = default.new(default.params)
local scores = pipeline:run(values, stamps)
local flags = scores:ge(pipeline.threshold)

-- The labelled windows of this file, if the labels know it.
local windows = {}
local ok, labels = pcall(mw.nab.labels, labels_path)
if ok then windows = labels[name] or {} end
local function in_window(t)
  for _, w in ipairs(windows) do
    if t >= w[1] and t <= w[2] then return true end
  end
  return false
end

print(string.format("\nanomalies (score >= %g):", pipeline.threshold))
print("  timestamp              value    score  labelled window")
local found, inside = 0, 0
for i = 1, #values do
  if flags[i] == 1 then
    found = found + 1
    local hit = in_window(stamps[i])
    if hit then inside = inside + 1 end
    print(string.format("  %s  %8.3f  %7.4f  %s", mw.time.format(stamps[i]), values[i],
                        scores[i], #windows > 0 and (hit and "yes" or "no") or "-"))
  end
end
for _, w in ipairs(windows) do
  print(string.format("labelled window: %s .. %s", mw.time.format(w[1]), mw.time.format(w[2])))
end
if #windows > 0 then
  print(string.format("%d of %d anomalies fall inside it", inside, found))
  -- NAB's score for this one file: 100 is a detection at the window's
  -- start and nothing else, 0 a detector that never fires.
  local r = mw.nab.score({{name = name, score = scores, time = stamps, windows = windows}},
                         {threshold = pipeline.threshold})
  print(string.format("NAB standard score for this file: %.1f (windows found %d of %d, false positives %d)",
                      r.score, r.tp, r.windows, r.fp))
end

-- A picture: the series, the scores, the threshold, the anomalies and the
-- labelled window.
mw.plot.svg{
  value = values, time = stamps, score = scores, anomalies = flags,
  threshold = pipeline.threshold, windows = windows,
  title = name .. ": moonwatch's default pipeline", file = "quickstart.svg",
}
print("\nplot written to quickstart.svg")

-- Where the time and memory went: Lua's heap and the native heap, counted
-- to the byte by one accounting allocator.
local s = mw.mem.stats()
print(string.format("%.3f s; peak memory %.2f MiB (Lua heap %.0f KiB, native heap %.0f KiB now)",
                    mw.time.now() - t0, s.peak / 1048576, s.lua / 1024, s.native / 1024))

-- Release is explicit and immediate.
for _, x in ipairs{frame, values, stamps, scores, flags} do x:release() end
pipeline:release()
