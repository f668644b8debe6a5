-- memory.lua: finding the memory hog of a detection job.
--
--   scripts/run examples/memory.lua [rows]
--
-- The same job written twice: score a metric with a z-score detector and
-- count the anomalies. The first version loads the whole CSV into memory
-- and runs the detector over it; the second streams the file in batches
-- of 16384 rows, the detector carrying its state from batch to batch. Both
-- give the same anomalies. The line-by-line memory profile of each shows
-- where the bytes go, exactly (from the accounting allocator, not RSS);
-- then the peaks side by side. Every temporary is released as soon as it
-- is used (a series left for the collector is memory too: try removing a
-- release and watch its line in the profile).
local rows = math.tointeger(tonumber(arg and arg[1]) or 1000000)
local path = os.tmpname() .. ".csv"

-- A synthetic metric with a few spikes, written to a CSV file once.
do
  local s = mw.synth{n = rows, period = 288, noise = 0.3, anomalies = 12, seed = 7,
                     start = 1700000000000, step = 60000}
  local out = assert(io.open(path, "w"))
  out:write("timestamp,value\n")
  for i = 1, #s do out:write(string.format("%d,%.6f\n", s:time(i), s[i])) end
  out:close()
  s:release()
end

-- Version 1: everything at once.
local function all_at_once()
  local reader <close> = mw.csv(path, {batch = rows})
  local frame = reader()                                -- the whole file
  local scores = mw.detect.zscore{window = 1000}:run(frame)
  local mask = scores:gt(4)
  local anomalies = mask:sum()
  mask:release(); scores:release(); frame:release()
  return anomalies
end

-- Version 2: batches, one detector carrying its state.
local function in_batches()
  local detector = mw.detect.zscore{window = 1000}
  local anomalies = 0
  for batch in mw.csv(path, {batch = 16384}) do
    local scores = detector:run(batch)                  -- same numbers as one run
    local mask = scores:gt(4)
    anomalies = anomalies + mask:sum()
    mask:release(); scores:release(); batch:release()
  end
  detector:release()
  return anomalies
end

local function profile(name, fn)
  collectgarbage(); collectgarbage(); mw.gc.collect()
  mw.mem.reset_peak()
  print(string.format("\n== %s: the profile ==", name))
  local prof, anomalies = mw.mem.profile(fn)
  return {name = name, anomalies = anomalies, peak = prof.peak - prof.start.total}
end

local a = profile("all at once", all_at_once)
local b = profile("in batches", in_batches)
os.remove(path)

print(string.format("\n%d rows; peak memory above the start of each version:", rows))
for _, r in ipairs{a, b} do
  print(string.format("  %-12s %6.1f MiB   (%d anomalies)", r.name, r.peak / 2^20, r.anomalies))
end
assert(a.anomalies == b.anomalies, "both versions find the same anomalies")
print(string.format("batches use %.0f times less memory, for the same answer", a.peak / b.peak))
