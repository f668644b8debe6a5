-- quickstart.lua: a first detection job with what moonwatch has today.
--
--   scripts/run examples/quickstart.lua [data.csv]
--
-- Reads a labelled NAB series into native lists (a 16-byte tagged value
-- per sample in the native heap, no Lua table per row), scores it with a
-- streaming z-score against the previous day, reports the most anomalous
-- moments and whether they fall in the labelled window, and shows where
-- the memory went: Lua's heap and the native heap, counted to the byte.
local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local path = arg and arg[1] or here .. "/data/art_daily_jumpsup.csv"
local windows_path = path:gsub("%.csv$", ".windows.csv")

local function read_csv(file)
  local f = assert(io.open(file, "r"))
  local header = f:read("l")
  assert(header == "timestamp,value", file .. ": expected a timestamp,value header, got " .. tostring(header))
  local stamps, values = mw.list(), mw.list()
  local row = 1
  for line in f:lines() do
    row = row + 1
    local ts, v = line:match("^([^,]+),([^,]+)$")
    local x = tonumber(v)
    if not x then error(string.format("%s:%d: not a number: %q", file, row, tostring(v))) end
    stamps:append(ts)
    values:append(x)
  end
  f:close()
  return stamps, values
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

local stamps, values = read_csv(path)
local n = #values
print(string.format("read %d samples from %s", n, path))

-- Streaming z-score: each sample against the mean and deviation of the
-- previous `window` samples (one day at 5-minute steps), kept with
-- running sums, so each step is O(1).
local window = 288
local scores = mw.list.rep(n, 0.0)
local sum, sumsq = 0.0, 0.0
for i = 1, n do
  local x = values[i]
  if i > window then
    local mean = sum / window
    local var = sumsq / window - mean * mean
    local sd = math.sqrt(var > 1e-12 and var or 1e-12)
    scores[i] = math.abs(x - mean) / sd
    local old = values[i - window]
    sum, sumsq = sum - old, sumsq - old * old
  end
  sum, sumsq = sum + x, sumsq + x * x
end

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
  local hour = stamps[i]:sub(1, 13)
  if not taken[hour] then
    taken[hour] = true
    local inside = in_window(stamps[i])
    if inside then hits = hits + 1 end
    print(string.format("  %s  %9.3f  %9.2f  %s", stamps[i], values[i], scores[i],
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
print(string.format("  native heap: %9d bytes  (%d lists, %d strings; %.1f bytes a sample)",
                    s.native - before.native, s.objects.list.count - before.objects.list.count,
                    s.objects.str.count - before.objects.str.count,
                    (s.native - before.native) / n))
print(string.format("  Lua heap:    %9d bytes", s.lua - before.lua))
print(string.format("  peak total:  %9d bytes", s.peak))

-- Releasing is explicit and immediate: the bytes come back now.
stamps:release(); values:release(); scores:release()
local after = mw.mem.stats()
print(string.format("after release: native heap back to %d bytes (%+d)",
                    after.native, after.native - before.native))
