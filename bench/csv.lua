-- csv.lua: the streaming CSV source on a generated numeric CSV
-- (timestamp + 4 value columns), against plain Lua in the same run.
--
--   moonwatch bench/csv.lua [MiB] [path]
--
-- Generates the file once (1024 MiB by default, in /tmp), then:
--   1. reads it all through mw.csv(path, {batch = 65536}), summing every
--      value column: MB/s, and the process's peak RSS (VmHWM);
--   2. iterates rows in a Lua for loop (mw.csv records) over the first
--      2,000,000 rows: rows/s;
--   3. the same rows through io.lines and string.match + tonumber in
--      plain Lua: rows/s.
local MIB = tonumber(arg and arg[1]) or 1024
local path = arg and arg[2] or string.format("/tmp/moonwatch-bench-%dmib.csv", MIB)
local ROWS_LUA = 2000000

local function size_of(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local n = f:seek("end")
  f:close()
  return n
end

if (size_of(path) or 0) < MIB * 2^20 then
  io.stderr:write(string.format("generating %s (%d MiB)...\n", path, MIB))
  local f = assert(io.open(path, "wb"))
  f:write("timestamp,v1,v2,v3,v4\n")
  local target, written, i = MIB * 2^20, 0, 0
  local t0 = 1704067200
  local buf = {}
  while written < target do
    for _ = 1, 10000 do
      i = i + 1
      local s = t0 + i
      local line = string.format("%04d-%02d-%02dT%02d:%02d:%02dZ,%.6f,%.6f,%.3f,%d\n",
        2024, 1 + (s // 2592000) % 12, 1 + (s // 86400) % 28, (s // 3600) % 24, (s // 60) % 60, s % 60,
        math.sin(i * 0.001), (i % 1000) / 7, i * 0.5, i % 97)
      buf[#buf + 1] = line
      written = written + #line
    end
    f:write(table.concat(buf))
    buf = {}
  end
  f:close()
  -- Measure in a fresh process: generating grew this one's heap, and the
  -- peak RSS reported below must be the reader's alone.
  local cmd = string.format("%q %q %d %q", arg[-1], arg[0], MIB, path)
  local ok = os.execute(cmd)
  os.exit(ok and 0 or 1)
end
local bytes = size_of(path)

local function peak_rss_kib()
  local f = io.open("/proc/self/status")
  local text = f:read("a")
  f:close()
  return tonumber(text:match("VmHWM:%s*(%d+)"))
end

local function wall()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("a"))
  p:close()
  return t
end

-- 1. batches
local t0 = wall()
local sums, rows = {0, 0, 0, 0}, 0
for b in mw.csv(path, {batch = 65536, progress = false}) do
  sums[1] = sums[1] + b.v1:sum()
  sums[2] = sums[2] + b.v2:sum()
  sums[3] = sums[3] + b.v3:sum()
  sums[4] = sums[4] + b.v4:sum()
  rows = rows + #b
  b:release()
end
local dt = wall() - t0
local rss = peak_rss_kib()

-- 2. records in a Lua loop
local t1 = os.clock()
local acc, n = 0, 0
for r in mw.csv(path, {progress = false}):take(ROWS_LUA) do
  acc = acc + r.v1 + r.v4
  n = n + 1
end
local rec = os.clock() - t1

-- 3. plain Lua
local t2 = os.clock()
local acc2, n2 = 0, 0
local first = true
for line in io.lines(path) do
  if first then first = false else
    local ts, a, _, _, d = line:match("^([^,]*),([^,]*),([^,]*),([^,]*),([^,]*)$")
    acc2 = acc2 + tonumber(a) + tonumber(d)
    n2 = n2 + 1
    if n2 == ROWS_LUA then break end
  end
end
local plain = os.clock() - t2
assert(n == n2 and math.abs(acc - acc2) < 1e-6 * math.abs(acc2), "both read the same rows")

print(string.format("csv: %s, %.0f MiB, %d rows", path, bytes / 2^20, rows))
print(string.format("  batch(65536), 4 columns summed:  %8.1f MB/s  (%.2f s)   target 200 MB/s: %s",
                    bytes / dt / 1e6, dt, bytes / dt / 1e6 >= 200 and "met" or "NOT met"))
print(string.format("  peak RSS of the process:         %8.1f MiB             target 64 MiB: %s",
                    rss / 1024, rss / 1024 < 64 and "met" or "NOT met"))
print(string.format("  records in a Lua for loop:       %8.2f M rows/s (%d rows)", n / rec / 1e6, n))
print(string.format("  io.lines + string.match:         %8.2f M rows/s   ratio %.2fx",
                    n2 / plain / 1e6, plain / rec))
