-- quickstart.lua: a first detection job with what moonwatch has today.
--
--   scripts/run examples/quickstart.lua [data.csv]
--
-- Reads a labelled NAB series into a native series (8 bytes a sample,
-- with its timestamps), scores every sample with a z-score against the
-- previous day computed by rolling-window kernels in C (no per-sample
-- Lua loop), reports the most anomalous moments and whether they fall in
-- the labelled window, and shows where the memory went: Lua's heap and
-- the native heap, counted to the byte.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local path = arg and arg[1] or here .. "/data/art_daily_jumpsup.csv"
local windows_path = path:gsub("%.csv$", ".windows.csv")

-- "2014-04-01 00:05:00" -> epoch milliseconds (UTC).
local function parse_time(text)
  local y, mo, d, h, mi, se = text:match("^(%d+)-(%d+)-(%d+) (%d+):(%d+):(%d+)")
  if not y then return nil end
  -- Days from the civil date (Howard Hinnant's algorithm), no os.time.
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60000 + tonumber(se) * 1000
end

local function format_time(ms)
  local secs = ms // 1000
  local days, rem = secs // 86400, secs % 86400
  local z = days + 719468
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

-- The CSV reader with batching arrives with the streaming sources; until
-- then a few lines of Lua read the file into a series.
local function read_csv(file)
  local f = assert(io.open(file, "r"))
  local header = f:read("l")
  assert(header == "timestamp,value", file .. ": expected a timestamp,value header, got " .. tostring(header))
  local values = mw.series{}
  local row = 1
  for line in f:lines() do
    row = row + 1
    local ts, v = line:match("^([^,]+),([^,]+)$")
    local x, t = tonumber(v), ts and parse_time(ts)
    if not x or not t then error(string.format("%s:%d: cannot read %q", file, row, line)) end
    values:append(x, t)
  end
  f:close()
  return values
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

local values = read_csv(path)
local n = #values
print(string.format("read %d samples from %s", n, path))
print(values)

-- z-score of each sample against the mean and deviation of the previous
-- day (288 samples at 5-minute steps): three kernels and a few
-- element-wise operations, each one C loop over the whole series.
local window = 288
local mean = values:rolling(window):mean():shift(1)
local std = values:rolling(window):std():shift(1)
local scores = ((values - mean) / std):abs():fillna(0)

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
  local stamp = format_time(values:time(i))
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
print(string.format("  native heap: %9d bytes  (%d series; %.1f bytes a sample)",
                    s.native - before.native, s.objects.series.count - before.objects.series.count,
                    (s.native - before.native) / n))
print(string.format("  Lua heap:    %9d bytes", s.lua - before.lua))
print(string.format("  peak total:  %9d bytes", s.peak))

-- Releasing is explicit and immediate: the bytes come back now.
for _, x in ipairs{values, mean, std, scores} do x:release() end
local after = mw.mem.stats()
print(string.format("after release: native heap back to %d bytes (%+d)",
                    after.native, after.native - before.native))
