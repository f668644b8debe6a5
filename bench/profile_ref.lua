-- profile_ref.lua: the reference detection script of the --mem-profile
-- overhead benchmark (bench/mem_profile.lua runs it with and without the
-- profiler). bench/profile_ref.py does the same work in Python.
--
--   moonwatch [--mem-profile=FILE] bench/profile_ref.lua [repeats] [csv]
--
-- Each repeat reads the NAB series with mw.csv into a frame, scores it
-- with a z-score detector against the previous day, collects the samples
-- scoring over 3 into Lua tables and builds a histogram of the values.
local repeats = tonumber(arg and arg[1]) or 50
local path = arg and arg[2] or "examples/data/art_daily_jumpsup.csv"
local total_anomalies, total_bins = 0, 0
for _ = 1, repeats do
  local frame = mw.csv(path, {batch = 65536})()
  local detector = mw.detect.zscore{window = 288, min_periods = 288}
  local scores = detector:run(frame)
  local values = frame.value
  local anomalies = {}
  for i = 1, #scores do
    local score = scores[i]
    if score == score and score > 3 then
      anomalies[#anomalies + 1] = {index = i, value = values[i], score = score}
    end
  end
  local hist = {}
  for i = 1, #values do
    local bin = math.floor(values[i] / 10)
    hist[bin] = (hist[bin] or 0) + 1
  end
  for _ in pairs(hist) do total_bins = total_bins + 1 end
  total_anomalies = total_anomalies + #anomalies
  scores:release()
  frame:release()
end
print(string.format("%d anomalies, %d bins", total_anomalies, total_bins))
