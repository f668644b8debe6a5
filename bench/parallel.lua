-- parallel.lua: what --jobs buys on this machine.
--
--     scripts/bench parallel          (moonwatch bench/parallel.lua MOONWATCH)
--
-- Writes a corpus of 16 synthetic series of 100,000 five-minute samples
-- (a daily cycle, noise, five anomalies each) with NAB-style labels around
-- the anomalies, then times `moonwatch detect DIR --out OUT --jobs N` and
-- `moonwatch eval --data DIR --labels L --jobs N` for N = 1, 2 (and 4:
-- more runtimes than cores), wall time, best of 3, and checks that every
-- N gives byte-identical outputs. The speed-up is against N = 1.
local bin = assert(arg[1], "usage: parallel.lua MOONWATCH")
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "/data/synthetic'"))
local N_SERIES, N_ROWS = 16, 100000
local labels = {}
for k = 1, N_SERIES do
  local start = 1400000000000
  local s, anomalies = mw.synth{n = N_ROWS, period = 288, amplitude = 10, level = 50, noise = 1,
                                anomalies = 5, seed = k, start = start, step = 300000}
  local name = string.format("synthetic/series_%02d.csv", k)
  local fh = assert(io.open(dir .. "/data/" .. name, "w"))
  fh:write("timestamp,value\n")
  local times = s:times()
  local buf = {}
  for i = 1, #s do
    buf[#buf + 1] = mw.time.format(times[i]) .. "," .. string.format("%.6g", s[i])
    if #buf == 8192 then fh:write(table.concat(buf, "\n"), "\n"); buf = {} end
  end
  if #buf > 0 then fh:write(table.concat(buf, "\n"), "\n") end
  fh:close()
  local windows = {}
  for _, a in ipairs(anomalies) do
    local from = math.max(1, a.at - 50)
    local to = math.min(N_ROWS, a.at + (a.len > 0 and a.len or 1) + 50)
    windows[#windows + 1] = string.format('["%s.000000", "%s.000000"]', mw.time.format(times[from]),
                                          mw.time.format(times[to]))
  end
  labels[#labels + 1] = string.format('"%s": [%s]', name, table.concat(windows, ", "))
  s:release()
end
local fh = assert(io.open(dir .. "/labels.json", "w"))
fh:write("{", table.concat(labels, ",\n"), "}\n")
fh:close()

local function timed(cmd)
  local best = math.huge
  for _ = 1, 3 do
    local t0 = mw.time.now()
    assert(os.execute(cmd .. " >/dev/null"), cmd)
    best = math.min(best, mw.time.now() - t0)
  end
  return best
end

print(string.format("parallel: %d series x %d rows, default pipeline, wall time best of 3", N_SERIES, N_ROWS))
print(string.format("%-8s %5s %9s %8s", "command", "jobs", "seconds", "speed-up"))
for _, what in ipairs{"detect", "eval"} do
  local base
  for _, jobs in ipairs{1, 2, 4} do
    local out = string.format("%s/out_%s_%d", dir, what, jobs)
    local cmd
    if what == "detect" then
      cmd = string.format("%q detect %q --out %q --jobs %d --quiet", bin, dir .. "/data", out, jobs)
    else
      cmd = string.format("%q eval --data %q --labels %q --results %q --jobs %d --quiet", bin,
                          dir .. "/data", dir .. "/labels.json", out, jobs)
    end
    local t = timed(cmd)
    base = base or t
    print(string.format("%-8s %5d %9.3f %7.2fx", what, jobs, t, base / t))
    if jobs > 1 then
      assert(os.execute(string.format("diff -r %q %q >/dev/null", out:gsub("_%d+$", "_1"), out)),
             what .. " --jobs " .. jobs .. " differs from --jobs 1")
    end
  end
end
print("outputs identical for every --jobs")
os.execute("rm -rf '" .. dir .. "'")
