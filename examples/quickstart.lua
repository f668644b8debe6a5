-- quickstart.lua: a first detection job with what moonwatch has today.
--
--   scripts/run examples/quickstart.lua [data.csv]
--
-- Reads a labelled NAB series with the streaming CSV reader into a frame
-- of native columns (8 bytes a value), scores every sample with a z-score
-- detector against the previous day (in C, no per-sample Lua loop),
-- reports the most anomalous moments and whether they fall in
-- the labelled window, and shows where the memory went: Lua's heap and
-- the native heap, counted to the byte.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local path = arg and arg[1] or here .. "/data/art_daily_jumpsup.csv"
local windows_path = path:gsub("%.csv$", ".windows.csv")

local function format_time(ms)
  local secs = ms // 1000
  local days, rem = secs // 86400, secs % 86400
  local z = days + 719468            -- civil date from days (Howard Hinnant)
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format("%04d-%02d-%02d %02d:%02d:%02d", y, m, d,
                       rem // 3600, rem % 3600 // 60, rem % 60)
end

local function read_windows(file)
  local windows = {}
  local f = io.open(file, "r")
  if not f then return windows end
  f:read("l")
  for line in f:lines() do
    local s, e = line:match("^([^,]+),([^,]+)$")
    windows[#windows + 1] = {s, e}
  end
  f:close()
  return windows
end

collectgarbage()
mw.mem.resetpeak()
local before = mw.mem.stats()

-- The whole file as one frame: the CSV reader streams it in chunks and
-- writes the numbers straight into the columns (timestamps as epoch ms).
local frame = mw.csv(path, {batch = 65536})()   -- one batch: 4032 rows
local values, stamps = frame.value, frame.timestamp
local n = #values
print(string.format("read %d samples from %s", n, path))
print(values)

-- z-score of each sample against the mean and deviation of the previous
-- day (288 samples at 5-minute steps): a streaming detector written in C,
-- run over the whole column in one C loop (the same numbers as calling
-- detector:update(x) sample by sample).
local window = 288
local detector = mw.detect.zscore{window = window, min_periods = window}
local scores = detector:run(frame)

-- The most anomalous moments, one per hour at most.
local order = {}
for i = window + 1, n do order[#order + 1] = i end
table.sort(order, function(a, b) return scores[a] > scores[b] end)
local windows = read_windows(windows_path)
local function in_window(ts)
  for _, w in ipairs(windows) do
    if ts >= w[1] and ts <= w[2] then return true end
  end
  return false
end

print("\ntop anomalies (z-score against the previous day):")
print("  timestamp            value      score  labelled window")
local shown, taken, hits = 0, {}, 0
for _, i in ipairs(order) do
  local stamp = format_time(math.tointeger(stamps[i]))
  local hour = stamp:sub(1, 13)
  if not taken[hour] then
    taken[hour] = true
    local inside = in_window(stamp)
    if inside then hits = hits + 1 end
    print(string.format("  %s  %9.3f  %9.2f  %s", stamp, values[i], scores[i],
                        #windows > 0 and (inside and "yes" or "no") or "-"))
    shown = shown + 1
    if shown == 5 then break end
  end
end
if #windows > 0 then
  print(string.format("%d of the top %d fall inside the labelled window %s .. %s",
                      hits, shown, windows[1][1], windows[1][2]))
end

-- Where the memory went.
local s = mw.mem.stats()
print("\nmemory (exact bytes from the accounting allocator):")
print(string.format("  native heap: %9d bytes  (%d series and a detector of %d bytes; %.1f bytes a sample)",
                    s.native - before.native, s.objects.series.count - before.objects.series.count,
                    detector:bytes(), (s.native - before.native) / n))
print(string.format("  Lua heap:    %9d bytes", s.lua - before.lua))
print(string.format("  peak total:  %9d bytes", s.peak))

-- Releasing is explicit and immediate: the bytes come back now.
for _, x in ipairs{frame, values, stamps, scores, detector} do x:release() end
local after = mw.mem.stats()
print(string.format("after release: native heap back to %d bytes (%+d)",
                    after.native, after.native - before.native))
